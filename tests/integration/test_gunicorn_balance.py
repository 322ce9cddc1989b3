"""Even load across gunicorn workers (app/web/gunicorn_worker.py), with the shipped config.

What a worker listens on and holds is read from /proc: every socket is an inode, listed in the
owning process's fd table and, with its state and port, in /proc/net/tcp.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path

import requests

from app.web.gunicorn_worker import OWN_SOCKETS
from tests.support.processes import GunicornServer

LIST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
_LISTEN, _ESTABLISHED = "0A", "01"


def _sockets(state: str, port: int) -> set[int]:
    """Inodes of IPv4 TCP sockets in `state` whose local port is `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == state and int(fields[1].split(":")[1], 16) == port:
            inodes.add(int(fields[9]))
    return inodes


def _held_by(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:["):-1]))
    return inodes


def _wait_for(condition, what: str, ceiling: float = 60.0) -> None:
    deadline = time.monotonic() + ceiling
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {ceiling:.0f} s: {what}")
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def _workers(server: GunicornServer) -> list[int]:
    """Both workers, each with its sockets made (gunicorn answers /health once the first is up)."""
    def ready() -> bool:
        pids = server.worker_pids()
        return len(pids) == 2 and all(len(_held_by(pid) & _sockets(_LISTEN, server.port)) > 1 for pid in pids)
    _wait_for(ready, "two workers listening")
    return server.worker_pids()


def _in_flight(server: GunicornServer, seconds: float, results: list[int]) -> threading.Thread:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "clock_wait", "arguments": {"seconds": seconds}}}
    caller = threading.Thread(
        target=lambda: results.append(requests.post(server.mcp_url, json=body, timeout=60).status_code))
    caller.start()
    return caller


def test_each_worker_has_sockets_of_its_own_on_the_port_and_shares_the_masters() -> None:
    with GunicornServer("wsgi:app", workers=2) as server:
        pids = _workers(server)
        listening = _sockets(_LISTEN, server.port)
        master = _held_by(server.pid) & listening
        workers = [_held_by(pid) & listening for pid in pids]

    assert len(master) == 1
    for held in workers:
        assert master <= held
        assert len(held - master) == OWN_SOCKETS
    assert not (workers[0] - master) & (workers[1] - master)
    assert listening == master | workers[0] | workers[1]


def test_keep_alive_connections_are_spread_over_the_workers() -> None:
    """32 keep-alive connections opened at once, as a load generator or an nginx upstream pool
    opens them. With one socket shared by the workers, the first worker to wake usually took all
    of them (`make bench`: 16/0 and 64/0 in most rounds). The kernel now picks a socket per
    connection by hash, so each worker's share is binomial around 16: fewer than 6 has a
    probability of about 1 in 100,000."""
    with GunicornServer("wsgi:app", workers=2) as server:
        pids = _workers(server)
        connections = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=60) for _ in range(32)]
        barrier = threading.Barrier(len(connections))
        statuses: list[int] = []

        def ask(connection: http.client.HTTPConnection) -> None:
            barrier.wait()
            connection.request("POST", "/mcp", body=LIST, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)

        callers = [threading.Thread(target=ask, args=(c,)) for c in connections]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join(timeout=60)
        established = _sockets(_ESTABLISHED, server.port)
        per_worker = [len(_held_by(pid) & established) for pid in pids]
        for connection in connections:
            connection.close()

    print(f"keep-alive connections per worker: {per_worker}")
    assert statuses == [200] * 32
    assert sum(per_worker) == 32
    assert min(per_worker) >= 6, per_worker


def test_a_stopping_worker_leaves_the_port_at_once_and_finishes_its_request() -> None:
    """A worker that stops (recycled, or signalled) closes its own sockets as soon as it stops
    accepting, so the kernel stops queueing new connections on it (gunicorn keeps them open until
    its requests are done, and then resets what was queued); its request in flight finishes."""
    with GunicornServer("tests.support.wsgi_slow_tools:app", workers=2, GUNICORN_GRACEFUL_TIMEOUT="20") as server:
        pids = _workers(server)
        results: list[int] = []
        caller = _in_flight(server, 4, results)
        established = lambda pid: _held_by(pid) & _sockets(_ESTABLISHED, server.port)  # noqa: E731
        _wait_for(lambda: any(established(pid) for pid in pids), "the request reaches a worker")
        busy = next(pid for pid in pids if established(pid))

        os.kill(busy, signal.SIGTERM)
        _wait_for(lambda: _gone(busy) or not _held_by(busy) & _sockets(_LISTEN, server.port),
                  "the stopping worker closes its listening sockets")
        answered_when_closed = list(results)
        caller.join(timeout=60)
        after = requests.post(server.mcp_url, data=LIST, headers=HEADERS, timeout=60)

    assert answered_when_closed == [], "the sockets must close while the request is still in flight"
    assert results == [200]
    assert after.status_code == 200


def test_a_connection_made_while_every_worker_stops_waits_for_a_new_one() -> None:
    """Both workers stopping at once (recycled together, as happens when the load is even) while
    they finish their requests: their own sockets are closed, so without the master's socket in the
    group a new connection would be refused; it waits there for a replacement worker instead."""
    with GunicornServer("tests.support.wsgi_slow_tools:app", workers=2, GUNICORN_GRACEFUL_TIMEOUT="20") as server:
        pids = _workers(server)
        results: list[int] = []
        callers: list[threading.Thread] = []
        listening = lambda pid: _held_by(pid) & _sockets(_LISTEN, server.port)  # noqa: E731
        busy = lambda pid: _held_by(pid) & _sockets(_ESTABLISHED, server.port)  # noqa: E731
        while not all(busy(pid) for pid in pids):  # one slow request more until both workers have one
            assert len(callers) < 40, "the kernel sent 40 connections to one worker"
            callers.append(_in_flight(server, 5, results))
            time.sleep(0.1)

        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        _wait_for(lambda: not any(listening(pid) for pid in pids if not _gone(pid)), "both workers leave the port")
        answered_when_closed = list(results)
        during = requests.post(server.mcp_url, data=LIST, headers=HEADERS, timeout=60)
        for caller in callers:
            caller.join(timeout=60)

    assert answered_when_closed == [], "both workers must have left the port with requests in flight"
    assert during.status_code == 200
    assert results == [200] * len(callers)
