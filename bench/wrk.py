"""Drive load with wrk (Debian's wrk 4.1): a generated Lua script sets the POST body and headers and
prints one JSON summary line from wrk's `done` hook, so nothing scrapes wrk's human-readable text."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# wrk's Lua is LuaJIT: `done` sees the whole run (all threads). Latencies are in microseconds.
_SCRIPT = """
wrk.method = "{method}"
wrk.body = [==[{body}]==]
{headers}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nBENCH {{"requests": %d, "bytes": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}}\\n',
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers
    status_answers: int  # of which: answers with a 4xx/5xx status
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    bytes_read: int = 0  # everything read from the sockets (status lines, headers, bodies)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed: run `make bench` (it installs Debian's wrk) or apt-get install wrk")
    return found


def _lua_string(value: str) -> str:
    if "]==]" in value:
        raise ValueError("body must not contain ]==]")
    return value


def run(url: str, *, body: str = "", headers: dict[str, str] | None = None, method: str = "POST",
        connections: int = 16, seconds: float = 5.0, threads: int = 1) -> LoadResult:
    """Run wrk against `url` for `seconds` (whole seconds: wrk's resolution)."""
    header_lines = "\n".join(
        f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}" for name, value in (headers or {}).items()
    )
    script = _SCRIPT.format(method=method, body=_lua_string(body), headers=header_lines)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script_path = Path(tmp) / "load.lua"
        script_path.write_text(script)
        duration = max(1, round(seconds))
        completed = subprocess.run(
            [wrk_binary(), "--latency", "-t", str(threads), "-c", str(max(connections, threads)), "-d", f"{duration}s",
             "--timeout", "10s", "-s", str(script_path), url],
            capture_output=True, text=True, timeout=duration + 60, check=False,
        )
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip() or completed.stdout[-500:]}")
    data = json.loads(line.removeprefix("BENCH "))
    errors = data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
    return LoadResult(
        requests=data["requests"], seconds=data["duration_us"] / 1e6, errors=errors, status_answers=data["status"],
        p50_ms=data["p50_us"] / 1000, p90_ms=data["p90_us"] / 1000, p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000, bytes_read=data["bytes"],
    )
