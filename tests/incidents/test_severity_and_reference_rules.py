from datetime import date

import pytest

from incidents.rules import SUFFIX_ALPHABET, Severity, channel_code, make_reference, random_suffix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P0", "P0"),
        ("p1", "P1"),
        ("Critical", "P0"),
        ("high", "P1"),
        ("Sev 3", "P2"),
        ("sev4", "P3"),
        ("SEV-2", "P1"),
        (" medium ", "P2"),
        ("Low", "P3"),
    ],
)
def test_severity_synonyms(text, expected):
    assert Severity.parse(text) == Severity(expected)


@pytest.mark.parametrize("text", ["P4", "urgent", "", "Sev 0"])
def test_unknown_severity_says_what_is_accepted(text):
    with pytest.raises(ValueError, match="P0-P3"):
        Severity.parse(text)


def test_severity_labels_show_all_names():
    assert Severity.P0.label == "P0 · Critical · Sev 1"
    assert Severity.P3.label == "P3 · Low · Sev 4"
    assert [s.rank for s in Severity] == [0, 1, 2, 3]


def test_reference_has_seed_shape():
    reference = make_reference("QIW", channel_code("Test"), date(2026, 1, 14), "ABC")
    assert reference == "QIW-TEST-20260114-ABC"


def test_channel_code_from_names():
    assert channel_code("Customer portal") == "CUSTOMER-PORTAL"
    with pytest.raises(ValueError):
        channel_code("!!!")


def test_suffix_uses_unambiguous_letters():
    suffix = random_suffix(200)
    assert len(suffix) == 200
    assert set(suffix) <= set(SUFFIX_ALPHABET)
    assert not set("01IO") & set(suffix)
