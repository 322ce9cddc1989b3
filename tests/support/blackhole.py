"""A fault-injecting stand-in for an unresponsive Kubernetes API server: it accepts TCP
connections on loopback and never answers (what a hung or partitioned API server looks like
to a client). Named as a fake on purpose: a real API server cannot be made to hang on demand."""

from __future__ import annotations

import socket
import threading


class BlackholeServer:
    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted.append(conn)  # keep it open, never reply

    def __enter__(self) -> BlackholeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
        for conn in self.accepted:
            conn.close()
