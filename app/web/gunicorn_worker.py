"""Even load across gunicorn workers: one listening socket per worker plus the master's, in one
`SO_REUSEPORT` group, and a gthread worker that leaves the group as soon as it stops accepting.

Why: with one socket shared by every worker, whichever worker wakes first accepts a burst of new
connections, and keep-alive clients (nginx upstreams, agents, load generators) then stay on it:
`make bench` saw 16 of 16 and 64 of 64 connections on one of two workers in most rounds, so one
process served everything while the other idled and throughput halved from round to round. With
`SO_REUSEPORT` each worker has its own socket on the same port and the kernel spreads connections
over the sockets by a hash of their addresses.

gunicorn's own `reuse_port` alone loses connections, measured with a recycle every ~3,000
requests at 64 connections: a recycled worker keeps its socket open while it finishes its requests
(so the kernel keeps queueing new connections there, and resets them when the socket closes), and
when both workers restart at once no socket is left at all (connection refused until one boots).
So, as well:
- the master keeps a socket of its own in the group (`hold_master_sockets`), which every worker
  also accepts from (`share_master_sockets`): a connection that arrives while no worker is up
  waits there, as it would with gunicorn's shared socket, instead of being refused;
- a stopping worker closes its sockets as soon as it stops accepting (`BalancedThreadWorker`), so
  the kernel sends new connections to the others at once. Only connections queued on it at that
  instant are lost; the sysctl `net.ipv4.tcp_migrate_req=1` moves even those to another socket.
The master's socket takes its share of new connections too, accepted by whichever worker is first;
each worker holds `OWN_SOCKETS` sockets so that share stays small. The balance is close, not exact:
the kernel's hash is random per connection.
"""

from __future__ import annotations

from typing import Any

from gunicorn import sock
from gunicorn.workers.gthread import ThreadWorker


def spreads_connections(bind: str, workers: int) -> bool:
    """`SO_REUSEPORT` applies to TCP only (each worker would re-create a unix socket's file), and
    there is nothing to spread with one worker."""
    return not bind.startswith("unix:") and workers > 1


def hold_master_sockets(server: Any) -> None:
    """`when_ready`: gunicorn creates no master socket with `reuse_port`; create it, in the group."""
    if server.cfg.reuse_port and not server.LISTENERS:
        server.LISTENERS = sock.create_sockets(server.cfg, server.log)
        server.log.info("Listening at: %s (master's socket; one more per worker)",
                        ",".join(str(listener) for listener in server.LISTENERS))


# Sockets of each worker's own per address: the master's socket then takes 1 in (2 x 3 + 1) = 1/7
# of new connections with two workers, instead of 1/3 with one socket each.
OWN_SOCKETS = 3


def share_master_sockets(server: Any, worker: Any) -> None:
    """`post_fork`: accept from the worker's own sockets (gunicorn made one per address; add the
    rest) and from the master's."""
    if server.cfg.reuse_port and worker.sockets is not server.LISTENERS:
        extra = [s for _ in range(OWN_SOCKETS - 1) for s in sock.create_sockets(server.cfg, server.log)]
        worker.sockets = [*worker.sockets, *extra, *server.LISTENERS]


class BalancedThreadWorker(ThreadWorker):
    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive and self.cfg.reuse_port:
            # Stopping: leave the group now. Closing this process's copy of the master's socket
            # leaves it open in the master and in the other workers.
            for listener in self.sockets:
                listener.close()
            self.sockets = []
