"""`python -m devenv.run [gunicorn args...]`: serve the app against a real cluster, or a local one.

With a cluster configured (KUBECONFIG, in-cluster KUBERNETES_SERVICE_HOST, or ~/.kube/config)
this simply becomes `python -m gunicorn -c gunicorn.conf.py [args] wsgi:app`. Without one it
starts a LocalControlPlane (etcd, kube-apiserver, kube-controller-manager, the CloudNativePG CRDs
and the real CloudNativePG operator with its webhooks) with a demo Cluster, points gunicorn at it,
and tears it down when gunicorn exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from devenv.binaries import COLD_BUILD_NOTICE, cold_build_needed, ensure_binaries, ensure_operator
from devenv.controlplane import LocalControlPlane
from devenv.demo import DEMO_CLUSTER, seed_demo
from devenv.paths import ROOT, cache_dir

DEMO_NAMESPACE = "demo"


def configured_cluster() -> str | None:
    """Why we think a real cluster is configured, or None. Same sources as app/kube/access.py."""
    if os.environ.get("KUBECONFIG"):
        return f"KUBECONFIG={os.environ['KUBECONFIG']}"
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return "in-cluster configuration (KUBERNETES_SERVICE_HOST)"
    default = Path.home() / ".kube" / "config"
    if default.exists():
        return str(default)
    return None


def gunicorn_argv(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *args, "wsgi:app"]


def main(args: list[str] | None = None) -> int:
    args = sys.argv[1:] if args is None else args
    os.chdir(ROOT)  # gunicorn.conf.py and wsgi.py are looked up relative to the repo root
    reason = configured_cluster()
    if reason is not None:
        print(f"cnpg-mcp-server: using the Kubernetes cluster from {reason}", file=sys.stderr, flush=True)
        argv = gunicorn_argv(args)
        os.execv(argv[0], argv)
    kubeconfig = cache_dir() / "local" / "kubeconfig"
    print(
        "cnpg-mcp-server: no Kubernetes cluster configured (no KUBECONFIG, not in a pod, no ~/.kube/config).\n"
        "  Starting a local control plane (etcd, kube-apiserver, kube-controller-manager) with the\n"
        "  real CloudNativePG operator and its webhooks, and a demo Cluster "
        f"{DEMO_NAMESPACE}/{DEMO_CLUSTER}.\n"
        "  There is no kubelet, so no Pod really runs: the operator creates the cluster's Secrets,\n"
        "  Services, PVC, bootstrap Job and first Pod, and stays in phase \"Setting up primary\".\n"
        "  To use a real cluster instead: export KUBECONFIG=/path/to/kubeconfig (or create ~/.kube/config).",
        file=sys.stderr,
        flush=True,
    )
    if cold_build_needed():
        print("cnpg-mcp-server: " + COLD_BUILD_NOTICE.format(cache=cache_dir()), file=sys.stderr, flush=True)
    bin_dir = ensure_binaries()
    ensure_operator()  # built here (once, cached) so its progress shows before the control plane starts
    with LocalControlPlane(bin_dir=bin_dir) as controlplane:
        with controlplane.api_client() as client:
            seed_demo(client, DEMO_NAMESPACE)
        controlplane.write_kubeconfig(kubeconfig)
        print(
            f"cnpg-mcp-server: local control plane at {controlplane.host}; kubeconfig (admin) at {kubeconfig}\n"
            f"  e.g. KUBECONFIG={kubeconfig} kubectl get clusters.postgresql.cnpg.io -A",
            file=sys.stderr,
            flush=True,
        )
        env = dict(os.environ, KUBECONFIG=str(kubeconfig), KUBE_CONTEXT="local")
        try:
            return run_forwarding_signals(gunicorn_argv(args), env)
        finally:
            # It points at an apiserver that is about to stop; leaving it would mislead.
            kubeconfig.unlink(missing_ok=True)


def run_forwarding_signals(argv: list[str], env: dict[str, str]) -> int:
    """Run `argv` and pass SIGINT/SIGTERM on to it; return its exit status once it has exited.

    gunicorn runs in its own session so a terminal's Ctrl-C reaches it once (through us),
    and we keep the control plane up until it has drained its requests.
    """
    proc = subprocess.Popen(argv, env=env, start_new_session=True)

    def forward(signum: int, frame: FrameType | None) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        returncode = proc.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if proc.poll() is None:  # we are leaving on an exception: don't orphan gunicorn
            proc.terminate()
            proc.wait()
    return 128 - returncode if returncode < 0 else returncode


if __name__ == "__main__":
    sys.exit(main())
