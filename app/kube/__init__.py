"""Kubernetes access: the only package that imports `kubernetes`.

Clients are created lazily, once per worker process, on first use — never at
import — so gunicorn forks never share a connection pool.
"""

from app.kube.access import Identity, KubeAccess
from app.kube.contexts import ContextPolicy, KubeContexts
from app.kube.errors import (
    AlreadyExists,
    CallerNotMapped,
    Conflict,
    ContextNotServed,
    Forbidden,
    Invalid,
    KubeError,
    KubeletUnreachable,
    KubeNotConfigured,
    KubeUnavailable,
    NamespaceNotServed,
    NotFound,
)
from app.kube.session import ALL_NAMESPACES, KubeSession

__all__ = [
    "ALL_NAMESPACES",
    "AlreadyExists",
    "CallerNotMapped",
    "Conflict",
    "ContextNotServed",
    "ContextPolicy",
    "Forbidden",
    "Identity",
    "Invalid",
    "KubeAccess",
    "KubeContexts",
    "KubeError",
    "KubeletUnreachable",
    "KubeNotConfigured",
    "KubeUnavailable",
    "KubeSession",
    "NamespaceNotServed",
    "NotFound",
]
