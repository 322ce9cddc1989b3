"""Verified tokens remembered per worker, so a busy client does not pay for signature checks."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

from app.identity import Principal


class VerifiedTokenCache:
    """Bounded LRU of token hash → (principal, expiry). An entry never outlives its token.

    Keyed by SHA-256 of the token, so no token is held in memory longer than its request.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def get(self, key: bytes) -> Principal | None:
        if not self._size:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            principal, expires = entry
            if time.time() >= expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return principal

    def put(self, key: bytes, principal: Principal, expires: float) -> None:
        if not self._size:
            return
        with self._lock:
            self._entries[key] = (principal, expires)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
