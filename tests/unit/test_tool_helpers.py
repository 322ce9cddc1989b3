"""Pure helpers of the tools: ages and storage quantities."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.tools.common import age, quantity_bytes

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("created", "expected"),
    [("2026-11-26T11:59:30Z", "30s"), ("2026-11-26T11:48:00Z", "12m"), ("2026-11-26T09:00:00Z", "3h"),
     ("2026-11-26T09:30:00Z", "2h30m"), ("2026-11-23T08:00:00Z", "3d4h"), ("2026-11-19T12:00:00Z", "7d"),
     ("2026-11-26T12:00:05Z", "0s"), (None, None)],
)
def test_age_reads_like_kubectl(created: str | None, expected: str | None) -> None:
    assert age(created, NOW) == expected


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("10Gi", 10 * 2**30), ("512Mi", 512 * 2**20), ("1.5Ti", 1.5 * 2**40), ("10G", 10**10), ("100", 100.0),
     ("2k", 2000.0)],
)
def test_storage_quantities_convert_to_bytes(quantity: str, expected: float) -> None:
    assert quantity_bytes(quantity) == expected


def test_binary_and_decimal_units_compare_correctly() -> None:
    assert quantity_bytes("1Gi") > quantity_bytes("1G")
