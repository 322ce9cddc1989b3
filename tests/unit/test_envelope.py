"""read_message: one JSON-RPC message per body, and errors that show the fix."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp_types.jsonrpc import INVALID_PARAMS, INVALID_REQUEST

from app.protocol.envelope import Message, read_message
from app.protocol.errors import ProtocolError


@pytest.mark.parametrize(
    ("decoded", "expected"),
    [
        ({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, Message("request", 1, "tools/list", None)),
        ({"jsonrpc": "2.0", "id": "abc", "method": "ping", "params": {}}, Message("request", "abc", "ping", {})),
        ({"jsonrpc": "2.0", "id": 0, "method": "tools/call", "params": {"name": "x"}},
         Message("request", 0, "tools/call", {"name": "x"})),
        ({"jsonrpc": "2.0", "method": "notifications/initialized"},
         Message("notification", None, "notifications/initialized", None)),
        ({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}},
         Message("notification", None, "notifications/cancelled", {"requestId": 3})),
        ({"jsonrpc": "2.0", "id": 7, "result": {}}, Message("response", 7)),
        ({"jsonrpc": "2.0", "id": "r1", "error": {"code": -1, "message": "no"}}, Message("response", "r1")),
    ],
)
def test_well_formed_messages_are_classified(decoded: dict[str, Any], expected: Message) -> None:
    assert read_message(decoded) == expected


@pytest.mark.parametrize(
    ("decoded", "code", "request_id"),
    [
        ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], INVALID_REQUEST, None),
        ([], INVALID_REQUEST, None),
        ("ping", INVALID_REQUEST, None),
        (42, INVALID_REQUEST, None),
        (None, INVALID_REQUEST, None),
        ({"id": 1, "method": "ping"}, INVALID_REQUEST, 1),
        ({"jsonrpc": "1.0", "id": 1, "method": "ping"}, INVALID_REQUEST, 1),
        ({"jsonrpc": "2.0", "method": "tools/list"}, INVALID_REQUEST, None),
        ({"jsonrpc": "2.0", "id": None, "method": "ping"}, INVALID_REQUEST, None),
        ({"jsonrpc": "2.0", "id": True, "method": "ping"}, INVALID_REQUEST, None),
        ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, INVALID_REQUEST, None),
        ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}, INVALID_REQUEST, None),
        ({"jsonrpc": "2.0", "id": 1, "method": ""}, INVALID_REQUEST, 1),
        ({"jsonrpc": "2.0", "id": 1, "method": 5}, INVALID_REQUEST, 1),
        ({"jsonrpc": "2.0", "id": 1}, INVALID_REQUEST, 1),
        ({"id": 1, "result": {}}, INVALID_REQUEST, 1),
        ({"jsonrpc": "2.0", "id": None, "result": {}}, INVALID_REQUEST, None),
        ({"jsonrpc": "2.0", "method": "notifications/initialized", "params": []}, INVALID_PARAMS, None),
        ({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": [1, 2]}, INVALID_PARAMS, 4),
        ({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": "all"}, INVALID_PARAMS, 4),
    ],
    ids=[
        "batch", "empty-batch", "string", "number", "null", "missing-jsonrpc", "wrong-jsonrpc", "missing-id",
        "id-null", "id-bool", "id-float", "id-object", "method-empty", "method-not-string", "no-method-no-result",
        "response-without-jsonrpc", "response-with-null-id", "notification-params-array", "params-array",
        "params-string",
    ],
)
def test_malformed_messages_raise_protocol_errors(decoded: Any, code: int, request_id: int | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        read_message(decoded)

    assert caught.value.code == code
    assert caught.value.request_id == request_id


def _corrected_request(message: str) -> dict[str, Any]:
    match = re.search(r"\{.*\}", message)
    assert match is not None, message
    return json.loads(match.group(0))


def test_missing_id_on_a_method_shows_a_corrected_request() -> None:
    with pytest.raises(ProtocolError) as caught:
        read_message({"method": "tools/list", "params": {"cursor": None}})

    assert caught.value.code == INVALID_REQUEST
    corrected = _corrected_request(caught.value.message)
    assert corrected == {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"cursor": None}}


def test_missing_id_with_non_object_params_shows_empty_params_in_the_correction() -> None:
    with pytest.raises(ProtocolError) as caught:
        read_message({"jsonrpc": "2.0", "method": "tools/call", "params": [1]})

    assert _corrected_request(caught.value.message) == {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}}


def test_notification_without_jsonrpc_shows_a_corrected_notification_without_id() -> None:
    with pytest.raises(ProtocolError) as caught:
        read_message({"method": "notifications/initialized"})

    assert caught.value.code == INVALID_REQUEST
    assert _corrected_request(caught.value.message) == {"jsonrpc": "2.0", "method": "notifications/initialized"}


def test_body_without_method_shows_an_example_request() -> None:
    with pytest.raises(ProtocolError) as caught:
        read_message({"jsonrpc": "2.0", "id": 9})

    assert _corrected_request(caught.value.message)["jsonrpc"] == "2.0"


def test_method_named_like_a_notification_but_with_an_id_is_a_request() -> None:
    assert read_message({"jsonrpc": "2.0", "id": 2, "method": "notifications/initialized"}).kind == "request"
