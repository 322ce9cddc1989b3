"""Backups, scheduled backups and recovery tools, as the server's ServiceAccount."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import kubernetes

from devenv.kubelet_sim import simulate_cluster_ready

GROUP, VERSION = "postgresql.cnpg.io", "v1"
STORE = {"destinationPath": "s3://backups/bk",
         "s3Credentials": {"accessKeyId": {"name": "aws", "key": "ID"},
                           "secretAccessKey": {"name": "aws", "key": "SECRET"}}}


def exercise(ok: Callable[..., dict[str, Any]], admin_api: kubernetes.client.ApiClient, namespace: str) -> None:
    custom = kubernetes.client.CustomObjectsApi(admin_api)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": "bk"},
        "spec": {"instances": 1, "imageName": "ghcr.io/cloudnative-pg/postgresql:17", "storage": {"size": "1Gi"},
                 "backup": {"barmanObjectStore": STORE}},
    })
    simulate_cluster_ready(admin_api, namespace, "bk")

    ok("backup_create", cluster="bk", namespace=namespace, name="bk-1", dry_run=True)
    ok("backup_create", cluster="bk", namespace=namespace, name="bk-1")
    # What the operator would report once the backup is done.
    started = datetime.now(timezone.utc) - timedelta(hours=1)
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, "backups", "bk-1", {"status": {
        "phase": "completed", "startedAt": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "stoppedAt": (started + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"), "majorVersion": 17}})
    assert [b["name"] for b in ok("backup_list", namespace=namespace, cluster="bk")["backups"]] == ["bk-1"]

    ok("scheduled_backup_create", name="bk-daily", cluster="bk", namespace=namespace, schedule="0 0 2 * * *")
    assert ok("scheduled_backup_list", namespace=namespace, cluster="bk")["count"] == 1
    assert ok("scheduled_backup_suspend", name="bk-daily", namespace=namespace)["suspended"] is True
    assert ok("scheduled_backup_resume", name="bk-daily", namespace=namespace)["suspended"] is False
    ok("scheduled_backup_delete", name="bk-daily", namespace=namespace, confirm="bk-daily")

    ok("cluster_restore", name="bk-restored", namespace=namespace, source_cluster="bk", backup="bk-1")
    ok("backup_delete", name="bk-1", namespace=namespace, confirm="bk-1")
