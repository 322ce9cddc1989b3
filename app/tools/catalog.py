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
from app.settings import TOOLSETS
from app.tools.spec import ToolSpec


# The groups MCP_TOOLSETS picks from (names and order: app.settings.TOOLSETS). A restore makes a
# new cluster from a backup, so it travels with the backups.
TOOLSET_TOOLS: dict[str, list[ToolSpec]] = {
    "clusters": CLUSTER_TOOLS,
    "observability": OBSERVABILITY_TOOLS,
    "operations": OPERATIONS_TOOLS,
    "roles": ROLES_TOOLS,
    "databases": DATABASES_TOOLS,
    "backups": [*BACKUPS_TOOLS, *RECOVERY_TOOLS],
    "poolers": POOLERS_TOOLS,
}
assert tuple(TOOLSET_TOOLS) == TOOLSETS, "app.settings.TOOLSETS and the catalogue's groups must agree"


def all_tools() -> list[ToolSpec]:
    return tools_in(TOOLSETS)


def tools_in(toolsets: tuple[str, ...]) -> list[ToolSpec]:
    """The tools of the given groups, in catalogue order."""
    return [spec for group, specs in TOOLSET_TOOLS.items() if group in toolsets for spec in specs]
