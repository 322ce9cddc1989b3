"""API error responses become domain errors with the Status message, never the raw response."""

from __future__ import annotations

import json

import pytest

from app.kube.errors import (AlreadyExists, Conflict, CredentialsRejected, Forbidden, Invalid, KubeError, KubeUnavailable,
                             NotFound, from_api_exception)


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
     (401, "Unauthorized", CredentialsRejected), (418, "Teapot", KubeError)],
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


def test_a_cloudnativepg_webhook_refusal_names_the_operator_and_its_field_reasons() -> None:
    # The shape the API server answers when CloudNativePG's validating webhook refuses a Backup.
    reason = ("Invalid value: \"volumeSnapshot\": Cannot use volumeSnapshot backup method due to missing "
              "VolumeSnapshot CRD")
    error = from_api_exception(422, _status(
        422, "Invalid",
        f"admission webhook \"vbackup.cnpg.io\" denied the request: Backup.postgresql.cnpg.io \"pg-snap\" is invalid: "
        f"spec.method: {reason}",
        [{"reason": "FieldValueInvalid", "message": reason, "field": "spec.method"}],
    ), "create backup 'pg-snap' in namespace 'db'")

    assert isinstance(error, Invalid) and error.webhook == "vbackup.cnpg.io"
    assert str(error) == ("Invalid request to create backup 'pg-snap' in namespace 'db': the CloudNativePG operator "
                          f"(vbackup.cnpg.io) refused it: spec.method: {reason}")


def test_a_webhook_refusal_without_field_causes_keeps_its_reason_and_drops_the_object_summary() -> None:
    denied = from_api_exception(403, _status(
        403, "Forbidden", "admission webhook \"mcluster.cnpg.io\" denied the request: quantities must match the "
                          "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"), "create cluster 'pg'")
    other = from_api_exception(422, _status(
        422, "Invalid", "admission webhook \"policy.example.com\" denied the request: Cluster.postgresql.cnpg.io "
                        "\"pg\" is invalid: images must come from registry.example.com"), "create cluster 'pg'")

    assert isinstance(denied, Invalid) and not isinstance(denied, Forbidden)
    assert str(denied) == ("Invalid request to create cluster 'pg': the CloudNativePG operator (mcluster.cnpg.io) "
                           "refused it: quantities must match the regular expression "
                           "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    assert str(other) == ("Invalid request to create cluster 'pg': admission webhook 'policy.example.com' refused it: "
                          "images must come from registry.example.com")


def test_an_unreachable_webhook_is_unavailability_without_the_internal_url() -> None:
    error = from_api_exception(500, _status(
        500, "InternalError", "Internal error occurred: failed calling webhook \"mcluster.cnpg.io\": failed to call "
                              "webhook: Post \"https://cnpg-webhook-service.cnpg-system.svc:443/mutate-postgresql-cnpg-"
                              "io-v1-cluster?timeout=10s\": dial tcp 10.0.0.7:443: connect: connection refused"),
        "update cluster 'pg' in namespace 'db'")

    assert isinstance(error, KubeUnavailable)
    assert "the CloudNativePG operator (mcluster.cnpg.io)" in str(error) and "operator is running" in str(error)
    assert "10.0.0.7" not in str(error) and "cnpg-webhook-service" not in str(error)
