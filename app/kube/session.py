"""One Kubernetes session per call: which cluster (context), as whom (identity), and where (namespaces).

A `KubeSession` is built once where a request enters (`KubeContexts.session`) and carried in the
tool context. Every API call of every tool goes through its `_call`, which is therefore the one
place that adds the caller's impersonation headers and refuses a namespace the context does not
serve — before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import kubernetes

from app.kube import cnpg
from app.kube.access import CallerIdentity, KubeAccess
from app.kube.core import CoreV1, CustomObjectReads
from app.kube.errors import CredentialsRejected, NamespaceNotServed

if TYPE_CHECKING:  # only for annotations: contexts.py builds sessions, so it imports this module
    from app.kube.contexts import ContextPolicy, KubeContexts

T = TypeVar("T")
JSON = dict[str, Any]

# `namespace=` of a call that spans every namespace (a cluster-wide list): refused when the
# context serves a namespace allow-list. `None` marks a call that is not about a namespace at all.
ALL_NAMESPACES = "*"


def dry(dry_run: bool) -> dict[str, str]:
    """The query option of a server-side dry run (admission webhooks run, nothing is stored)."""
    return {"dry_run": "All"} if dry_run else {}


@dataclass(frozen=True)
class KubeSession:
    """The Kubernetes side of one tool call. Frozen: a handler cannot widen its own reach."""

    contexts: KubeContexts
    policy: ContextPolicy
    identity: CallerIdentity | None
    """Who calls run as: the impersonated caller, the caller's exchanged token, or (None) the server."""

    # ----- what this session is --------------------------------------------------------

    @property
    def context(self) -> str | None:
        """The kubeconfig context's name; None when the server serves one unnamed cluster."""
        return self.policy.name

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The namespaces this context serves; empty means all."""
        return self.policy.namespaces

    @property
    def read_only(self) -> bool:
        return self.policy.read_only

    @property
    def access(self) -> KubeAccess:
        return self.contexts.access(self.policy.name)

    @property
    def runs_as(self) -> str | None:
        """The Kubernetes user calls run as, for the audit line: the impersonated user, or the user the
        API server authenticated from the exchanged token (once a call was made); None: the server."""
        return self.identity.seen_as(self.context) if self.identity is not None else None

    def served_contexts(self) -> list[str]:
        """Every context the server may reach (empty in single-cluster mode)."""
        return self.contexts.names

    def in_context(self, name: str) -> KubeSession:
        """The same caller in another allowed context.

        Raises:
            ContextNotServed: `name` is not one of the allowed contexts.
        """
        return replace(self, policy=self.contexts.policy(name))

    def where(self, namespace: str) -> str:
        """'namespace 'db'' or, with several contexts, 'namespace 'db' of context 'prod'' (for messages)."""
        return f"namespace {namespace!r}" + (f" of context {self.context!r}" if self.context else "")

    # ----- the one request path -----------------------------------------------------------

    def call(self, doing: str, fn: Callable[..., T], *args: Any, namespace: str | None, read: bool,
             **kwargs: Any) -> T:
        """Run one API call (see `KubeAccess.call` for timeouts, retries and error mapping).

        `namespace` is the namespace the call reads or writes (ALL_NAMESPACES for a cluster-wide
        list, None for a call about no namespace, e.g. a SelfSubjectAccessReview).

        Raises:
            NamespaceNotServed: the context does not serve `namespace`; nothing was sent.
            KubeError: as `KubeAccess.call`.
        """
        return self._call(doing, fn, args, namespace, read, kwargs)

    def raw(self, doing: str, fn: Callable[..., Any], *args: Any, namespace: str | None, read: bool = True,
            **kwargs: Any) -> JSON:
        """Like `call`, but parses the response bytes straight into dicts: no typed models."""
        response = self._call(doing, fn, args, namespace, read, {**kwargs, "_preload_content": False})
        return json.loads(response.data)

    def _call(self, doing: str, fn: Callable[..., T], args: tuple[Any, ...], namespace: str | None, read: bool,
              kwargs: dict[str, Any]) -> T:
        self._check_namespace(namespace)
        identity = self.identity
        if identity is None:
            return self.access.call(doing, fn, *args, read=read, **kwargs)
        extra = kwargs.get("_headers", {})
        kwargs["_headers"] = {**extra, **identity.headers(self.access, self.context)}
        try:
            return self.access.call(doing, fn, *args, read=read, **kwargs)
        except CredentialsRejected:
            if identity.own_credentials:
                raise
            # The exchanged token expired or was revoked early. Nothing was done (authentication comes
            # first), so even a write may be sent again, once, with a freshly exchanged token.
            identity.renew()
            kwargs["_headers"] = {**extra, **identity.headers(self.access, self.context)}
            return self.access.call(doing, fn, *args, read=read, **kwargs)

    def _check_namespace(self, namespace: str | None) -> None:
        allowed = self.namespaces
        if not allowed or namespace is None or namespace in allowed:
            return
        served = "this server" + (f" in context {self.context!r}" if self.context else "")
        if namespace == ALL_NAMESPACES:
            raise NamespaceNotServed(
                f"{served} serves only the namespaces {', '.join(allowed)}: give one of them")
        raise NamespaceNotServed(f"Namespace {namespace!r} is not served by {served}; allowed: {', '.join(allowed)}")

    def prefetch(self, read: Callable[[], T]) -> Future[T]:
        """Start an independent read now, collect it with `.result()` later (`KubeAccess.prefetch`)."""
        return self.access.prefetch(read)

    # ----- API groups on this context's client ------------------------------------------

    def _client(self) -> kubernetes.client.ApiClient:
        """With an exchanged token the client must not carry the server's own credentials."""
        return self.access.api_client(own_credentials=self.identity is None or self.identity.own_credentials)

    def core(self) -> CoreV1:
        return CoreV1(self._client())

    def custom(self) -> kubernetes.client.CustomObjectsApi:
        return kubernetes.client.CustomObjectsApi(self._client())

    def custom_reads(self) -> CustomObjectReads:
        """Custom-object get/list without the generated client's per-call argument validation (core.py)."""
        return CustomObjectReads(self._client())

    def batch(self) -> kubernetes.client.BatchV1Api:
        return kubernetes.client.BatchV1Api(self._client())

    # ----- CloudNativePG objects, one call each ---------------------------------------

    def list(self, kind: cnpg.Kind, namespace: str, *, label_selector: str | None = None) -> list[JSON]:
        """Objects of `kind` in `namespace`, or in every namespace for ALL_NAMESPACES."""
        options = {"label_selector": label_selector} if label_selector else {}
        if namespace == ALL_NAMESPACES:
            found = self.raw(f"list {kind.word}s in all namespaces", self.custom_reads().list_cluster_custom_object,
                             cnpg.GROUP, cnpg.VERSION, kind.plural, namespace=namespace, **options)
        else:
            found = self.raw(f"list {kind.word}s in {self.where(namespace)}",
                             self.custom_reads().list_namespaced_custom_object,
                             cnpg.GROUP, cnpg.VERSION, namespace, kind.plural, namespace=namespace, **options)
        return list(found.get("items", []))

    def get(self, kind: cnpg.Kind, namespace: str, name: str) -> JSON:
        return self.raw(f"get {kind.word} {name!r} in {self.where(namespace)}",
                        self.custom_reads().get_namespaced_custom_object,
                        cnpg.GROUP, cnpg.VERSION, namespace, kind.plural, name, namespace=namespace)

    def create(self, kind: cnpg.Kind, namespace: str, body: JSON, *, dry_run: bool) -> JSON:
        name = body["metadata"]["name"]
        return self.call(f"create {kind.word} {name!r} in {self.where(namespace)}",
                         self.custom().create_namespaced_custom_object,
                         cnpg.GROUP, cnpg.VERSION, namespace, kind.plural, body, namespace=namespace, read=False,
                         **dry(dry_run))

    def patch(self, kind: cnpg.Kind, namespace: str, name: str, patch: JSON, *, dry_run: bool) -> JSON:
        """JSON merge patch carrying only the changed fields (never a whole, possibly stale, object)."""
        return self.call(f"update {kind.word} {name!r} in {self.where(namespace)}",
                         self.custom().patch_namespaced_custom_object,
                         cnpg.GROUP, cnpg.VERSION, namespace, kind.plural, name, patch, namespace=namespace,
                         read=False, **dry(dry_run))

    def patch_status(self, kind: cnpg.Kind, namespace: str, name: str, patch: JSON, *, dry_run: bool) -> JSON:
        return self.call(f"update the status of {kind.word} {name!r} in {self.where(namespace)}",
                         self.custom().patch_namespaced_custom_object_status,
                         cnpg.GROUP, cnpg.VERSION, namespace, kind.plural, name, patch, namespace=namespace,
                         read=False, **dry(dry_run))

    def delete(self, kind: cnpg.Kind, namespace: str, name: str, *, dry_run: bool) -> JSON:
        return self.call(f"delete {kind.word} {name!r} in {self.where(namespace)}",
                         self.custom().delete_namespaced_custom_object,
                         cnpg.GROUP, cnpg.VERSION, namespace, kind.plural, name, namespace=namespace, read=False,
                         **dry(dry_run))

    # ----- questions about the caller -----------------------------------------------------

    def can_i(self, verb: str, group: str, resource: str, namespace: str | None) -> bool:
        """Ask the API server (SelfSubjectAccessReview, as this session's identity) whether the
        caller may do it. Every authenticated user may create self-reviews: no extra RBAC."""
        attributes = {"verb": verb, "group": group, "resource": resource}
        if namespace is not None:
            attributes["namespace"] = namespace
        where = f"in namespace {namespace!r}" if namespace else "in all namespaces"
        review = self.raw(f"check whether the caller may {verb} {resource} {where}",
                          kubernetes.client.AuthorizationV1Api(self._client()).create_self_subject_access_review,
                          {"spec": {"resourceAttributes": attributes}}, namespace=namespace)
        return bool(review.get("status", {}).get("allowed"))
