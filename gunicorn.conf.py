"""gunicorn settings for cnpg-mcp-server: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value comes from the typed settings (environment variables, see the
README), validated here in the master so a bad value stops the start with one
line before any worker forks.
"""

import gc
import glob
import os
import shutil
import sys
import tempfile

# --- Prometheus metrics across workers ---------------------------------------------------
# Each worker writes its metric values to files in PROMETHEUS_MULTIPROC_DIR; /metrics adds them
# up, so a scrape sees the whole server whichever worker answers it. The variable must be set
# before prometheus_client is imported (app.settings imports the app package, hence
# prometheus_client), so first thing here in the master, before any worker forks.
_METRICS_DIR_OWNED = "CNPG_MCP_METRICS_DIR_OWNED"
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cnpg-mcp-metrics-")
    os.environ[_METRICS_DIR_OWNED] = os.environ["PROMETHEUS_MULTIPROC_DIR"]

from app.settings import Settings, SettingsError  # noqa: E402 - after PROMETHEUS_MULTIPROC_DIR
from app.web.gunicorn_worker import hold_master_sockets, share_master_sockets, spreads_connections  # noqa: E402

try:
    _settings = Settings.from_env()
except SettingsError as _error:
    print(f"cnpg-mcp-server: configuration error: {_error}", file=sys.stderr)
    if os.environ.get(_METRICS_DIR_OWNED):
        shutil.rmtree(os.environ[_METRICS_DIR_OWNED], ignore_errors=True)
    sys.exit(2)

# Loopback by default: without OIDC the endpoint is unauthenticated. The container sets 0.0.0.0:3000.
bind = [_settings.gunicorn_bind]
# Threaded workers: tool calls wait on the Kubernetes API, so threads overlap that I/O cheaply.
# gthread, leaving the port's group as soon as it stops (see app/web/gunicorn_worker.py).
worker_class = "app.web.gunicorn_worker.BalancedThreadWorker"
# Two processes keep serving if one is recycled or stuck; scale replicas rather than workers.
workers = _settings.gunicorn_workers
# One socket per worker (and one for the master) on the same port, so the kernel spreads
# keep-alive connections over the workers instead of the first to wake taking them all.
reuse_port = spreads_connections(_settings.gunicorn_bind, _settings.gunicorn_workers)
# Concurrent requests per worker; each mostly waits on the Kubernetes API or the IdP.
threads = _settings.gunicorn_threads
# A worker silent this long is killed; Kubernetes calls time out well before it (KUBE_TIMEOUT_SECONDS).
timeout = _settings.gunicorn_timeout
# On SIGTERM, in-flight requests get this long to finish; keep below terminationGracePeriodSeconds.
graceful_timeout = _settings.gunicorn_graceful_timeout
# Keep-alive lets nginx/ingress and agents reuse connections between calls.
keepalive = _settings.gunicorn_keepalive
# Every worker builds its own app and clients; nothing is shared across forks.
preload_app = False
# Recycle workers now and then so a slow leak cannot grow without bound; jitter avoids all restarting at once.
max_requests = 10_000
max_requests_jitter = 1_000
# Logs go to stdout/stderr for the container runtime to collect. The access log is written by the
# app itself (one JSON line per request with its request id, ACCESS_LOG), so gunicorn's is off.
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()
# Request line and header limits: MCP requests are small; the body limit is MCP_MAX_BODY_BYTES.
limit_request_line = 8190
limit_request_fields = 100
# Trust X-Forwarded-* only from loopback (a local nginx); the app decides hop counts itself.
forwarded_allow_ips = "127.0.0.1,::1"
# Name the processes so `ps` shows what they are.
proc_name = "cnpg-mcp-server"
# gunicorn 27's control socket lives in $HOME, shared by every instance on the machine and
# unwritable on a read-only root filesystem; this server is managed by signals instead.
control_socket_disable = True


def on_starting(server):
    """Start from zero: files left by an earlier run in a given directory would be added up too."""
    for stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(stale)


def pre_fork(server, worker):
    """Modules the master imported are shared with the forked workers. Freezing them out of the
    garbage collector's reach keeps each worker's collections from writing to (and so copying)
    those pages: measured by `make bench` as the pod's PSS."""
    gc.freeze()


def when_ready(server):
    hold_master_sockets(server)


def post_fork(server, worker):
    share_master_sockets(server, worker)


def child_exit(server, worker):
    """A dead worker's counters stay in the totals; only its live gauges are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    owned = os.environ.get(_METRICS_DIR_OWNED)
    if owned and owned == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(owned, ignore_errors=True)
