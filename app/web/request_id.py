"""A request id on every request: taken from X-Request-Id when sane, else generated."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, g, request

_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def register_request_id(app: Flask) -> None:
    @app.before_request
    def assign() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _ACCEPTABLE.fullmatch(incoming) else uuid.uuid4().hex

    @app.after_request
    def echo(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response
