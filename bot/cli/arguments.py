"""The CLI's argument types: their errors become one usage line."""

from __future__ import annotations

import argparse
from datetime import timedelta

from bot.ops.redeliver import MAX_WINDOW, DurationError, parse_duration

def duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def redelivery_window(text: str) -> timedelta:
    window = duration(text)
    if window > MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"{text!r} is too far back: GitHub redelivers the past 3 days only")
    return window


MIN_RETENTION = timedelta(days=1)


def retention_window(text: str) -> timedelta:
    """At least a day: `30m` is 30 minutes, and a window that short would empty nearly everything."""
    window = duration(text)
    if window < MIN_RETENTION:
        raise argparse.ArgumentTypeError(f"{text!r} is too short: prune keeps at least 1d (30m means minutes)")
    return window


def session_id(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"not a session id: {text!r}")
    return int(text)


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return int(text)
