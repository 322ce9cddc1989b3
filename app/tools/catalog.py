"""The explicit list of tools this server offers, in the order `tools/list` shows them.

Each domain module contributes a list of `ToolSpec`s; adding a tool means adding
it here, so nothing registers itself by import side effect.
"""

from __future__ import annotations

from app.tools.backups import BACKUPS_TOOLS
from app.tools.clusters import CLUSTER_TOOLS
from app.tools.databases import DATABASES_TOOLS
from app.tools.observability import OBSERVABILITY_TOOLS
from app.tools.operations import OPERATIONS_TOOLS
from app.tools.poolers import POOLERS_TOOLS
from app.tools.recovery import RECOVERY_TOOLS
from app.tools.roles import ROLES_TOOLS
from app.tools.spec import ToolSpec


def all_tools() -> list[ToolSpec]:
    return [
        *CLUSTER_TOOLS, *OBSERVABILITY_TOOLS, *OPERATIONS_TOOLS, *ROLES_TOOLS, *DATABASES_TOOLS,
        *BACKUPS_TOOLS, *RECOVERY_TOOLS, *POOLERS_TOOLS,
    ]
