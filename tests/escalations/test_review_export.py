"""Reviews download in seed 004's post_incident_review shape (YAML) and as Markdown.
No database: the exports work on plain values."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import yaml

from escalations.followup.review_export import ItemLine, ReviewDoc, review_markdown, review_yaml

T0 = datetime(2026, 1, 14, 14, 23, tzinfo=UTC)
M = timedelta(minutes=1)


def doc(**changes) -> ReviewDoc:
    base = {
        "incident_id": "INC-RUNTIME-20260114-K7Q",
        "title": "Payment processing down",
        "severity": "P0",
        "status": "Published",
        "duration": timedelta(hours=3, minutes=42),
        "customers_impacted": 87,
        "business_impact": "$40,000 estimated revenue loss",
        "timeline": (
            (T0, "First customer report received"),
            (T0 + 5 * M, "Escalation-manager activated war room"),
        ),
        "what_happened": "Database connection pool exhausted under load",
        "why_happened": "Recent code change introduced connection leak",
        "why_not_caught": "Load testing didn't simulate peak concurrent users",
        "contributing_factors": ("Monitoring alert threshold too high",),
        "went_well": ("Fast detection and escalation",),
        "went_poorly": ("Took 30min to identify root cause",),
        "action_items": (
            ItemLine(
                "Add connection pool monitoring", "Sam Rivera", date(2026, 1, 20), "Open", False
            ),
            ItemLine("Fix the leak", "Priya Shah", date(2026, 1, 16), "Done", True),
        ),
        "prevention_confidence": "High",
        "similar_incidents": ("INC-11203", "INC-9876"),
    }
    return ReviewDoc(**{**base, **changes})


def test_yaml_has_the_seed_shape_key_for_key():
    data = yaml.safe_load(review_yaml(doc(), UTC))
    review = data["post_incident_review"]
    assert list(data) == ["post_incident_review"]
    assert list(review) == [
        "incident_id",
        "severity",
        "duration",
        "customers_impacted",
        "business_impact",
        "timeline",
        "root_cause",
        "contributing_factors",
        "what_went_well",
        "what_went_poorly",
        "action_items",
        "prevention_confidence",
        "similar_incidents",
    ]
    assert review["severity"] == "Sev 1"
    assert review["duration"] == "3 hours 42 minutes"
    assert review["customers_impacted"] == 87
    assert review["timeline"] == [
        "14:23 - First customer report received",
        "14:28 - Escalation-manager activated war room",
    ]
    assert list(review["root_cause"]) == ["what_happened", "why_happened", "why_not_caught"]
    assert review["action_items"][0] == (
        "Add connection pool monitoring [Owner: Sam Rivera] [Due: 2026-01-20] [Open]"
    )
    assert review["similar_incidents"] == ["INC-11203", "INC-9876"]


def test_times_are_in_the_readers_zone_and_dated_when_the_incident_spans_days():
    tokyo = ZoneInfo("Asia/Tokyo")
    review = yaml.safe_load(review_yaml(doc(), tokyo))["post_incident_review"]
    assert review["timeline"][0] == "23:23 - First customer report received"
    spanning = doc(timeline=((T0, "Report"), (T0 + 12 * 60 * M, "Fixed")))
    review = yaml.safe_load(review_yaml(spanning, UTC))["post_incident_review"]
    assert review["timeline"] == ["2026-01-14 14:23 - Report", "2026-01-15 02:23 - Fixed"]


def test_markdown_has_every_section_and_ticks_closed_items():
    text = review_markdown(doc(published_at=T0 + 50 * 60 * M), UTC)
    for heading in (
        "# Post-incident review: INC-RUNTIME-20260114-K7Q",
        "## Timeline (UTC)",
        "## Root cause",
        "## Contributing factors",
        "## What went well",
        "## What went poorly",
        "## Action items",
        "## Prevention confidence",
        "## Similar incidents",
    ):
        assert heading in text
    assert "**Severity**: Sev 1 (P0 · Critical)" in text
    assert "**Status**: Published (2026-01-16 16:23)" in text
    assert "- [ ] Add connection pool monitoring [Owner: Sam Rivera]" in text
    assert "- [x] Fix the leak [Owner: Priya Shah] [Due: 2026-01-16] [Done]" in text


def test_an_empty_draft_still_exports_readably():
    empty = doc(
        customers_impacted=None,
        business_impact="",
        timeline=(),
        contributing_factors=(),
        action_items=(),
        similar_incidents=(),
        prevention_confidence="",
        status="Draft",
    )
    text = review_markdown(empty, UTC)
    assert "**Customers impacted**: unknown" in text
    assert "- (none)" in text
    review = yaml.safe_load(review_yaml(empty, UTC))["post_incident_review"]
    assert review["customers_impacted"] is None and review["action_items"] == []
