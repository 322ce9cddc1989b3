"""One structured access-log line per HTTP request, and the HTTP request counter.

Logged by the app rather than gunicorn so each line carries the request id and goes
through the same JSON formatter as every other log line. The `cnpg_mcp.access` logger
logs at INFO whatever LOG_LEVEL is (like a web server's access log); ACCESS_LOG=false
turns it off.
"""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, Response, g, request, request_started
from app.web.state import app_state

from app import metrics

access = logging.getLogger("cnpg_mcp.access")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _started(sender: Flask, **extra: object) -> None:
    # A signal, not before_request: it fires before every hook, so requests refused by an
    # earlier hook (the rate limiter's 429) are timed too.
    g.access_started = time.perf_counter()


def install(app: Flask) -> None:
    """Attach the hooks to `app`; called once per app."""
    settings = app_state(app).settings
    access.setLevel(logging.INFO if settings.access_log else logging.CRITICAL + 1)
    request_started.connect(_started, app, weak=False)

    @app.after_request
    def record(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        method = request.method if request.method in _METHODS else "other"  # clients choose methods: bound them
        metrics.HTTP_REQUESTS.labels(endpoint=rule, method=method, status=str(response.status_code)).inc()
        if settings.access_log:
            started = g.get("access_started")
            access.info("%s %s %s", request.method, request.path, response.status_code, extra={
                "event": "http_request", "method": request.method, "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started is not None else None,
                "request_id": g.get("request_id"), "remote_addr": request.remote_addr,
                "user_agent": request.headers.get("User-Agent"), "bytes": response.calculate_content_length(),
                "pid": os.getpid(),
            })
        return response
