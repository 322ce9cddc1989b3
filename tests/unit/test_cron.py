"""ScheduledBackup schedules: what CloudNativePG's cron parser (robfig/cron, 6 fields with seconds) accepts."""

from __future__ import annotations

import pytest

from app.tools.cron import CronError, duration_seconds, validate_schedule


@pytest.mark.parametrize(
    "schedule",
    [
        "0 0 0 * * *",            # every day at midnight (CloudNativePG's own example)
        "0 0 2 * * *",
        "*/30 * * * * *",
        "0 */15 9-17 * * MON-FRI",
        "0 0 3 1,15 * ?",
        "0 30 1 1 JAN,jul *",
        "59 59 23 31 12 6",
        "0 0 0 ? * sun",
        "0 5/10 * * * *",         # N/step means N-max/step
        "0 0 0-23/2 * * 0-6",
        "0 0 12 * FEB-NOV TUE,THU",
        "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
        "@every 1h", "@every 1h30m", "@every 90s", "@every 1.5h", "@every 2h45m10s",
    ],
)
def test_schedules_cloudnativepg_accepts_pass(schedule: str) -> None:
    assert validate_schedule(schedule) == schedule


def test_whitespace_and_descriptor_case_are_normalised() -> None:
    assert validate_schedule("  0  0 2 *\t* *  ") == "0 0 2 * * *"
    assert validate_schedule("@Daily") == "@daily"
    assert validate_schedule("@every   6h") == "@every 6h"


def test_a_five_field_crontab_is_refused_with_the_seconds_field_explained() -> None:
    with pytest.raises(CronError) as refused:
        validate_schedule("0 2 * * *")

    message = str(refused.value)
    assert "5 fields" in message and "SECONDS" in message
    assert "seconds=0 minutes=2 hours=* day-of-month=* month=*" in message
    assert "'0 0 2 * * *'" in message


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("* * * *", "4 fields; expected exactly 6"),
        ("0 0 0 * * * *", "7 fields; expected exactly 6"),
        ("60 0 0 * * *", "seconds field: 60 is outside 0-59"),
        ("0 60 0 * * *", "minutes field: 60 is outside 0-59"),
        ("0 0 24 * * *", "hours field: 24 is outside 0-23"),
        ("0 0 0 0 * *", "day-of-month field: 0 is outside 1-31"),
        ("0 0 0 32 * *", "day-of-month field: 32 is outside 1-31"),
        ("0 0 0 * 13 *", "month field: 13 is outside 1-12"),
        ("0 0 0 * 0 *", "month field: 0 is outside 1-12"),
        ("0 0 0 * * 7", "use 0 for Sunday"),
        ("0 0 0 * SUN *", "month field: 'SUN' is not a number or one of JAN"),
        ("0 0 0 MON * *", "day-of-month field: 'MON' is not a number"),
        ("0 0 0 * * FUNDAY", "day-of-week field: 'FUNDAY' is not a number or one of SUN"),
        ("0 0 5-2 * * *", "the range starts after it ends"),
        ("0 0 1-2-3 * * *", "more than one '-'"),
        ("0 */0 * * * *", "step after '/' must be a positive number"),
        ("0 */x * * * *", "step after '/' must be a positive number"),
        ("0 1/2/3 * * * *", "more than one '/'"),
        ("0 1,,2 * * * *", "empty list element"),
        ("0 -1 * * * *", "minutes field: '' is not a number"),
        ("0 +5 * * * *", "'+5' is not a number"),
        ("0 0 L * * *", "hours field: 'L' is not a number"),
        ("@fortnightly", "Unknown descriptor"),
        ("@daily 0", "Unknown descriptor"),
        ("@every", "exactly one duration"),
        ("@every 1 h", "exactly one duration"),
        ("@every 1d", "not a duration"),
        ("@every -1h", "not a duration"),
        ("@every 500ms", "shorter than one second"),
        ("@every 0", "shorter than one second"),
        ("TZ=Europe/Paris 0 0 2 * * *", "Time zone prefixes"),
        ("CRON_TZ=UTC 0 0 2 * * *", "Time zone prefixes"),
    ],
)
def test_invalid_schedules_are_refused_with_the_reason(schedule: str, expected: str) -> None:
    with pytest.raises(CronError) as refused:
        validate_schedule(schedule)

    assert expected in str(refused.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h", 3600), ("1h30m", 5400), ("90s", 90), ("1.5h", 5400), ("250ms", 0.25), ("1m0.5s", 60.5), ("0", 0)],
)
def test_go_durations_convert_to_seconds(text: str, seconds: float) -> None:
    assert duration_seconds(text) == pytest.approx(seconds)
