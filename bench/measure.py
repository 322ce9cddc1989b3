"""Measurements taken from outside the server: direct Kubernetes API timings and process memory."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests


@dataclass(frozen=True)
class Timing:
    count: int
    p50_ms: float
    p99_ms: float


def time_loop(call: Callable[[], object], seconds: float, warmup: int = 20) -> Timing:
    """Call `call` back to back for `seconds` (after `warmup` untimed calls); latency percentiles."""
    for _ in range(warmup):
        call()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return Timing(len(samples), statistics.median(samples), cuts[98])


def rss_mib(pid: int) -> float:
    """Resident set size (what `ps` and the kubelet's working-set view start from)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def pss_mib(pid: int) -> float:
    """Proportional set size: pages shared by the forked workers counted once across them, which is
    what the container's memory cgroup charges."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Pss for pid {pid}")


def uss_mib(pid: int) -> float:
    """Unique set size: the pages only this process holds, i.e. what one more worker costs."""
    private = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            private += int(line.split()[1])
    return private / 1024


def check_answer(url: str, body: str, headers: dict[str, str], *, expect: str, status: int = 200) -> dict:
    """One request before each load run: the benchmark must measure the answers it means to."""
    return probe(url, body, headers, expect=expect, status=status)[0]


def probe(url: str, body: str, headers: dict[str, str], *, expect: str, status: int = 200) -> tuple[dict, int]:
    """check_answer's result and the size of the answer's body in bytes."""
    response = requests.post(url, data=body, headers=headers, timeout=30)
    if response.status_code != status:
        raise RuntimeError(f"{expect}: HTTP {response.status_code} (wanted {status}): {response.text[:300]}")
    if status != 200:
        try:
            return response.json(), len(response.content)
        except ValueError:  # a peer may refuse in plain text
            return {"text": response.text}, len(response.content)
    payload = jsonrpc_answer(response)
    result = payload.get("result")
    if not isinstance(result, dict) or result.get("isError"):
        raise RuntimeError(f"{expect}: unexpected answer {json.dumps(payload)[:300]}")
    return result, len(response.content)


def jsonrpc_answer(response: requests.Response) -> dict:
    """The JSON-RPC response in an answer, whether a JSON body or an SSE stream (its last event with an id)."""
    if not response.headers.get("Content-Type", "").startswith("text/event-stream"):
        return response.json()
    answer: dict | None = None
    for line in response.text.splitlines():
        if line.startswith("data:"):
            message = json.loads(line[len("data:"):].strip())
            if isinstance(message, dict) and "id" in message:
                answer = message
    if answer is None:
        raise ValueError(f"no JSON-RPC response in the event stream: {response.text[:300]}")
    return answer


def first_success(url: str, body: str, headers: dict[str, str], timeout: float) -> float:
    """Seconds until `url` first answers 200 to this request (polled every 5 ms)."""
    began = time.perf_counter()
    deadline = began + timeout
    while time.perf_counter() < deadline:
        try:
            if requests.post(url, data=body, headers=headers, timeout=timeout).status_code == 200:
                return time.perf_counter() - began
        except requests.RequestException:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"no 200 from {url} within {timeout}s")
