"""Integration fixtures: one real gunicorn (2 workers) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.processes import GunicornServer


@pytest.fixture(scope="session")
def server() -> Iterator[GunicornServer]:
    with GunicornServer() as running:
        yield running
