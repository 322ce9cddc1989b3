"""Interleaved load rounds: every scenario at each of its connection counts, `plan.rounds` times over.

All servers are up together and take turns, so a slow minute on a shared machine lands on every
scenario alike instead of on whichever happened to run then. Each figure is the median of the
rounds; the rounds themselves are kept (rps_runs, p50_ms_runs, p99_ms_runs) for spreads and ratios.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from bench import measure, wrk


class Endpoint(Protocol):
    @property
    def mcp_url(self) -> str: ...


class RoundsPlan(Protocol):
    seconds: float
    warmup_seconds: float
    connections: tuple[int, ...]
    rounds: int


@dataclass(frozen=True)
class Scenario:
    label: str
    server: Endpoint
    body: str
    headers: dict[str, str]
    status: int = 200  # the answer every request must get
    connections: tuple[int, ...] | None = None  # None: the plan's
    tags: dict[str, Any] = field(default_factory=dict)  # copied into each row (e.g. which server, which case)


def interleaved(plan: RoundsPlan, scenarios: list[Scenario], say: Callable[[str], None],
                problems: list[str]) -> list[dict]:
    """Rows of medians, one per (scenario, connections), in the order of `scenarios`."""
    sizes: dict[str, int] = {}
    for scenario in scenarios:
        _result, sizes[scenario.label] = measure.probe(scenario.server.mcp_url, scenario.body, scenario.headers,
                                                       expect=scenario.label, status=scenario.status)
        if plan.warmup_seconds:
            wrk.run(scenario.server.mcp_url, body=scenario.body, headers=scenario.headers, connections=16,
                    seconds=plan.warmup_seconds)
    runs: dict[tuple[str, int], list[wrk.LoadResult]] = {}
    for _ in range(plan.rounds):
        for scenario in scenarios:
            for connections in scenario.connections or plan.connections:
                result = wrk.run(scenario.server.mcp_url, body=scenario.body, headers=scenario.headers,
                                 connections=connections, seconds=plan.seconds)
                runs.setdefault((scenario.label, connections), []).append(result)
    rows = []
    for scenario in scenarios:
        for connections in scenario.connections or plan.connections:
            taken = runs[(scenario.label, connections)]
            result = sorted(taken, key=lambda r: r.rps)[len(taken) // 2]
            # Refusals are the point of a 401 scenario; anything else failing is a problem.
            unexpected = result.errors - (result.status_answers if scenario.status != 200 else 0)
            say(f"  {scenario.label:<40} c={connections:<3} {result.rps:>8,.0f} req/s  "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  errors {unexpected}")
            if unexpected:
                problems.append(f"{scenario.label} at {connections} connections: {unexpected} errors")
            if result.requests <= 0:
                problems.append(f"{scenario.label} at {connections} connections: no requests")
            rows.append({"scenario": scenario.label, **scenario.tags, "connections": connections, **asdict(result),
                         "errors": unexpected, "rps": result.rps, "response_bytes": sizes[scenario.label],
                         "rps_runs": [r.rps for r in taken], "p50_ms_runs": [r.p50_ms for r in taken],
                         "p99_ms_runs": [r.p99_ms for r in taken]})
    return rows
