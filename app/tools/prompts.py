"""MCP prompts, filled with a cluster's live state so the model starts from facts.

The state is read by calling the `cluster_get` tool through the registry, so a prompt gets
exactly what the tool would answer this caller — the same argument checks, context and
namespace limits — and never a second path to Kubernetes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.tools.clusters import CLUSTER_GET, POSTGRES_MAJORS
from app.tools.context import ToolContext
from app.tools.errors import ToolError

# The registry's `call`: (tool name, arguments, context) -> CallToolResult.
CallTool = Callable[[str, dict[str, Any], ToolContext], dict[str, Any]]
CONTEXT_ARGUMENT = ("context", "Kubeconfig context (Kubernetes cluster) of the cluster; default: the server's", False)


class UnknownPrompt(LookupError):
    def __init__(self, name: str, served: Sequence[PromptSpec]) -> None:
        available = ", ".join(p.name for p in served) or (
            f"none (every prompt reads the cluster with {CLUSTER_GET.name}, which MCP_TOOLSETS leaves out here)")
        super().__init__(f"Unknown prompt: {name!r}. Available prompts: {available}")


@dataclass(frozen=True)
class PromptSpec:
    name: str
    title: str
    description: str
    arguments: tuple[tuple[str, str, bool], ...]
    """(name, description, required)"""
    render: Callable[[dict[str, str], dict[str, Any]], str]
    """(arguments, the cluster's state as cluster_get answers) -> the prompt text"""
    check: Callable[[dict[str, str]], None] | None = None
    """Refuses bad arguments (ToolError) before the cluster is read."""

    def arguments_served(self, ctx: ToolContext) -> tuple[tuple[str, str, bool], ...]:
        """Its arguments, plus `context` when the server serves several kubeconfig contexts."""
        return (*self.arguments, CONTEXT_ARGUMENT) if ctx.kube.served_contexts() else self.arguments

    def wire(self, ctx: ToolContext) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "description": self.description,
            "arguments": [{"name": n, "description": d, "required": r} for n, d, r in self.arguments_served(ctx)],
        }


def _state(args: dict[str, str], ctx: ToolContext, call_tool: CallTool) -> dict[str, Any]:
    """The cluster as `cluster_get` answers this caller; its error message when it fails."""
    arguments = {"name": args["name"], "namespace": args["namespace"]}
    if args.get("context"):
        arguments["context"] = args["context"]
    result = call_tool(CLUSTER_GET.name, arguments, ctx)
    if result.get("isError"):
        raise ToolError(result["content"][0]["text"])
    return dict(result["structuredContent"])


def _troubleshoot(args: dict[str, str], state: dict[str, Any]) -> str:
    return (
        f"Troubleshoot the CloudNativePG cluster {args['name']} in namespace {args['namespace']}.\n\n"
        "Its live state, read just now from the Kubernetes API:\n"
        f"```json\n{json.dumps(state, indent=2, sort_keys=True)}\n```\n\n"
        "Work through it in order: (1) phase and phase_reason, and any condition that is not True; "
        "(2) instances that are not ready and whether the primary is among them; (3) current vs target "
        "primary (a difference means a switchover or failover is in progress); (4) the recent events, "
        "newest first; (5) storage and PostgreSQL parameters that could explain the symptoms. "
        "Use cluster_get, cluster_pods, cluster_events and instance_logs to dig deeper. Propose a fix, say "
        "which tool would apply it, and ask before running anything destructive."
    )


def _check_upgrade(args: dict[str, str]) -> None:
    target = args.get("target_version", "")
    if target and target not in POSTGRES_MAJORS:
        raise ToolError(f"target_version must be one of {', '.join(POSTGRES_MAJORS)}")


def _plan_upgrade(args: dict[str, str], state: dict[str, Any]) -> str:
    target = args.get("target_version", "")
    return (
        f"Plan a PostgreSQL major upgrade of the CloudNativePG cluster {args['name']} in namespace "
        f"{args['namespace']}" + (f" to PostgreSQL {target}" if target else "") + ".\n\n"
        "Current state, read just now from the Kubernetes API:\n"
        f"```json\n{json.dumps(state, indent=2, sort_keys=True)}\n```\n\n"
        "Compare the two ways CloudNativePG supports: (a) an offline in-place upgrade by changing the "
        "cluster's image to the new major version (CloudNativePG runs pg_upgrade; the cluster is down during "
        "the upgrade and replicas are re-cloned), and (b) a new cluster bootstrapped with a logical import "
        "from this one, then a cut-over of clients. Cover: a fresh backup first (backup_create) and a tested "
        "restore (cluster_restore); extensions and parameters that change between versions; the downtime each "
        "path needs for this cluster's size; the rollback plan. End with the ordered steps and the tools to use."
    )


PROMPTS = [
    PromptSpec(
        name="troubleshoot_cluster",
        title="Troubleshoot a cluster",
        description="Diagnose a CloudNativePG cluster from its live status, instances and events.",
        arguments=(("namespace", "Namespace of the cluster", True), ("name", "Cluster name", True)),
        render=_troubleshoot,
    ),
    PromptSpec(
        name="plan_major_upgrade",
        title="Plan a PostgreSQL major upgrade",
        description="Plan a PostgreSQL major-version upgrade of a cluster, with backups and rollback.",
        arguments=(("namespace", "Namespace of the cluster", True), ("name", "Cluster name", True),
                   ("target_version", f"Target major version ({', '.join(POSTGRES_MAJORS)})", False)),
        render=_plan_upgrade,
        check=_check_upgrade,
    ),
]


def served_prompts(served_tools: Sequence[str]) -> list[PromptSpec]:
    """The prompts a server with these tools can fill: every prompt reads its cluster through
    cluster_get, so without that tool (MCP_TOOLSETS) there are none."""
    return list(PROMPTS) if CLUSTER_GET.name in served_tools else []


def list_prompts(ctx: ToolContext, served: Sequence[PromptSpec]) -> list[dict[str, Any]]:
    return [prompt.wire(ctx) for prompt in served]


def get_prompt(name: str, arguments: dict[str, str], ctx: ToolContext, call_tool: CallTool,
               served: Sequence[PromptSpec]) -> dict[str, Any]:
    """A `GetPromptResult`.

    Raises:
        UnknownPrompt: no such prompt among `served`.
        ToolError: a required argument is missing, or the cluster cannot be read (the message says why).
    """
    prompt = next((p for p in served if p.name == name), None)
    if prompt is None:
        raise UnknownPrompt(name, served)
    missing = [n for n, _, required in prompt.arguments if required and not arguments.get(n)]
    if missing:
        raise ToolError(f"Prompt {name!r} needs the argument(s): {', '.join(missing)}")
    if prompt.check is not None:
        prompt.check(arguments)
    text = prompt.render(arguments, _state(arguments, ctx, call_tool))
    return {"description": prompt.description, "messages": [{"role": "user", "content": {"type": "text", "text": text}}]}
