"""The counters one move between levels changes (escalations.rules.moves), without a database."""

from escalations.rules.moves import level_move

BASE = {
    "bounces": 0,
    "level_moves": 0,
    "peak_level": 1,
    "already_flagged": False,
    "ping_pong_limit": 2,
}


def test_a_first_move_counts_but_is_no_bounce():
    move = level_move(from_level=1, to_level=2, previous_move_up=None, **BASE)
    assert (move.up, move.bounces, move.level_moves, move.peak_level) == (True, 0, 1, 2)
    assert move.flag_reason == ""


def test_moving_on_in_the_same_direction_is_no_bounce():
    move = level_move(from_level=2, to_level=3, previous_move_up=True, **BASE)
    assert move.bounces == 0


def test_turning_back_either_way_is_a_bounce():
    down = level_move(from_level=3, to_level=2, previous_move_up=True, **BASE)
    up_again = level_move(from_level=2, to_level=3, previous_move_up=False, **BASE)
    assert (down.up, down.bounces) == (False, 1)
    assert (up_again.up, up_again.bounces) == (True, 1)


def test_the_peak_level_never_goes_down():
    move = level_move(from_level=4, to_level=2, previous_move_up=True, **{**BASE, "peak_level": 4})
    assert move.peak_level == 4


def test_more_bounces_than_the_limit_flag_the_incident_once():
    at_limit = level_move(from_level=2, to_level=1, previous_move_up=True, **{**BASE, "bounces": 1})
    over = level_move(from_level=2, to_level=1, previous_move_up=True, **{**BASE, "bounces": 2})
    again = level_move(
        from_level=1,
        to_level=2,
        previous_move_up=False,
        **{**BASE, "bounces": 3, "already_flagged": True},
    )
    assert at_limit.flag_reason == ""
    assert over.flag_reason == "Bounced between levels 3 times (limit 2)."
    assert again.bounces == 4 and again.flag_reason == ""
