"""Instants in metrics CSVs are ISO 8601 with the reader's offset."""

from datetime import UTC, datetime

from django.utils import timezone

from escalations.analytics.metrics import Table


def test_an_instant_cell_is_iso_8601_with_the_readers_offset():
    table = Table(
        "t", "T", ["Incident", "Opened"], [["INC-1", datetime(2026, 3, 2, 15, 30, tzinfo=UTC)]]
    )
    with timezone.override("America/New_York"):
        assert table.csv_rows()[1] == ["INC-1", "2026-03-02T10:30:00-05:00"]
