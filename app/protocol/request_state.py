"""The `requestState` of input-required results (2026-07-28): what a client sends back to us.

The client holds it between the two calls of a multi-round-trip request and may change it, so it is
signed (HMAC-SHA256 through itsdangerous, with MCP_REQUEST_STATE_KEY, the same in every worker and
replica), timestamped (MCP_CONFIRM_TTL_SECONDS), and bound to the caller, the tool and the exact
arguments: a state is only ever good for the call it was issued for. It carries no secret, only
digests and names, so signing (not encrypting) is enough.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

_SALT = "cnpg-mcp-server input-required v1"  # a key used for anything else never validates a state
MAX_STATE_BYTES = 4096


class InvalidRequestState(Exception):
    """The state cannot be used for this call; the message says why, without echoing the state."""


@dataclass(frozen=True)
class IssuedFor:
    """What a state is bound to."""

    subject: str
    tool: str
    arguments: dict[str, Any]
    purpose: str
    """What the state answers, e.g. "confirm": a state minted for one purpose never serves another."""


def _digest(arguments: dict[str, Any]) -> str:
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class RequestStates:
    """Issues and checks request states with one key."""

    def __init__(self, key: str, ttl_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256})
        self.ttl_seconds = ttl_seconds

    def issue(self, bound: IssuedFor, what: str) -> str:
        """A state for `bound`; `what` (what was asked, e.g. the action) comes back from `check`."""
        return str(self._serializer.dumps({
            "sub": bound.subject, "tool": bound.tool, "args": _digest(bound.arguments), "for": bound.purpose,
            "what": what,
            # Two asks for the same call get different states (nothing relies on it being secret).
            "n": secrets.token_urlsafe(8),
        }))

    def check(self, state: Any, bound: IssuedFor) -> str:
        """What the state was issued about (`issue`'s `what`), when it is good for `bound`.

        Raises: InvalidRequestState naming the first thing that does not hold."""
        if not isinstance(state, str) or not state or len(state) > MAX_STATE_BYTES:
            raise InvalidRequestState("requestState must be the non-empty string this server returned")
        try:
            claims = self._serializer.loads(state, max_age=self.ttl_seconds)
        except SignatureExpired:
            raise InvalidRequestState(
                f"requestState expired: an answer must come within {self.ttl_seconds} seconds; call the tool "
                "again without requestState to be asked again") from None
        except BadSignature:
            raise InvalidRequestState("requestState was not issued by this server or was changed") from None
        if not isinstance(claims, dict):
            raise InvalidRequestState("requestState was not issued by this server or was changed")
        if claims.get("for") != bound.purpose or claims.get("tool") != bound.tool:
            raise InvalidRequestState(f"requestState was issued for another request, not for {bound.tool}")
        if claims.get("sub") != bound.subject:
            raise InvalidRequestState("requestState was issued to another caller")
        if claims.get("args") != _digest(bound.arguments):
            raise InvalidRequestState(
                f"requestState was issued for other arguments of {bound.tool}: repeat the call exactly as it "
                "was asked about, or call again without requestState")
        return str(claims.get("what", bound.tool))
