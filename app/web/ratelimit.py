"""Rate limits: failed authentication per client address, optionally tools/call per subject, and
client registrations per address (app.web.registration).

Storage comes from RATELIMIT_STORAGE_URI: memory:// counts per worker, redis:// shares
counters across workers and replicas. If Redis is unreachable the limiter falls back to
per-worker memory counters (logged), so limits still hold roughly and nothing answers 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter

from app.settings import Settings
from app.web.replies import jsonrpc_error

log = logging.getLogger(__name__)
T = TypeVar("T")
_FAILED_AUTH = "auth_failures"
_DECORATED_BLUEPRINTS = frozenset({"registration"})


def create_limiter(app: Flask, settings: Settings) -> Limiter:
    options = {}
    if settings.ratelimit_storage_uri.startswith("redis"):
        # Without socket timeouts a black-holed Redis would block every request.
        options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=settings.ratelimit_storage_uri,
        storage_options=options,
        strategy="fixed-window",
        # Off: it would put Retry-After on every 200; the 429 handler adds it (retry_after_seconds).
        headers_enabled=False,
        in_memory_fallback_enabled=True,
        default_limits=[],
    )
    limiter.init_app(app)

    @limiter.request_filter
    def _undecorated() -> bool:
        # Only the registration proxy uses flask-limiter's decorators; every other request (/mcp
        # above all) skips the extension's per-request bookkeeping. The failed-auth and tools/call
        # limits consult the storage themselves, and only when they apply.
        return request.blueprint not in _DECORATED_BLUEPRINTS

    return limiter


class FailedAuthLimit:
    """AUTH_FAILURE_LIMIT: 401 answers counted per client address, in the limiter's storage.

    Only requests whose token still needs verifying consult it: a token already verified (the
    token cache) never touches the storage, so the common request pays nothing, and a caller with
    a valid token is not locked out by someone else failing from the same address (a shared NAT or
    proxy). An address over the limit gets 429 for every token that would need verifying, before
    any signature work is done, until the window ends.

    If the shared storage (Redis) fails, counting falls back to this worker's memory for 30 s at a
    time, so the limit still holds roughly and nothing answers 500.
    """

    _RETRY_PRIMARY_SECONDS = 30.0

    def __init__(self, limiter: Limiter, settings: Settings) -> None:
        self._item = parse(settings.auth_failure_limit)
        self._limiter = limiter
        self._fallback = FixedWindowRateLimiter(MemoryStorage())
        self._primary_down_until = 0.0

    def retry_after(self, address: str) -> int:
        """0 when `address` may try a token, else the seconds until its window ends."""
        def check(strategy: RateLimiter) -> int:
            if strategy.test(self._item, _FAILED_AUTH, address):
                return 0
            return max(1, int(strategy.get_window_stats(self._item, _FAILED_AUTH, address).reset_time - time.time()))
        return self._with_storage(check)

    def record_failure(self, address: str) -> None:
        self._with_storage(lambda strategy: strategy.hit(self._item, _FAILED_AUTH, address))

    def _with_storage(self, action: Callable[[RateLimiter], T]) -> T:
        if time.monotonic() >= self._primary_down_until:
            try:
                return action(self._limiter.limiter)
            except Exception:  # noqa: BLE001 - any storage failure: count in memory rather than fail the request
                log.warning("failed-authentication limit storage unavailable; counting in this worker's memory "
                            "for %ss", int(self._RETRY_PRIMARY_SECONDS), exc_info=True)
                self._primary_down_until = time.monotonic() + self._RETRY_PRIMARY_SECONDS
        return action(self._fallback)


def retry_after_seconds(limiter: Limiter) -> int:
    """Seconds until the breached limit's window resets (for a 429's Retry-After)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


def tool_call_allowed(limiter: Limiter, settings: Settings, subject: str) -> tuple[bool, int]:
    """Count one tools/call for `subject`; (allowed, seconds until the window resets)."""
    if not settings.tool_call_limit:
        return True, 0
    item = parse(settings.tool_call_limit)
    try:
        if limiter.limiter.hit(item, "tools_call", subject):
            return True, 0
        reset = limiter.limiter.get_window_stats(item, "tools_call", subject).reset_time
    except Exception:  # storage down: never fail a call because the counter is unreachable
        log.warning("tools/call rate limit storage unavailable; call allowed", exc_info=True)
        return True, 0
    return False, max(1, int(reset - time.time()))


def too_many(message: str, retry_after: int) -> Response:
    # 429 is outside JSON-RPC's reserved range, and the HTTP status says the same.
    return jsonrpc_error(429, message, 429, {"Retry-After": str(retry_after)})
