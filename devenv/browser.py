"""A person's browser, over plain HTTP, for the identity providers of the tests (devenv/idp.py,
devenv/keycloak.py): follow redirects, submit the HTML forms shown (login, consent), and stop at
the redirect back to the client, as an authorization code flow needs."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

_MAX_STEPS = 10


def log_in(browser: requests.Session, authorization_url: str, redirect_uri: str,
           fill: Callable[[dict[str, str]], dict[str, str]], *, timeout: float, max_forms: int | None = None) -> str:
    """Open `authorization_url`, submit each form with the fields `fill` returns for it, and return the
    redirect to `redirect_uri` (with `code` and `state`) without following it.

    Raises:
        RuntimeError: the provider answered something else (an error page, more than `max_forms` forms,
            a redirect elsewhere).
    """
    response = browser.get(authorization_url, allow_redirects=False, timeout=timeout)
    submitted = 0
    for _ in range(_MAX_STEPS):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(redirect_uri):
                return location
            response = browser.get(location, allow_redirects=False, timeout=timeout)
            continue
        form = HtmlForm.first_in(response.text) if response.status_code == 200 else None
        if form is None or (max_forms is not None and submitted >= max_forms):
            raise RuntimeError(f"expected a login or consent form, got HTTP {response.status_code} after "
                               f"{submitted} form(s): {response.text[:500]}")
        response = browser.post(urljoin(response.url, form.action), data=fill(dict(form.fields)),
                                allow_redirects=False, timeout=timeout)
        submitted += 1
    raise RuntimeError(f"no redirect to {redirect_uri} after {_MAX_STEPS} steps of the login")


class HtmlForm(HTMLParser):
    """The first <form> of a page: its action and its named inputs (enough for oidc-provider's dev pages)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []
        self._inside = False
        self._done = False

    @classmethod
    def first_in(cls, html: str) -> HtmlForm | None:
        parser = cls()
        parser.feed(html)
        return parser if parser.action is not None else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: unescape(value or "") for name, value in attrs}
        if tag == "form" and not self._done and self.action is None:
            self.action, self._inside = values.get("action", ""), True
        elif tag == "input" and self._inside and values.get("name"):
            self.fields.append((values["name"], values.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._inside:
            self._inside, self._done = False, True
