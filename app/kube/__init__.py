"""Kubernetes access: the only package that imports `kubernetes`.

Clients are created lazily, once per worker process, on first use — never at
import — so gunicorn forks never share a connection pool.
"""

from app.kube.access import KubeAccess
from app.kube.errors import KubeError, KubeNotConfigured, KubeUnavailable

__all__ = ["KubeAccess", "KubeError", "KubeNotConfigured", "KubeUnavailable"]
