"""Rate limits: failed authentication per client address, and optionally tools/call per subject.

Storage comes from RATELIMIT_STORAGE_URI: memory:// counts per worker, redis:// shares
counters across workers and replicas. If Redis is unreachable the limiter falls back to
per-worker memory counters (logged), so limits still hold roughly and nothing answers 500.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse

from app.settings import Settings
from app.web.replies import jsonrpc_error

log = logging.getLogger(__name__)


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
    return limiter


def limit_failed_auth(limiter: Limiter, bp: Blueprint, settings: Settings) -> None:
    """Only 401s count; once over the limit, the address gets 429 until the window ends."""
    limiter.limit(
        settings.auth_failure_limit,
        deduct_when=lambda response: response.status_code == 401,
        error_message="Too many failed authentication attempts; retry later",
    )(bp)


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
