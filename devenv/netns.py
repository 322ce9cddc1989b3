"""Run one child process in a private network namespace, joined to the host's loopback by relays.

`python -m devenv.netns --inbound PORT ... --outbound PORT ... -- ARGV...`

Why: the CloudNativePG operator's webhook server has no host flag and listens on every
interface. Inside a fresh network namespace the only interface is its own loopback, so
nothing outside this machine (or even outside this process tree) can reach it. The relays
then join exactly the ports we name:

- `--inbound P`: host 127.0.0.1:P → namespace 127.0.0.1:P (the apiserver calling the webhook,
  the harness reading metrics and /readyz);
- `--outbound P`: namespace 127.0.0.1:P → host 127.0.0.1:P (the operator calling the apiserver;
  the same port on both sides, so the kubeconfig and the serving certificate's 127.0.0.1 SAN
  are unchanged).

Bytes are relayed as they are: TLS runs end to end between the two real parties.
Needs CAP_SYS_ADMIN (root, as in CI); `check_supported()` says why when it is missing.
The child dies with us (PR_SET_PDEATHSIG), and SIGTERM/SIGINT are passed on to it.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import fcntl
import os
import signal
import socket
import struct
import subprocess
import sys
import threading

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
SIOCSIFFLAGS = 0x8914
IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x1, 0x8, 0x40
_BUFFER = 65536

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def check_supported() -> str | None:
    """None if this process may create network namespaces, else why not (tried in a child)."""
    done = subprocess.run(
        [sys.executable, "-c", f"import devenv.netns as n; n._check(n._libc.unshare({CLONE_NEWNET}), 'unshare')"],
        capture_output=True,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or ["unknown error"])[-1]


def _loopback_up() -> None:
    """`ip link set lo up`, without needing iproute2: a new namespace's lo starts down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING)
        fcntl.ioctl(sock, SIOCSIFFLAGS, request)


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    return sock


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(_BUFFER):
            target.sendall(data)
    except OSError:
        pass
    finally:
        # Half-close so the other direction can still finish (HTTP/1.1 and TLS close_notify).
        for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _relay(client: socket.socket, port: int) -> None:
    try:
        upstream = socket.create_connection(("127.0.0.1", port), timeout=10)
    except OSError:
        client.close()
        return
    upstream.settimeout(None)
    for sock in (client, upstream):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _serve(listener: socket.socket, target_namespace: int) -> None:
    """Accept on `listener`; connect each client to the same port in `target_namespace`.

    setns() moves only this thread, and a socket lives in the namespace of the thread that
    created it, so every connection made from here (and from threads started here) lands there.
    """
    _check(_libc.setns(target_namespace, CLONE_NEWNET), "setns")
    port = listener.getsockname()[1]
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_relay, args=(client, port), daemon=True).start()


def _die_with_parent() -> None:
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devenv.netns", description=__doc__.splitlines()[0])
    parser.add_argument("--inbound", type=int, action="append", default=[], help="host → namespace port")
    parser.add_argument("--outbound", type=int, action="append", default=[], help="namespace → host port")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given after --")

    host_namespace = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    # Bound before leaving the host namespace: these sockets stay there for good.
    inbound = [_listen(port) for port in args.inbound]
    _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
    _loopback_up()
    private_namespace = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    outbound = [_listen(port) for port in args.outbound]

    child = subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: PLW1509 - prctl only

    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    for listener in inbound:
        threading.Thread(target=_serve, args=(listener, private_namespace), daemon=True).start()
    for listener in outbound:
        threading.Thread(target=_serve, args=(listener, host_namespace), daemon=True).start()
    print(
        f"netns: pid {child.pid} in a private network namespace; inbound {args.inbound}, outbound {args.outbound}",
        file=sys.stderr,
        flush=True,
    )
    returncode = child.wait()
    return 128 - returncode if returncode < 0 else returncode


if __name__ == "__main__":
    sys.exit(main())
