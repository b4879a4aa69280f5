"""A browser for the scale tests: one cookie jar (kept for every server on 127.0.0.1, as a
browser keeps it for one site behind a load balancer), forms posted with the page's CSRF token,
redirects not followed (a test reads the 302), and optionally a CA to trust for HTTPS."""
import http.cookiejar
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

CSRF = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Answer:
    status: int
    headers: object
    text: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 itself is the answer


class Browser:
    def __init__(self, cafile=None):
        self.cookies = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()]
        if cafile:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, url, data=None, headers=None, method=None):
        body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
        request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
        try:
            with self.opener.open(request, timeout=20) as response:
                return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read().decode("utf-8", "replace"))

    def get(self, url, headers=None):
        return self.request(url, headers=headers)

    def csrf_token(self, page):
        match = CSRF.search(self.get(page).text)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def submit(self, url, data=None, page=None, headers=None):
        """Post a form as a browser does: the token from `page` (default: `url` itself), and the
        page as Referer (over HTTPS the CSRF check wants a same-origin one)."""
        page = page or url
        return self.request(url, {"csrf_token": self.csrf_token(page), **(data or {})},
                            headers={"Referer": page, **(headers or {})})
