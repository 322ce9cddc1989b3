"""API error responses become domain errors with the Status message, never the raw response."""

from __future__ import annotations

import json

import pytest

from app.kube.errors import AlreadyExists, Conflict, Forbidden, Invalid, KubeError, KubeUnavailable, NotFound, from_api_exception


def _status(code: int, reason: str, message: str, causes: list[dict] | None = None) -> bytes:
    body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason,
            "code": code}
    if causes:
        body["details"] = {"causes": causes}
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [(404, "NotFound", NotFound), (409, "AlreadyExists", AlreadyExists), (409, "Conflict", Conflict),
     (403, "Forbidden", Forbidden), (422, "Invalid", Invalid), (400, "BadRequest", Invalid),
     (503, "ServiceUnavailable", KubeUnavailable), (429, "TooManyRequests", KubeUnavailable),
     (401, "Unauthorized", KubeUnavailable), (418, "Teapot", KubeError)],
)
def test_each_status_maps_to_its_domain_error(status: int, reason: str, kind: type) -> None:
    assert type(from_api_exception(status, _status(status, reason, "msg"), "get cluster 'pg'")) is kind


def test_invalid_lists_each_field_cause() -> None:
    error = from_api_exception(422, _status(422, "Invalid", "Cluster.postgresql.cnpg.io \"pg\" is invalid", [
        {"field": "spec.instances", "message": "Invalid value: 0: should be greater than or equal to 1"},
        {"field": "spec.storage.size", "message": "Required value"},
    ]), "create cluster 'pg'")

    assert isinstance(error, Invalid)
    assert str(error) == ("Invalid request to create cluster 'pg': spec.instances: Invalid value: 0: should be "
                          "greater than or equal to 1; spec.storage.size: Required value")
    assert [c["field"] for c in error.causes] == ["spec.instances", "spec.storage.size"]


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", b"", None, b'{"kind":"Other","secret":"x"}'])
def test_a_body_that_is_not_a_status_is_never_echoed(body: bytes | None) -> None:
    message = str(from_api_exception(404, body, "get cluster 'pg'"))

    assert message == "Not found while trying to get cluster 'pg'"
