"""Getting back in, as a person who lost their sign-in does it in a real browser: signed out,
"I've been here before", their address, the e-mail (written to the outbox: no mail server
is set), its link, Continue, and the same follow-up list as before."""
import glob
import os
import re
from email import policy
from email.parser import BytesParser

import pytest
from playwright.sync_api import expect

from kithmeet.mail import worker

from .support import PHONE, sign_in_as

MET = ("Bo Lindqvist", "Chidi Nwosu")


def run_mail_worker_once(live_server):
    """What `flask --app app send-mail` does: send what is due, here into instance/outbox/."""
    with live_server.app.app_context():
        assert worker.send_due().sent == 1
    [path] = glob.glob(os.path.join(live_server.app.instance_path, "outbox", "*.eml"))
    with open(path, "rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


@pytest.mark.browser
def test_signed_out_person_gets_back_in_by_email_and_finds_the_same_list(live_server, seed, new_context):
    base = live_server.url
    _, code = seed.event()
    ada, ada_signin = seed.person(code, "Ada Okafor", answers=["Scaling Flask apps"],
                                  contacts={"email": "ada@example.org"})
    for name in MET:
        other, _ = seed.person(code, name)
        seed.connect(ada, other, talked_about=f"Talked with {name.split()[0]}")

    page = new_context(**PHONE).new_page()
    sign_in_as(page, base, ada_signin)
    page.goto(base + "/followup")
    for name in MET:
        expect(page.get_by_text(name, exact=True).first).to_be_visible()

    # A cleared cookie, a new phone: signed out, with nothing but the address she gave.
    page.goto(base + "/badge")
    page.get_by_role("button", name="Sign out on this device").click()
    expect(page).to_have_url(base + "/")
    page.get_by_role("link", name="I've been here before").click()
    page.get_by_label("Your email address").fill("Ada@Example.org")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.locator('[data-state="sent"]')).to_contain_text("works once, for 30 minutes")

    message = run_mail_worker_once(live_server)
    assert message["To"] == "ada@example.org"
    link = re.search(r"http://127\.0\.0\.1:\d+/signin/email/[A-Za-z0-9_-]+",
                     message.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(base)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Continue as Ada Okafor?")
    page.get_by_role("button", name="Continue as Ada Okafor").click()
    expect(page).to_have_url(base + "/followup")
    for name in MET:
        expect(page.get_by_text(name, exact=True).first).to_be_visible()

    # The link worked once.
    page.goto(link)
    expect(page.locator('[data-code="bad_email_link"]')).to_be_visible()
