"""CloudNativePG API coordinates, its kinds as data, and the labels the operator (and we) use."""

import json
from dataclasses import dataclass

GROUP = "postgresql.cnpg.io"
VERSION = "v1"


@dataclass(frozen=True)
class Kind:
    """One CloudNativePG kind: every one is namespaced under postgresql.cnpg.io/v1, so its plural
    is all an API call needs; `word` names it in error messages ("scheduled backup 'nightly' ...")."""

    plural: str
    word: str
    kind: str

    @property
    def label(self) -> str:
        """The word at the start of a sentence ("Scheduled backup 'nightly' not found ...")."""
        return self.word[:1].upper() + self.word[1:]


CLUSTER = Kind("clusters", "cluster", "Cluster")
BACKUP = Kind("backups", "backup", "Backup")
SCHEDULED_BACKUP = Kind("scheduledbackups", "scheduled backup", "ScheduledBackup")
POOLER = Kind("poolers", "pooler", "Pooler")
# "Database object", not "database": the tools also speak of the PostgreSQL databases these declare.
DATABASE = Kind("databases", "Database object", "Database")
CLUSTERS = CLUSTER.plural

LABEL_CLUSTER = "cnpg.io/cluster"
LABEL_INSTANCE_NAME = "cnpg.io/instanceName"
LABEL_INSTANCE_ROLE = "cnpg.io/instanceRole"
LABEL_LEGACY_ROLE = "role"
LABEL_POD_ROLE = "cnpg.io/podRole"


def instance_selector(cluster: str) -> str:
    """The label selector of a cluster's PostgreSQL instance Pods only: the operator also labels its
    bootstrap/join Job Pods (`cnpg.io/jobRole`) and pooler Pods with the cluster's name."""
    return f"{LABEL_CLUSTER}={cluster},{LABEL_POD_ROLE}=instance"


# Marks objects this server created, so deleting a cluster removes only those.
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "cnpg-mcp-server"
# Annotation on a Cluster listing (JSON array) the Secrets this server created for it, so
# deleting the cluster can remove exactly those by name.
ANNOTATION_CREATED_SECRETS = "cnpg-mcp.io/created-secrets"


def created_secrets(cluster: dict) -> list[str]:
    raw = (cluster.get("metadata", {}).get("annotations") or {}).get(ANNOTATION_CREATED_SECRETS)
    try:
        names = json.loads(raw) if raw else []
    except ValueError:
        return []
    return sorted(n for n in names if isinstance(n, str)) if isinstance(names, list) else []
