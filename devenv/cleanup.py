"""Stop what we started even when the interpreter exits or is signalled.

etcd and kube-apiserver run in their own sessions (so a terminal's Ctrl-C reaches only us
and we stop them in order), which also means nothing kills them if we forget. Callbacks
registered here run once each: on normal interpreter exit (atexit), on SIGTERM (whose
default action would skip atexit) and on SIGINT before Python's KeyboardInterrupt, so a
Ctrl-C during pytest leaves no etcd/apiserver behind even if teardown is interrupted.
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

_callbacks: dict[int, Callable[[], None]] = {}
_keys = itertools.count()
_lock = threading.RLock()
_installed = False


def register(callback: Callable[[], None]) -> int:
    """Run `callback` at exit/SIGTERM/SIGINT unless `unregister(key)` is called first."""
    _install()
    with _lock:
        key = next(_keys)
        _callbacks[key] = callback
        return key


def unregister(key: int | None) -> None:
    if key is not None:
        with _lock:
            _callbacks.pop(key, None)


def run_all() -> None:
    """Run every pending callback, newest first; one failing must not stop the others.

    A callback is dropped only after it ran: a second Ctrl-C arriving while the first
    cleanup waits runs the same (idempotent) callbacks to completion in the nested handler.
    """
    with _lock:
        keys = sorted(_callbacks, reverse=True)
    for key in keys:
        callback = _callbacks.get(key)
        if callback is None:
            continue  # already done by a nested run
        try:
            callback()
        except Exception as exc:  # noqa: BLE001 - best effort at exit, report and go on
            print(f"devenv: cleanup failed: {exc!r}", file=sys.stderr)
        finally:
            _callbacks.pop(key, None)


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    atexit.register(run_all)
    # Signal handlers can only be set from the main thread; elsewhere atexit must do.
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(signum)
            # An ignored signal (e.g. SIGINT under `nohup` or `cmd &`) stays ignored: it must
            # not start stopping things while the process carries on.
            if previous != signal.SIG_IGN:
                _chain(signum, previous)


def _chain(signum: int, previous: object) -> None:
    def handler(received: int, frame: FrameType | None) -> None:
        run_all()
        if callable(previous):
            previous(received, frame)  # e.g. Python's default SIGINT handler → KeyboardInterrupt
        elif previous == signal.SIG_DFL:
            # Die of the same signal, as we would have without this handler.
            signal.signal(received, signal.SIG_DFL)
            os.kill(os.getpid(), received)

    signal.signal(signum, handler)
