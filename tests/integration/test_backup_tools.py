"""Backups, scheduled backups and cluster_restore against the real local API server with the real
CloudNativePG CRDs, operator and webhooks. No backup can really run (no Pod runs): Backup and Cluster status
a running cluster would have is simulated (devenv/kubelet_sim.py), which freezes those objects."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from app import create_app
from app.settings import Settings
from app.tools.recovery import parse_target_time
from app.tools.errors import ToolError
from devenv.kubelet_sim import set_cluster_status, set_status, simulate_cluster_ready
from tests.support.mcp_calls import ToolCaller, tool_caller

GROUP, VERSION = "postgresql.cnpg.io", "v1"
NOW = datetime.now(timezone.utc)
STORE = {
    "destinationPath": "s3://backups/pg",
    "endpointURL": "https://minio.example.test:9000",
    "s3Credentials": {"accessKeyId": {"name": "aws-creds", "key": "ID"},
                      "secretAccessKey": {"name": "aws-creds", "key": "SECRET"}},
    "wal": {"compression": "gzip", "maxParallel": 4},
}
MUTATING = ["backup_create", "backup_delete", "scheduled_backup_create", "scheduled_backup_suspend",
            "scheduled_backup_resume", "scheduled_backup_delete", "cluster_restore"]
READ_ONLY = ["backup_list", "scheduled_backup_list"]


def _custom(api: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _make_cluster(api: kubernetes.client.ApiClient, namespace: str, name: str, *, backup: dict | None = None,
                  **spec: Any) -> dict[str, Any]:
    """A Cluster as a user would write it; `backup` is its spec.backup (default: an S3 object store)."""
    body = {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Cluster", "metadata": {"name": name},
        "spec": {
            "instances": 3, "imageName": "ghcr.io/cloudnative-pg/postgresql:16.4",
            "storage": {"size": "5Gi", "storageClass": "fast"}, "walStorage": {"size": "1Gi"},
            "bootstrap": {"initdb": {"database": "shop", "owner": "shopper"}},
            "postgresql": {"parameters": {"max_connections": "300"}},
            "backup": {"barmanObjectStore": STORE, "retentionPolicy": "30d"} if backup is None else backup,
            **spec,
        },
    }
    if not body["spec"]["backup"]:
        del body["spec"]["backup"]
    return _custom(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", body)


def _make_backup(api: kubernetes.client.ApiClient, namespace: str, name: str, cluster: str,
                 spec: dict | None = None, labels: dict | None = None, owner: dict | None = None,
                 **status: Any) -> dict[str, Any]:
    """A Backup object, with the status the operator would report (none if no status fields given)."""
    metadata: dict[str, Any] = {"name": name, "labels": {"cnpg.io/cluster": cluster, **(labels or {})}}
    if owner:
        metadata["ownerReferences"] = [owner]
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Backup", "metadata": metadata,
            "spec": {"cluster": {"name": cluster}, **(spec or {})}}
    created = _custom(api).create_namespaced_custom_object(GROUP, VERSION, namespace, "backups", body)
    if status:
        # What the operator would report once the backup ran: simulated, so the Backup is frozen.
        created = set_status(api, namespace, "backups", name, **status)
    return created


def _completed(api: kubernetes.client.ApiClient, namespace: str, name: str, cluster: str, started: datetime,
               **extra: Any) -> dict[str, Any]:
    return _make_backup(
        api, namespace, name, cluster, phase="completed", method="barmanObjectStore",
        startedAt=_stamp(started), stoppedAt=_stamp(started + timedelta(minutes=10)),
        backupId=started.strftime("%Y%m%dT%H%M%S"), serverName=cluster, destinationPath=STORE["destinationPath"],
        beginWal="000000010000000000000002", endWal="000000010000000000000003",
        beginLSN="0/2000028", endLSN="0/3000100", majorVersion=16,
        instanceID={"podName": f"{cluster}-2"}, **extra,
    )


def _names(api: kubernetes.client.ApiClient, namespace: str, plural: str) -> list[str]:
    items = _custom(api).list_namespaced_custom_object(GROUP, VERSION, namespace, plural)["items"]
    return sorted(item["metadata"]["name"] for item in items)


def _read(api: kubernetes.client.ApiClient, namespace: str, plural: str, name: str) -> dict[str, Any]:
    return _custom(api).get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)


# --- backup_list -------------------------------------------------------------


def test_list_shows_a_clusters_backups_newest_first_with_what_the_operator_reported(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, "pg")
    _make_cluster(admin_api, namespace, "other")
    set_cluster_status(admin_api, namespace, "pg", firstRecoverabilityPoint=_stamp(NOW - timedelta(days=3)),
                       lastSuccessfulBackup=_stamp(NOW - timedelta(days=1)))
    _completed(admin_api, namespace, "pg-old", "pg", NOW - timedelta(days=3))
    _make_backup(admin_api, namespace, "pg-failed", "pg", spec={"method": "barmanObjectStore"},
                 phase="failed", error="can't upload: access denied", startedAt=_stamp(NOW - timedelta(days=2)),
                 stoppedAt=_stamp(NOW - timedelta(days=2, minutes=-1)))
    _completed(admin_api, namespace, "pg-new", "pg", NOW - timedelta(days=1))
    _make_backup(admin_api, namespace, "pg-queued", "pg", spec={"method": "volumeSnapshot", "online": False})
    _make_backup(admin_api, namespace, "other-1", "other", phase="completed")

    out = tools.ok("backup_list", namespace=namespace, cluster="pg")

    assert out["count"] == 4
    assert [b["name"] for b in out["backups"]] == ["pg-queued", "pg-new", "pg-failed", "pg-old"]
    queued, new, failed, _ = out["backups"]
    # The real operator's verdict on a snapshot backup of a cluster without spec.backup.volumeSnapshot
    # (backup_create refuses such a request before it gets this far).
    assert (queued["phase"], queued["error"]) == ("failed", "no volumeSnapshot section defined on the target cluster")
    assert queued["method"] == "volumeSnapshot" and queued["online"] is False
    assert queued["details"] == {} and queued["started_at"] is None
    assert new["phase"] == "completed" and new["method"] == "barmanObjectStore" and new["error"] is None
    assert new["started_at"] == _stamp(NOW - timedelta(days=1))
    assert new["details"] == {
        "backup_id": (NOW - timedelta(days=1)).strftime("%Y%m%dT%H%M%S"), "server_name": "pg",
        "destination_path": "s3://backups/pg", "begin_wal": "000000010000000000000002",
        "end_wal": "000000010000000000000003", "begin_lsn": "0/2000028", "end_lsn": "0/3000100",
        "major_version": 16, "instance": "pg-2",
    }
    assert failed["phase"] == "failed" and failed["error"] == "can't upload: access denied"
    assert out["recoverability"] == {"first_recoverability_point": _stamp(NOW - timedelta(days=3)),
                                     "last_successful_backup": _stamp(NOW - timedelta(days=1))}


def test_list_without_a_cluster_shows_every_backup_of_the_namespace(tools: ToolCaller, admin_api,
                                                                    namespace: str) -> None:
    _make_backup(admin_api, namespace, "a-1", "a")
    _make_backup(admin_api, namespace, "b-1", "b", labels={"cnpg.io/scheduled-backup": "b-daily"})

    out = tools.ok("backup_list", namespace=namespace)

    assert out["cluster"] is None and out["recoverability"] is None
    assert sorted((b["name"], b["cluster"], b["scheduled_backup"]) for b in out["backups"]) == [
        ("a-1", "a", None), ("b-1", "b", "b-daily")]


def test_list_filters_on_the_spec_cluster_not_only_the_label(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    # Hand-written: label says "pg", spec (what the operator uses) says "other".
    _make_backup(admin_api, namespace, "mislabelled", "other", labels={"cnpg.io/cluster": "pg"})

    assert tools.ok("backup_list", namespace=namespace, cluster="pg")["backups"] == []


def test_list_keeps_the_backups_of_a_deleted_cluster_restorable(tools: ToolCaller, admin_api, namespace: str) -> None:
    _completed(admin_api, namespace, "gone-1", "gone", NOW - timedelta(hours=5))

    out = tools.ok("backup_list", namespace=namespace, cluster="gone")

    assert [b["name"] for b in out["backups"]] == ["gone-1"]
    assert "no longer exists" in out["note"] and "cluster_restore" in out["note"]


def test_list_of_an_unknown_cluster_or_namespace_says_what_exists(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg-main")

    assert tools.error("backup_list", namespace=namespace, cluster="pg-mian") == (
        f"Cluster 'pg-mian' not found in namespace {namespace!r}; clusters there: pg-main")
    assert tools.error("backup_list", namespace="no-such-ns") == "Namespace 'no-such-ns' does not exist"


# --- backup_create -----------------------------------------------------------


def test_create_asks_for_a_backup_named_after_the_cluster_and_utc_time(tools: ToolCaller, admin_api,
                                                                       namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    before = datetime.now(timezone.utc).replace(microsecond=0)

    out = tools.ok("backup_create", cluster="pg", namespace=namespace)

    after = datetime.now(timezone.utc)
    assert out["created"] is True and out["dry_run"] is False and out["method"] == "barmanObjectStore"
    match = re.fullmatch(r"pg-(\d{14})", out["name"])
    assert match is not None
    assert before <= datetime.strptime(match[1], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc) <= after
    backup = _read(admin_api, namespace, "backups", out["name"])
    assert backup["metadata"]["labels"]["cnpg.io/cluster"] == "pg"
    # The CRD default fills in the method; nothing else is set unless asked for.
    assert backup["spec"] == {"cluster": {"name": "pg"}, "method": "barmanObjectStore"}


def test_create_with_a_snapshot_method_sets_every_option_given(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg", backup={"volumeSnapshot": {"className": "csi-snap"}})

    out = tools.ok("backup_create", cluster="pg", namespace=namespace, name="pg-before-upgrade",
                   method="volumeSnapshot", target="primary", online=True,
                   online_configuration={"immediate_checkpoint": True, "wait_for_archive": False})

    assert out["name"] == "pg-before-upgrade"
    assert _read(admin_api, namespace, "backups", "pg-before-upgrade")["spec"] == {
        "cluster": {"name": "pg"}, "method": "volumeSnapshot", "target": "primary", "online": True,
        "onlineConfiguration": {"immediateCheckpoint": True, "waitForArchive": False},
    }


def test_create_with_a_plugin_passes_its_name_and_parameters(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg", backup={},
                  plugins=[{"name": "barman-cloud.cloudnative-pg.io", "parameters": {"barmanObjectName": "store"}}])

    tools.ok("backup_create", cluster="pg", namespace=namespace, name="pg-plugin", method="plugin",
             plugin_name="barman-cloud.cloudnative-pg.io", plugin_parameters={"compression": "zstd"})

    assert _read(admin_api, namespace, "backups", "pg-plugin")["spec"]["pluginConfiguration"] == {
        "name": "barman-cloud.cloudnative-pg.io", "parameters": {"compression": "zstd"}}


def test_create_dry_run_shows_the_backup_and_creates_nothing(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")

    out = tools.ok("backup_create", cluster="pg", namespace=namespace, name="pg-try", dry_run=True)

    assert out["created"] is False and out["dry_run"] is True
    assert out["spec"] == {"cluster": {"name": "pg"}, "method": "barmanObjectStore"}
    assert _names(admin_api, namespace, "backups") == []


@pytest.mark.parametrize(
    ("cluster_backup", "arguments", "expected"),
    [
        ({}, {}, "has no spec.backup.barmanObjectStore configured, so a barmanObjectStore backup (the default "
                 "method) would fail; it has no backup configuration at all"),
        ({"volumeSnapshot": {"className": "csi"}}, {"method": "barmanObjectStore"},
         "has no spec.backup.barmanObjectStore configured, so a barmanObjectStore backup would fail; "
         "it supports: volumeSnapshot"),
        ({"barmanObjectStore": STORE}, {"method": "volumeSnapshot"},
         "has no spec.backup.volumeSnapshot configured, so a volumeSnapshot backup would fail; "
         "it supports: barmanObjectStore"),
        ({"barmanObjectStore": STORE}, {"method": "plugin"}, "method plugin needs plugin_name"),
        ({"barmanObjectStore": STORE}, {"method": "plugin", "plugin_name": "x.example.com"},
         "does not enable plugin 'x.example.com' in spec.plugins; it supports: barmanObjectStore"),
        ({"barmanObjectStore": STORE}, {"plugin_name": "x.example.com"}, "plugin_name apply only with method plugin"),
        ({"barmanObjectStore": STORE}, {"online": False}, "barmanObjectStore backups are always online"),
        ({"barmanObjectStore": STORE}, {"name": "Bad_Name"}, "name: 'Bad_Name' does not match"),
        ({"barmanObjectStore": STORE}, {"method": "tape"}, "method: 'tape' is not one of"),
        ({"barmanObjectStore": STORE}, {"when": "now"}, "('when' was unexpected)"),
    ],
)
def test_create_refuses_what_the_operator_would_fail_on(
    tools: ToolCaller, admin_api, namespace: str, cluster_backup: dict, arguments: dict, expected: str
) -> None:
    _make_cluster(admin_api, namespace, "pg", backup=cluster_backup)

    message = tools.error("backup_create", cluster="pg", namespace=namespace, **arguments)

    assert expected in message
    assert _names(admin_api, namespace, "backups") == []


def test_create_for_a_missing_or_hibernated_cluster_is_refused(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg-main")
    _custom(admin_api).patch_namespaced_custom_object(GROUP, VERSION, namespace, "clusters", "pg-main",
                                                      {"metadata": {"annotations": {"cnpg.io/hibernation": "on"}}})

    missing = tools.error("backup_create", cluster="pg-mian", namespace=namespace)
    hibernated = tools.error("backup_create", cluster="pg-main", namespace=namespace)

    assert missing == f"Cluster 'pg-mian' not found in namespace {namespace!r}; clusters there: pg-main"
    assert "is hibernated" in hibernated
    assert _names(admin_api, namespace, "backups") == []


# --- backup_delete -----------------------------------------------------------


def test_delete_needs_the_backup_name_repeated_and_explains_the_object_store(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, "pg")
    _completed(admin_api, namespace, "pg-1", "pg", NOW - timedelta(days=1))

    refused = tools.error("backup_delete", name="pg-1", namespace=namespace, confirm="pg")
    preview = tools.ok("backup_delete", name="pg-1", namespace=namespace, confirm="pg-1", dry_run=True)
    still_there = _names(admin_api, namespace, "backups")
    done = tools.ok("backup_delete", name="pg-1", namespace=namespace, confirm="pg-1")

    assert refused == "To delete backup 'pg-1', repeat 'pg-1' exactly in confirm"
    assert preview["deleted"] is False and still_there == ["pg-1"]
    assert done["deleted"] is True and done["cluster"] == "pg" and done["phase"] == "completed"
    assert "does not delete the backup files in the object store" in done["data"]
    assert "retention policy (30d)" in done["data"]
    assert _names(admin_api, namespace, "backups") == []


def test_delete_explains_what_happens_to_volume_snapshots(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg", backup={"volumeSnapshot": {"snapshotOwnerReference": "backup"}})
    _make_backup(admin_api, namespace, "pg-snap", "pg", spec={"method": "volumeSnapshot"}, phase="completed")
    _make_cluster(admin_api, namespace, "keep", backup={"volumeSnapshot": {"className": "csi"}})
    _make_backup(admin_api, namespace, "keep-snap", "keep", spec={"method": "volumeSnapshot"}, phase="completed")

    owned = tools.ok("backup_delete", name="pg-snap", namespace=namespace, confirm="pg-snap")["data"]
    kept = tools.ok("backup_delete", name="keep-snap", namespace=namespace, confirm="keep-snap")["data"]

    assert "owned by the Backup and are deleted with it" in owned
    assert "are kept (snapshotOwnerReference is 'none')" in kept


def test_delete_of_an_unknown_backup_names_the_backups_that_exist(tools: ToolCaller, admin_api,
                                                                  namespace: str) -> None:
    _make_backup(admin_api, namespace, "pg-1", "pg")

    assert tools.error("backup_delete", name="pg-2", namespace=namespace, confirm="pg-2") == (
        f"Backup 'pg-2' not found in namespace {namespace!r}; backups there: pg-1")


# --- scheduled backups -------------------------------------------------------


def test_schedule_create_makes_the_scheduled_backup_described(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")

    out = tools.ok("scheduled_backup_create", name="pg-nightly", cluster="pg", namespace=namespace,
                   schedule="0  30 2 * * MON-FRI", immediate=True, backup_owner_reference="self",
                   target="prefer-standby")

    assert out["created"] is True and out["scheduled_backup"]["schedule"] == "0 30 2 * * MON-FRI"
    scheduled = _read(admin_api, namespace, "scheduledbackups", "pg-nightly")
    assert scheduled["metadata"]["labels"]["cnpg.io/cluster"] == "pg"
    assert scheduled["spec"] == {
        "cluster": {"name": "pg"}, "schedule": "0 30 2 * * MON-FRI", "immediate": True,
        "backupOwnerReference": "self", "target": "prefer-standby", "method": "barmanObjectStore",
    }


def test_schedule_create_refuses_a_five_field_cron_and_explains_the_seconds(tools: ToolCaller, admin_api,
                                                                            namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")

    message = tools.error("scheduled_backup_create", name="pg-nightly", cluster="pg", namespace=namespace,
                          schedule="0 2 * * *")

    assert message.startswith("Invalid schedule: '0 2 * * *' has 5 fields")
    assert "SECONDS" in message and "'0 0 2 * * *'" in message
    assert _names(admin_api, namespace, "scheduledbackups") == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"schedule": "0 0 25 * * *"}, "Invalid schedule: hours field: 25 is outside 0-23"),
        ({"schedule": "@every 10x"}, "Invalid schedule: '10x' is not a duration"),
        ({"schedule": "0 0 2 * * *", "method": "volumeSnapshot"}, "has no spec.backup.volumeSnapshot configured"),
        ({"schedule": "0 0 2 * * *", "backup_owner_reference": "mine"}, "'mine' is not one of"),
        ({"schedule": "0 0 2 * * *", "cluster": "nope"}, "Cluster 'nope' not found"),
    ],
)
def test_schedule_create_refuses_bad_input(tools: ToolCaller, admin_api, namespace: str, arguments: dict,
                                           expected: str) -> None:
    _make_cluster(admin_api, namespace, "pg")

    message = tools.error("scheduled_backup_create", **{"name": "pg-s", "cluster": "pg", "namespace": namespace,
                                                        **arguments})

    assert expected in message
    assert _names(admin_api, namespace, "scheduledbackups") == []


def test_schedule_create_dry_run_creates_nothing(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")

    out = tools.ok("scheduled_backup_create", name="pg-s", cluster="pg", namespace=namespace, schedule="@daily",
                   suspend=True, dry_run=True)

    assert out["created"] is False and out["scheduled_backup"]["suspended"] is True
    assert out["spec"]["schedule"] == "@daily"
    assert _names(admin_api, namespace, "scheduledbackups") == []


def test_schedule_list_shows_schedules_and_what_the_operator_reported(tools: ToolCaller, admin_api,
                                                                      namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    _make_cluster(admin_api, namespace, "other")
    tools.ok("scheduled_backup_create", name="pg-daily", cluster="pg", namespace=namespace, schedule="@daily")
    tools.ok("scheduled_backup_create", name="other-hourly", cluster="other", namespace=namespace,
             schedule="0 0 * * * *", suspend=True)
    _custom(admin_api).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "scheduledbackups", "pg-daily",
        {"status": {"lastScheduleTime": _stamp(NOW - timedelta(hours=3)), "nextScheduleTime": "2030-01-01T00:00:00Z",
                    "lastCheckTime": _stamp(NOW)}})

    everything = tools.ok("scheduled_backup_list", namespace=namespace)
    of_pg = tools.ok("scheduled_backup_list", namespace=namespace, cluster="pg")

    assert [(s["name"], s["suspended"]) for s in everything["scheduled_backups"]] == [
        ("other-hourly", True), ("pg-daily", False)]
    (daily,) = of_pg["scheduled_backups"]
    assert daily["schedule"] == "@daily" and daily["method"] == "barmanObjectStore"
    assert daily["backup_owner_reference"] == "none" and daily["immediate"] is False
    assert daily["last_schedule_time"] == _stamp(NOW - timedelta(hours=3))
    assert daily["next_schedule_time"] == "2030-01-01T00:00:00Z"
    assert "not found" in tools.error("scheduled_backup_list", namespace=namespace, cluster="pgg")


def test_suspend_and_resume_report_the_previous_state(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    tools.ok("scheduled_backup_create", name="pg-daily", cluster="pg", namespace=namespace, schedule="@daily")

    def suspended() -> bool:
        return bool(_read(admin_api, namespace, "scheduledbackups", "pg-daily")["spec"].get("suspend", False))

    preview = tools.ok("scheduled_backup_suspend", name="pg-daily", namespace=namespace, dry_run=True)
    after_preview = suspended()
    first = tools.ok("scheduled_backup_suspend", name="pg-daily", namespace=namespace)
    again = tools.ok("scheduled_backup_suspend", name="pg-daily", namespace=namespace)
    after_suspend = suspended()
    resumed = tools.ok("scheduled_backup_resume", name="pg-daily", namespace=namespace)

    assert preview == {"name": "pg-daily", "namespace": namespace, "dry_run": True, "previous_suspended": False,
                       "suspended": True, "changed": True}
    assert after_preview is False
    assert (first["previous_suspended"], first["suspended"], first["changed"]) == (False, True, True)
    assert (again["previous_suspended"], again["suspended"], again["changed"]) == (True, True, False)
    assert after_suspend is True
    assert (resumed["previous_suspended"], resumed["suspended"], resumed["changed"]) == (True, False, True)
    assert suspended() is False
    assert tools.error("scheduled_backup_resume", name="pg-weekly", namespace=namespace) == (
        f"Scheduled backup 'pg-weekly' not found in namespace {namespace!r}; scheduled backups there: pg-daily")


def test_schedule_delete_confirms_and_lists_the_backups_deleted_with_it(tools: ToolCaller, admin_api,
                                                                        namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    tools.ok("scheduled_backup_create", name="pg-daily", cluster="pg", namespace=namespace, schedule="@daily",
             backup_owner_reference="self")
    uid = _read(admin_api, namespace, "scheduledbackups", "pg-daily")["metadata"]["uid"]
    owner = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ScheduledBackup", "name": "pg-daily", "uid": uid}
    label = {"cnpg.io/scheduled-backup": "pg-daily"}
    _make_backup(admin_api, namespace, "pg-daily-20260101000000", "pg", labels=label, owner=owner)
    _make_backup(admin_api, namespace, "pg-daily-20260102000000", "pg", labels=label, owner=owner)
    _make_backup(admin_api, namespace, "pg-manual", "pg")

    refused = tools.error("scheduled_backup_delete", name="pg-daily", namespace=namespace, confirm="pg")
    preview = tools.ok("scheduled_backup_delete", name="pg-daily", namespace=namespace, confirm="pg-daily",
                       dry_run=True)
    still_there = _names(admin_api, namespace, "scheduledbackups")
    done = tools.ok("scheduled_backup_delete", name="pg-daily", namespace=namespace, confirm="pg-daily")

    assert refused == "To delete scheduled backup 'pg-daily', repeat 'pg-daily' exactly in confirm"
    assert preview["deleted"] is False and still_there == ["pg-daily"]
    assert done["deleted"] is True and done["backup_owner_reference"] == "self"
    assert done["backups_deleted_with_it"] == ["pg-daily-20260101000000", "pg-daily-20260102000000"]
    assert "garbage collection" in done["note"]
    assert _names(admin_api, namespace, "scheduledbackups") == []


# --- cluster_restore -----------------------------------------------------------


def test_restore_from_a_backup_creates_a_new_cluster_like_the_source(tools: ToolCaller, admin_api,
                                                                     namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    simulate_cluster_ready(admin_api, namespace, "pg")
    _completed(admin_api, namespace, "pg-1", "pg", NOW - timedelta(days=1),
               endpointCA={"name": "minio-ca", "key": "ca.crt"})
    source_before = _read(admin_api, namespace, "clusters", "pg")["spec"]

    out = tools.ok("cluster_restore", name="pg-restored", namespace=namespace, source_cluster="pg", backup="pg-1",
                   instances=1)

    assert out["created"] is True and out["cluster"]["name"] == "pg-restored"
    assert out["recovery"] == {"from": "backup", "source_cluster": "pg", "backup": "pg-1", "target_time": None,
                               "inherited_from_source": ["database", "owner", "imageName", "storage size",
                                                         "storage class", "WAL storage size",
                                                         "postgresql configuration"]}
    spec = _read(admin_api, namespace, "clusters", "pg-restored")["spec"]
    assert spec["bootstrap"] == {"recovery": {
        "backup": {"name": "pg-1", "endpointCA": {"name": "minio-ca", "key": "ca.crt"}},
        "database": "shop", "owner": "shopper"}}
    assert spec["instances"] == 1 and spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:16.4"
    assert spec["storage"]["size"] == "5Gi" and spec["storage"]["storageClass"] == "fast"
    assert spec["walStorage"]["size"] == "1Gi"
    assert spec["postgresql"]["parameters"]["max_connections"] == "300"
    assert "backup" not in spec and "externalClusters" not in spec
    assert _read(admin_api, namespace, "clusters", "pg")["spec"] == source_before


def test_restore_point_in_time_from_the_source_object_store(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    set_cluster_status(admin_api, namespace, "pg", firstRecoverabilityPoint=_stamp(NOW - timedelta(days=7)))
    target = (NOW - timedelta(days=2)).astimezone(timezone(timedelta(hours=2)))

    out = tools.ok("cluster_restore", name="pg-pitr", namespace=namespace, source_cluster="pg",
                   target_time=target.strftime("%Y-%m-%d %H:%M:%S+02"), storage_size="10Gi")

    expected_target = _stamp(target.replace(microsecond=0).astimezone(timezone.utc))
    assert out["recovery"]["from"] == "object_store" and out["recovery"]["target_time"] == expected_target
    assert "storage size" not in out["recovery"]["inherited_from_source"] and out["warnings"] == []
    spec = _read(admin_api, namespace, "clusters", "pg-pitr")["spec"]
    assert spec["bootstrap"]["recovery"] == {"source": "pg", "recoveryTarget": {"targetTime": expected_target},
                                             "database": "shop", "owner": "shopper"}
    assert spec["externalClusters"] == [{"name": "pg", "barmanObjectStore": {**STORE, "serverName": "pg"}}]
    assert spec["storage"]["size"] == "10Gi" and spec["instances"] == 3


def test_restore_keeps_an_explicit_server_name_and_warns_without_a_recoverability_point(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, "pg", backup={"barmanObjectStore": {**STORE, "serverName": "pg-v2"}})

    out = tools.ok("cluster_restore", name="pg-copy", namespace=namespace, source_cluster="pg")

    assert out["spec"]["externalClusters"][0]["barmanObjectStore"]["serverName"] == "pg-v2"
    assert out["recovery"]["target_time"] is None
    assert "no recoverability point" in out["warnings"][0]


def test_restore_dry_run_shows_the_cluster_and_creates_nothing(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    _completed(admin_api, namespace, "pg-1", "pg", NOW - timedelta(days=1))

    out = tools.ok("cluster_restore", name="pg-r", namespace=namespace, source_cluster="pg", backup="pg-1",
                   dry_run=True)

    assert out["created"] is False and out["dry_run"] is True
    assert out["spec"]["bootstrap"]["recovery"]["backup"] == {"name": "pg-1"}
    assert out["spec"]["logLevel"] == "info"  # CRD defaults: the API server validated the whole object
    assert _names(admin_api, namespace, "clusters") == ["pg"]


def test_restore_with_an_image_the_operator_refuses_quotes_its_reason(
    tools: ToolCaller, admin_api, namespace: str
) -> None:
    _make_cluster(admin_api, namespace, "pg")
    _completed(admin_api, namespace, "pg-1", "pg", NOW - timedelta(days=1))

    for dry_run in (True, False):
        message = tools.error("cluster_restore", name="pg-r", namespace=namespace, source_cluster="pg",
                              backup="pg-1", image="ghcr.io/cloudnative-pg/postgresql:latest", dry_run=dry_run)
        assert message == (
            f"Invalid request to create cluster 'pg-r' in namespace {namespace!r}: the CloudNativePG operator "
            "(vcluster.cnpg.io) refused it: "
            "spec.imageName: Invalid value: \"ghcr.io/cloudnative-pg/postgresql:latest\": Can't use 'latest' as "
            "image tag as we can't detect upgrades"
        )
    assert _names(admin_api, namespace, "clusters") == ["pg"]


def test_restore_from_a_backup_of_a_deleted_cluster(tools: ToolCaller, admin_api, namespace: str) -> None:
    _completed(admin_api, namespace, "gone-1", "gone", NOW - timedelta(days=1))

    needs_size = tools.error("cluster_restore", name="back", namespace=namespace, source_cluster="gone",
                             backup="gone-1")
    out = tools.ok("cluster_restore", name="back", namespace=namespace, source_cluster="gone", backup="gone-1",
                   storage_size="20Gi")

    assert "Give storage_size" in needs_size
    spec = _read(admin_api, namespace, "clusters", "back")["spec"]
    assert spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:16"  # from the backup's majorVersion
    assert spec["instances"] == 1 and spec["storage"]["size"] == "20Gi"
    assert any("no longer exists" in w for w in out["warnings"])


def test_restore_from_an_unfinished_backup_needs_force(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    _make_backup(admin_api, namespace, "pg-running", "pg", phase="running", startedAt=_stamp(NOW))
    _make_backup(admin_api, namespace, "pg-failed", "pg", phase="failed", error="disk full")

    running = tools.error("cluster_restore", name="pg-r", namespace=namespace, source_cluster="pg",
                          backup="pg-running")
    failed = tools.error("cluster_restore", name="pg-r", namespace=namespace, source_cluster="pg", backup="pg-failed")
    nothing_yet = _names(admin_api, namespace, "clusters")
    forced = tools.ok("cluster_restore", name="pg-r", namespace=namespace, source_cluster="pg", backup="pg-running",
                      force=True)

    assert "Backup 'pg-running' is 'running', not completed" in running and "force" in running
    assert "is 'failed', not completed (error: disk full)" in failed
    assert nothing_yet == ["pg"]
    assert "starts the recovery only once it is completed" in forced["warnings"][0]
    assert _names(admin_api, namespace, "clusters") == ["pg", "pg-r"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"backup": "other-1"}, "Backup 'other-1' belongs to cluster 'other', not 'pg'"),
        ({"backup": "pg-9"}, "Backup 'pg-9' not found in namespace {ns!r}; backups of cluster 'pg': pg-new, pg-old"),
        ({"name": "taken"}, "Cluster 'taken' already exists in namespace {ns!r}"),
        ({"name": "pg"}, "name must differ from source_cluster"),
        ({"target_time": _stamp(NOW + timedelta(hours=1))}, "is in the future"),
        ({"target_time": _stamp(NOW - timedelta(days=30))}, "is before the first recoverability point of cluster 'pg'"),
        ({"backup": "pg-new", "target_time": _stamp(NOW - timedelta(days=1, hours=2))},
         "is before backup 'pg-new' ended"),
        ({"target_time": "yesterday"}, "target_time 'yesterday' is not a timestamp CloudNativePG accepts"),
        ({"target_time": "2026-02-30 10:00:00"}, "is not a valid date and time"),
        ({"source_cluster": "snap", "name": "snap-r"}, "Cluster 'snap' has no spec.backup.barmanObjectStore"),
        ({"source_cluster": "ghost", "name": "ghost-r"}, "Cluster 'ghost' not found in namespace {ns!r}: recovery "
                                                          "from its object store needs its backup configuration"),
        ({"instances": 11}, "instances must be at most 10"),
        ({"storage_size": "big"}, "storage_size: 'big' does not match"),
    ],
)
def test_restore_refuses_what_cannot_work(tools: ToolCaller, admin_api, namespace: str, arguments: dict,
                                          expected: str) -> None:
    _make_cluster(admin_api, namespace, "pg")
    _make_cluster(admin_api, namespace, "other")
    _make_cluster(admin_api, namespace, "taken")
    _make_cluster(admin_api, namespace, "snap", backup={"volumeSnapshot": {"className": "csi"}})
    set_cluster_status(admin_api, namespace, "pg", firstRecoverabilityPoint=_stamp(NOW - timedelta(days=7)))
    _completed(admin_api, namespace, "pg-old", "pg", NOW - timedelta(days=5))
    _completed(admin_api, namespace, "pg-new", "pg", NOW - timedelta(days=1))
    _completed(admin_api, namespace, "other-1", "other", NOW - timedelta(days=1))

    message = tools.error("cluster_restore", **{"name": "pg-r", "namespace": namespace, "source_cluster": "pg",
                                                **arguments})

    assert expected.format(ns=namespace) in message
    assert _names(admin_api, namespace, "clusters") == ["other", "pg", "snap", "taken"]


def test_restore_refuses_point_in_time_from_a_snapshot_backup(tools: ToolCaller, admin_api, namespace: str) -> None:
    _make_cluster(admin_api, namespace, "pg", backup={"volumeSnapshot": {"className": "csi"}})
    _make_backup(admin_api, namespace, "pg-snap", "pg", spec={"method": "volumeSnapshot"}, phase="completed",
                 method="volumeSnapshot")

    message = tools.error("cluster_restore", name="pg-r", namespace=namespace, source_cluster="pg",
                          backup="pg-snap", target_time=_stamp(NOW - timedelta(minutes=5)))
    plain = tools.ok("cluster_restore", name="pg-r", namespace=namespace, source_cluster="pg", backup="pg-snap")

    assert "volumeSnapshot backup needs a WAL archive" in message
    assert plain["spec"]["bootstrap"]["recovery"]["backup"] == {"name": "pg-snap"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T14:30:00Z", "2026-03-01T14:30:00+00:00"),
        ("2026-03-01T16:30:00+02:00", "2026-03-01T14:30:00+00:00"),
        ("2026-03-01T14:30:00.123456Z", "2026-03-01T14:30:00.123456+00:00"),
        ("2026-03-01T14:30:00", "2026-03-01T14:30:00+00:00"),          # no zone: UTC
        ("2026-03-01 14:30:00", "2026-03-01T14:30:00+00:00"),
        ("2026-03-01 16:30:00.00000+02", "2026-03-01T14:30:00+00:00"),  # CloudNativePG's documented example form
        ("2026-03-01 09:00:00-05:30", "2026-03-01T14:30:00+00:00"),
    ],
)
def test_target_times_in_the_formats_cloudnativepg_accepts(text: str, expected: str) -> None:
    assert parse_target_time(text).isoformat() == expected


@pytest.mark.parametrize(
    "text",
    ["2026-03-01", "2026-03-01T14:30Z", "2026-03-01 14:30:00Z", "2026-03-01T14:30:00+02", "01/03/2026 14:30:00",
     "2026-03-01T14:30:00 UTC", "2026-13-01T00:00:00Z"],
)
def test_other_target_time_formats_are_refused(text: str) -> None:
    with pytest.raises(ToolError):
        parse_target_time(text)


# --- read-only mode and the namespace allowlist ---------------------------------


@pytest.mark.parametrize("tool", MUTATING)
def test_read_only_mode_hides_the_mutating_tools(kubeconfig: Path, tool: str) -> None:
    client = create_app(Settings.from_env({"KUBECONFIG": str(kubeconfig), "MCP_READ_ONLY": "true"})).test_client()

    listed = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).get_json()
    called = client.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                       "params": {"name": tool, "arguments": {"namespace": "x"}}}).get_json()

    names = [t["name"] for t in listed["result"]["tools"]]
    assert tool not in names and set(READ_ONLY) <= set(names)
    assert called["error"]["code"] == -32602 and "Unknown tool" in called["error"]["message"]


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("backup_list", {}),
        ("backup_create", {"cluster": "pg"}),
        ("backup_delete", {"name": "pg-1", "confirm": "pg-1"}),
        ("scheduled_backup_list", {}),
        ("scheduled_backup_create", {"name": "s", "cluster": "pg", "schedule": "@daily"}),
        ("scheduled_backup_suspend", {"name": "s"}),
        ("scheduled_backup_resume", {"name": "s"}),
        ("scheduled_backup_delete", {"name": "s", "confirm": "s"}),
        ("cluster_restore", {"name": "pg-r", "source_cluster": "pg", "backup": "pg-1"}),
    ],
)
def test_namespaces_outside_the_allowlist_are_refused(kubeconfig: Path, admin_api, namespace: str, tool: str,
                                                      arguments: dict) -> None:
    _make_cluster(admin_api, namespace, "pg")
    _completed(admin_api, namespace, "pg-1", "pg", NOW - timedelta(days=1))
    limited = tool_caller(kubeconfig, MCP_NAMESPACES="somewhere-else")

    message = limited.error(tool, namespace=namespace, **arguments)

    assert message == f"Namespace {namespace!r} is not served by this server; allowed: somewhere-else"
    assert _names(admin_api, namespace, "backups") == ["pg-1"]
    assert _names(admin_api, namespace, "clusters") == ["pg"]
