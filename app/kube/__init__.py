"""Kubernetes access: the only package that imports `kubernetes`.

Clients are created lazily, once per worker process, on first use — never at
import — so gunicorn forks never share a connection pool.
"""

from app.kube.access import Identity, KubeAccess
from app.kube.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    KubeError,
    KubeNotConfigured,
    KubeUnavailable,
    NotFound,
)

__all__ = [
    "AlreadyExists",
    "Conflict",
    "Forbidden",
    "Identity",
    "Invalid",
    "KubeAccess",
    "KubeError",
    "KubeNotConfigured",
    "KubeUnavailable",
    "NotFound",
]
