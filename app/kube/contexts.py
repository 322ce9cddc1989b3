"""The Kubernetes clusters this worker may reach, and the factory of per-call sessions.

Single-cluster mode (KUBE_CONTEXTS unset): one unnamed context — in-cluster, or the kubeconfig's
KUBE_CONTEXT / current context — exactly as before contexts existed.

Several clusters (KUBE_CONTEXTS=a,b or *): the named contexts of the kubeconfig (KUBECONFIG may
list several files, e.g. one per mounted Secret), each with its own lazily created client, and
its own read-only flag and namespace allow-list. The names are checked against the kubeconfig
when the app is built, so a typo fails the start instead of the first call.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import kubernetes

from app.identity import Principal
from app.kube.access import Identity, KubeAccess, current_context
from app.kube.errors import CallerNotMapped, ContextNotServed
from app.kube.exchange import ExchangedIdentity, TokenExchanger
from app.kube.session import KubeSession
from app.settings import Settings, SettingsError

ALL_CONTEXTS = "*"


@dataclass(frozen=True)
class ContextPolicy:
    """What the server may do in one context."""

    name: str | None
    """The kubeconfig context; None for the single unnamed cluster."""
    read_only: bool
    namespaces: tuple[str, ...]
    """Namespace allow-list; empty means every namespace."""


class KubeContexts:
    """Per worker: the allowed contexts, their policies, and one `KubeAccess` each (created on first use)."""

    def __init__(self, settings: Settings, token_endpoint: Callable[[], str] | None = None) -> None:
        """`token_endpoint`: the identity provider's, for KUBE_AUTH=exchange (KUBE_EXCHANGE_TOKEN_URL wins).

        Raises: SettingsError when a context setting names something the kubeconfig does not have."""
        self.settings = settings
        self._lock = threading.Lock()
        self._access: dict[str | None, KubeAccess] = {}
        self.exchanger: TokenExchanger | None = None
        if settings.kube_auth == "exchange":
            self.exchanger = TokenExchanger(settings, token_endpoint or _no_discovery)
        if not settings.kube_contexts:
            self._policies = {None: ContextPolicy(None, settings.read_only, settings.namespaces)}
            self.default = self._policies[None]
            return
        names, current = _kubeconfig_contexts(settings)
        self._policies = {
            name: ContextPolicy(
                name,
                settings.read_only or name in settings.read_only_contexts,
                dict(settings.context_namespaces).get(name, settings.namespaces),
            )
            for name in names
        }
        configured = [*settings.read_only_contexts, *(name for name, _ in settings.context_namespaces)]
        if settings.kube_context:
            configured.append(settings.kube_context)
        unknown = [name for name in configured if name not in self._policies]
        if unknown:
            raise SettingsError("KUBE_CONTEXTS", f"to include every context named by KUBE_CONTEXT, "
                                f"MCP_READ_ONLY_CONTEXTS and MCP_CONTEXT_NAMESPACES (missing: {', '.join(unknown)})")
        default = settings.kube_context or (current if current in self._policies else names[0])
        self.default = self._policies[default]

    @property
    def names(self) -> list[str]:
        """The allowed context names, in configuration order; empty in single-cluster mode."""
        return [name for name in self._policies if name is not None]

    @property
    def policies(self) -> list[ContextPolicy]:
        return list(self._policies.values())

    def policy(self, name: str | None) -> ContextPolicy:
        """Raises: ContextNotServed, naming the allowed contexts."""
        try:
            return self._policies[name]
        except KeyError:
            allowed = ", ".join(self.names) or "none (this server serves a single cluster)"
            raise ContextNotServed(f"Context {name!r} is not served by this server; allowed: {allowed}") from None

    def access(self, name: str | None) -> KubeAccess:
        """The worker's client for an allowed context, created on first use."""
        found = self._access.get(name)
        if found is None:
            self.policy(name)
            with self._lock:
                found = self._access.setdefault(name, KubeAccess(self.settings, context=name))
        return found

    def session(self, principal: Principal) -> KubeSession:
        """The per-call session of `principal` in the default context: the one factory both
        transports use.

        Raises:
            CallerNotMapped: the caller cannot be given a Kubernetes identity (impersonation claims missing,
                or no token to exchange).
        """
        if self.exchanger is not None:
            if principal.credential is None:
                raise CallerNotMapped("This server runs Kubernetes calls as the caller (KUBE_AUTH=exchange) and "
                                      "needs your access token for that; call it with a bearer token")
            return KubeSession(self, self.default, ExchangedIdentity(self.exchanger, principal.credential,
                                                                     principal.subject))
        return KubeSession(self, self.default, caller_identity(principal, self.settings))


def _no_discovery() -> str:
    raise RuntimeError("no token endpoint: set KUBE_EXCHANGE_TOKEN_URL")


def caller_identity(principal: Principal, settings: Settings) -> Identity | None:
    """The Kubernetes user and groups to impersonate for this caller (KUBE_IMPERSONATE), or None.

    Raises:
        CallerNotMapped: the token lacks the configured user claim, or a claim has the wrong type.
    """
    if not settings.kube_impersonate:
        return None
    user = principal.claims.get(settings.impersonate_user_claim)
    if not isinstance(user, str) or not user:
        raise CallerNotMapped(
            f"Your token has no {settings.impersonate_user_claim!r} claim, which this server maps to a Kubernetes "
            "user (KUBE_IMPERSONATE_USER_CLAIM); ask for a token that carries it"
        )
    groups: Any = principal.claims.get(settings.impersonate_groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise CallerNotMapped(f"The token's {settings.impersonate_groups_claim!r} claim must be a list of strings")
    prefix = settings.impersonate_groups_prefix
    return Identity(user=settings.impersonate_user_prefix + user, groups=tuple(prefix + g for g in groups))


def _kubeconfig_contexts(settings: Settings) -> tuple[list[str], str | None]:
    """The allowed context names (KUBE_CONTEXTS order, or the kubeconfig's for *) and the current one
    (kubectl's: the first file that sets it).

    Reads the kubeconfig file(s) only: no client is created here.
    """
    path = settings.kubeconfig or os.path.expanduser(kubernetes.config.KUBE_CONFIG_DEFAULT_LOCATION)
    try:
        found, _ = kubernetes.config.list_kube_config_contexts(config_file=path)
    except (kubernetes.config.ConfigException, ValueError, OSError) as exc:
        raise SettingsError("KUBECONFIG", f"a readable kubeconfig with the contexts of KUBE_CONTEXTS ({exc})",
                            path) from None
    available = [str(c["name"]) for c in found or []]
    if settings.kube_contexts == (ALL_CONTEXTS,):
        names = available
    else:
        missing = [name for name in settings.kube_contexts if name not in available]
        if missing:
            raise SettingsError("KUBE_CONTEXTS", f"contexts of {path} (it has: {', '.join(available) or 'none'})",
                                ",".join(missing))
        names = list(settings.kube_contexts)
    if not names:
        raise SettingsError("KUBE_CONTEXTS", f"at least one context, but {path} has none")
    return names, current_context(path)
