from datetime import timedelta

import pytest

from escalations.rules.durations import format_duration, humanize, parse_duration

H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("4h", 4 * H),
        ("2d", 48 * H),
        ("1h30m", 90 * timedelta(minutes=1)),
        ("90s", timedelta(seconds=90)),
        ("1w", 168 * H),
        (" 2H ", 2 * H),
        (45, timedelta(minutes=45)),
        (timedelta(hours=3), 3 * H),
    ],
)
def test_parse(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4x", "h", "-1h", "0m", "1.5h", True, None, [], "4 hours"])
def test_parse_refuses_with_a_hint(text):
    with pytest.raises(ValueError, match=r"duration|longer than zero"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (90 * timedelta(minutes=1), "1h30m"),
        (24 * H, "24h"),
        (36 * H, "36h"),
        (72 * H, "3d"),
        (timedelta(days=2, hours=1), "49h"),
        (timedelta(seconds=61), "1m1s"),
    ],
)
def test_format_is_exact_and_readable(value, text):
    assert format_duration(value) == text
    assert parse_duration(text) == value


def test_humanize():
    assert humanize(timedelta(hours=2, minutes=5)) == "2h 05m"
    assert humanize(timedelta(days=3, hours=4)) == "3d 4h"
    assert humanize(timedelta(seconds=45)) == "45s"
    assert humanize(-timedelta(minutes=3)) == "3m"
