"""FaultyJWKSServer: a fault-injecting test double for an identity provider's JWKS endpoint.

A real `http.server` on 127.0.0.1 (kernel-picked port) in a daemon thread. It answers
`/jwks` the way a broken or hostile IdP might, and records every path it was asked for,
so a test can prove that something was (or was never) fetched:

    with FaultyJWKSServer("html") as jwks:
        ... OIDC_JWKS_URI=jwks.url ...
        assert jwks.requests == ["/jwks"]
        jwks.mode = "serve"   # the endpoint recovers: serve `document` from now on

Modes (`FaultyJWKSServer.MODES`):
    serve          200, `document` as application/jwk-set+json (a healthy or an attacker's JWKS)
    html           200 text/html maintenance page (not JSON)
    status500      500 with a JSON error body
    redirect302    302 to `/moved`, which would serve `document` if a client followed it
    slow           sleeps `delay` seconds (longer than the client's timeout), then serves `document`
    empty_keys     200 {"keys": []}
    json_array     200 `[]` (JSON, but not a JWK Set object)
    unusable_keys  200 a JWK Set whose only key has no key material
    hangup         closes the connection without any response
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = (
    "serve", "html", "status500", "redirect302", "slow", "empty_keys", "json_array", "unusable_keys", "hangup",
)

_HTML = b"<!doctype html><html><body><h1>Down for maintenance</h1></body></html>"


class FaultyJWKSServer:
    """Test double: a loopback HTTP server whose `/jwks` misbehaves according to `mode`.

    `mode` and `document` may be changed while it runs. `requests` lists the paths asked
    for, in order. `stop()` (or leaving the `with`) shuts it down and frees the port;
    a handler still sleeping in `slow` mode is woken and dropped.
    """

    MODES = MODES

    def __init__(self, mode: str, document: dict[str, Any] | None = None, *, delay: float = 3.0) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        self.mode = mode
        self.document: dict[str, Any] = document if document is not None else {"keys": []}
        self.delay = delay
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> FaultyJWKSServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FaultyJWKSServer:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                double._record(self.path)
                double._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # quiet: tests read `requests` instead

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # never wait for a handler sleeping in `slow` mode
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="faulty-jwks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ----- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._httpd is not None, "FaultyJWKSServer is not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The JWKS URL (`/jwks`), for OIDC_JWKS_URI, a `jku` or an `x5u`."""
        return f"{self.base_url}/jwks"

    # ----- behaviour -------------------------------------------------------------------

    def _record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        mode = self.mode
        if handler.path == "/moved":  # where redirect302 points: would be a healthy JWKS
            self._send(handler, 200, "application/jwk-set+json", json.dumps(self.document).encode())
        elif mode == "serve":
            self._send(handler, 200, "application/jwk-set+json", json.dumps(self.document).encode())
        elif mode == "html":
            self._send(handler, 200, "text/html; charset=utf-8", _HTML)
        elif mode == "status500":
            self._send(handler, 500, "application/json", b'{"error":"internal"}')
        elif mode == "redirect302":
            self._send(handler, 302, "text/plain", b"moved", {"Location": f"{self.base_url}/moved"})
        elif mode == "slow":
            if self._stopping.wait(self.delay):
                handler.close_connection = True
                return
            self._send(handler, 200, "application/jwk-set+json", json.dumps(self.document).encode())
        elif mode == "empty_keys":
            self._send(handler, 200, "application/jwk-set+json", b'{"keys":[]}')
        elif mode == "json_array":
            self._send(handler, 200, "application/json", b"[]")
        elif mode == "unusable_keys":
            body = {"keys": [{"kty": "RSA", "kid": "no-material", "use": "sig", "alg": "RS256"}]}
            self._send(handler, 200, "application/jwk-set+json", json.dumps(body).encode())
        elif mode == "hangup":
            handler.close_connection = True  # no status line at all: the client sees a dropped connection

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (e.g. its timeout in `slow` mode)
