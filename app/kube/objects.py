"""Generic reads and writes of CloudNativePG custom objects, one API call each through `KubeAccess.call`.

Every CNPG kind this server touches is namespaced under postgresql.cnpg.io/v1, so one set of
functions serves them all; `doing` descriptions name the kind in words for error messages.
Writes take `dry_run` (server-side, "All") and `identity` (impersonation); updates are JSON
merge patches carrying only the changed fields.
"""

from __future__ import annotations

from typing import Any

import kubernetes

from app.kube import cnpg
from app.kube.access import Identity, KubeAccess
from app.kube.core import CoreV1

JSON = dict[str, Any]

_WORDS = {"clusters": "cluster", "backups": "backup", "scheduledbackups": "scheduled backup", "poolers": "pooler",
          "databases": "database"}


def custom_api(access: KubeAccess) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(access.api_client())


def core_api(access: KubeAccess) -> CoreV1:
    return CoreV1(access.api_client())


def dry(dry_run: bool) -> dict[str, str]:
    return {"dry_run": "All"} if dry_run else {}


def _word(plural: str) -> str:
    return _WORDS.get(plural, plural.rstrip("s"))


def list_objects(access: KubeAccess, plural: str, namespace: str, identity: Identity | None = None,
                 label_selector: str | None = None) -> list[JSON]:
    options = {"label_selector": label_selector} if label_selector else {}
    found = access.raw(f"list {_word(plural)}s in namespace {namespace!r}", custom_api(access).list_namespaced_custom_object,
                        cnpg.GROUP, cnpg.VERSION, namespace, plural, read=True, identity=identity, **options)
    return list(found.get("items", []))


def get_object(access: KubeAccess, plural: str, namespace: str, name: str, identity: Identity | None = None) -> JSON:
    return access.raw(f"get {_word(plural)} {name!r} in namespace {namespace!r}",
                      custom_api(access).get_namespaced_custom_object,
                      cnpg.GROUP, cnpg.VERSION, namespace, plural, name, read=True, identity=identity)


def create_object(access: KubeAccess, plural: str, namespace: str, body: JSON, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    name = body["metadata"]["name"]
    return access.call(f"create {_word(plural)} {name!r} in namespace {namespace!r}",
                       custom_api(access).create_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, plural, body, read=False, identity=identity, **dry(dry_run))


def patch_object(access: KubeAccess, plural: str, namespace: str, name: str, patch: JSON, *, dry_run: bool,
                 identity: Identity | None = None) -> JSON:
    """JSON merge patch carrying only the changed fields (never a whole, possibly stale, object)."""
    return access.call(f"update {_word(plural)} {name!r} in namespace {namespace!r}",
                       custom_api(access).patch_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, plural, name, patch, read=False, identity=identity,
                       **dry(dry_run))


def delete_object(access: KubeAccess, plural: str, namespace: str, name: str, *, dry_run: bool,
                  identity: Identity | None = None) -> JSON:
    return access.call(f"delete {_word(plural)} {name!r} in namespace {namespace!r}",
                       custom_api(access).delete_namespaced_custom_object,
                       cnpg.GROUP, cnpg.VERSION, namespace, plural, name, read=False, identity=identity,
                       **dry(dry_run))
