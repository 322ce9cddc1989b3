"""Per-domain exercises for the RBAC test: each calls every tool of its domain successfully.

`exercise(ok, admin_api, namespace)` gets `ok(tool, **arguments)` (calls as the server's
ServiceAccount and requires success), an admin client to set the scene (e.g. simulate the
operator), and a fresh namespace. Listed explicitly, in an order where later ones may rely on
nothing earlier.
"""

from tests.integration.rbac_exercises import (
    backups,
    clusters,
    databases,
    observability,
    operations,
    poolers,
    roles,
)

EXERCISES = [
    clusters.exercise, observability.exercise, operations.exercise, roles.exercise, databases.exercise,
    backups.exercise, poolers.exercise,
]
