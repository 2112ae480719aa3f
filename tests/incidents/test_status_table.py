"""The allowed moves between statuses: one pure table, checked without a database."""

import pytest

from incidents.rules import (
    REOPENABLE,
    TRANSITIONS,
    Status,
    TransitionError,
    allowed_moves,
    check_reopen,
    check_transition,
)

ALLOWED = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}


@pytest.mark.parametrize("source", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_every_pair_follows_the_table(source, target):
    if (source, target) in ALLOWED:
        check_transition(source, target)
    else:
        with pytest.raises(TransitionError):
            check_transition(source, target)


def test_closed_is_final_and_resolved_only_closes():
    assert allowed_moves(Status.CLOSED) == []
    assert allowed_moves(Status.RESOLVED) == [Status.CLOSED]


def test_nothing_moves_back_to_new():
    assert all(Status.NEW not in targets for targets in TRANSITIONS.values())


def test_acknowledged_only_from_new():
    sources = {s for s, targets in TRANSITIONS.items() if Status.ACKNOWLEDGED in targets}
    assert sources == {Status.NEW}


def test_error_names_both_statuses_and_the_options():
    with pytest.raises(TransitionError) as error:
        check_transition(Status.RESOLVED, Status.WAITING_ON_CUSTOMER)
    message = str(error.value)
    assert "resolved" in message and "waiting on customer" in message
    assert "closed" in message


def test_reopening_through_a_status_change_points_to_reopen():
    with pytest.raises(TransitionError, match="reopen"):
        check_transition(Status.CLOSED, Status.INVESTIGATING)


def test_same_status_is_refused():
    with pytest.raises(TransitionError, match="already"):
        check_transition(Status.INVESTIGATING, Status.INVESTIGATING)


@pytest.mark.parametrize("status", list(Status))
def test_only_resolved_and_closed_reopen(status):
    if status in REOPENABLE:
        check_reopen(status)
    else:
        with pytest.raises(TransitionError):
            check_reopen(status)


def test_unknown_status_is_a_value_error():
    with pytest.raises(ValueError):
        check_transition("new", "frozen")
