"""The connect page works from a keyboard alone: Tab from the top reaches Connect, every
stop on the way shows where focus is, and Enter connects."""
import pytest
from playwright.sync_api import expect

from .support import sign_in_as

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || el.getAttribute("aria-label") || "").trim(),
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && box.left < innerWidth && box.top < innerHeight,
  };
}"""


@pytest.mark.browser
def test_tab_to_connect_and_press_enter(live_server, seed, new_context):
    base = live_server.url
    _, code = seed.event()
    ada, _ = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"], contacts={"email": "ada@example.org"})
    _, signin = seed.person(code, "Björn Løvås", answers=["3D printing"])
    page = new_context().new_page()
    sign_in_as(page, base, signin)
    page.goto(f"{base}/B/{ada}")
    expect(page.locator(".connected-banner")).to_have_count(0)

    stops = []
    for _ in range(20):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        stops.append(stop)
        assert stop["outline"], f"no visible focus outline on {stop}"
        assert stop["onScreen"], f"focused element is off screen: {stop}"
        if stop["tag"] == "button" and stop["text"] == "Connect":
            break
    else:
        pytest.fail(f"Tab never reached the Connect button; stops: {stops}")
    assert stops[0]["text"] == "Skip to content", f"the first Tab stop should be the skip link, not {stops[0]}"

    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("You're connected.")
    expect(page.locator(".connected-banner")).to_be_visible()
    expect(page.get_by_role("link", name="ada@example.org")).to_be_visible()
    assert new_context.errors == [], "\n".join(new_context.errors)
