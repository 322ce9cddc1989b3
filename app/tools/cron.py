"""Validation of ScheduledBackup schedules, as CloudNativePG parses them (robfig/cron).

CloudNativePG reads `spec.schedule` with robfig/cron's `Parse`: six fields, the first one
being SECONDS, or a descriptor (@daily, @every 1h, ...). That parser also accepts five
fields, but reads them as seconds..month, so the familiar crontab "0 2 * * *" would
silently run at second 0 of minute 2 of every hour. This module refuses that, and anything
else robfig/cron would refuse, with a message that says what to write instead.

Pure functions only: no I/O, so it is unit-tested in tests/unit/test_cron.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class CronError(ValueError):
    """The schedule is not one CloudNativePG accepts; the message says why and what to do."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Accepted names, in order, starting at `low` (e.g. SUN=0 ... SAT=6)."""

    def value(self, text: str) -> int:
        if text.upper() in self.names:
            return self.low + self.names.index(text.upper())
        if not text.isdigit():
            hint = f" or one of {', '.join(self.names)}" if self.names else ""
            raise CronError(f"{self.name} field: {text!r} is not a number{hint}")
        number = int(text)
        if not self.low <= number <= self.high:
            extra = " (use 0 for Sunday)" if self.name == "day-of-week" and number == 7 else ""
            raise CronError(f"{self.name} field: {number} is outside {self.low}-{self.high}{extra}")
        return number


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
FIELDS = (
    _Field("seconds", 0, 59),
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 0, 6, _DAYS),
)
DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# Go's time.ParseDuration units, which `@every <duration>` uses.
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")

FORMAT_HELP = (
    "CloudNativePG schedules have 6 fields: seconds minutes hours day-of-month month day-of-week "
    "(e.g. '0 0 2 * * *' = every day at 02:00:00), or a descriptor: "
    f"{', '.join(DESCRIPTORS)}, '@every <duration>' (e.g. '@every 6h')"
)


def validate_schedule(schedule: str) -> str:
    """The schedule with whitespace normalised, if CloudNativePG accepts it.

    Raises:
        CronError: with a message naming the faulty field and the accepted format.
    """
    fields = schedule.split()
    if not fields:
        raise CronError(f"The schedule is empty. {FORMAT_HELP}")
    if fields[0].startswith(("TZ=", "CRON_TZ=")):
        raise CronError(
            "Time zone prefixes (TZ=, CRON_TZ=) are not supported by CloudNativePG's cron parser; schedules run "
            "in the operator's time zone (normally UTC): convert the time instead"
        )
    if fields[0].startswith("@"):
        return _descriptor(fields)
    if len(fields) == 5:
        raise CronError(
            f"{' '.join(fields)!r} has 5 fields, but CloudNativePG schedules start with a SECONDS field "
            f"(6 fields: seconds minutes hours day-of-month month day-of-week), so it would be read as "
            f"{_misread(fields)}. To keep the crontab meaning, prepend '0 ': {'0 ' + ' '.join(fields)!r}"
        )
    if len(fields) != 6:
        raise CronError(f"The schedule has {len(fields)} fields; expected exactly 6. {FORMAT_HELP}")
    for text, field in zip(fields, FIELDS):
        _check_field(text, field)
    return " ".join(fields)


def _misread(fields: list[str]) -> str:
    return " ".join(f"{field.name}={text}" for text, field in zip(fields, FIELDS))


def _descriptor(fields: list[str]) -> str:
    keyword = fields[0].lower()
    if keyword in DESCRIPTORS and len(fields) == 1:
        return keyword
    if keyword == "@every":
        if len(fields) != 2:
            raise CronError("'@every' takes exactly one duration, e.g. '@every 1h30m'")
        seconds = duration_seconds(fields[1])
        if seconds < 1:
            raise CronError(f"'@every {fields[1]}' is shorter than one second, the smallest interval supported")
        return f"@every {fields[1]}"
    raise CronError(f"Unknown descriptor {' '.join(fields)!r}. {FORMAT_HELP}")


def duration_seconds(text: str) -> float:
    """Seconds in a Go duration string ("1h30m", "90s", "1.5h"); signs are refused.

    Raises:
        CronError: not a Go duration.
    """
    if not text:
        raise CronError("The duration is empty")
    if text == "0":
        return 0.0
    position, total = 0, 0.0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise CronError(
                f"{text!r} is not a duration: use numbers with units h, m, s (or ms, us, ns), e.g. '1h30m', '45m'"
            )
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    return total


def _check_field(text: str, field: _Field) -> None:
    """One field: a comma-separated list of `*`, `?`, N, N-M, each optionally with /STEP."""
    for part in text.split(","):
        if not part:
            raise CronError(f"{field.name} field {text!r}: empty list element")
        span, slash, step = part.partition("/")
        if slash:
            if "/" in step:
                raise CronError(f"{field.name} field {part!r}: more than one '/'")
            if not step.isdigit() or int(step) == 0:
                raise CronError(f"{field.name} field {part!r}: the step after '/' must be a positive number")
        if span in ("*", "?"):
            continue
        low_text, dash, high_text = span.partition("-")
        low = field.value(low_text)
        if dash:
            if "-" in high_text:
                raise CronError(f"{field.name} field {part!r}: more than one '-'")
            high = field.value(high_text)
            if low > high:
                raise CronError(f"{field.name} field {part!r}: the range starts after it ends")
