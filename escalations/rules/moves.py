"""What one move between levels does to an incident's counters (pure, no database).

A move that turns back (up after down, or down after up) is a bounce; more bounces
than the policy's ping-pong limit flag the incident for review, once (seed 001,
"ping-pong escalations").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LevelMove:
    up: bool
    bounces: int
    level_moves: int
    peak_level: int
    # Why the incident is flagged for review by this move; empty when it is not.
    flag_reason: str = ""


def level_move(
    *,
    from_level: int,
    to_level: int,
    previous_move_up: bool | None,
    bounces: int,
    level_moves: int,
    peak_level: int,
    already_flagged: bool,
    ping_pong_limit: int,
) -> LevelMove:
    """The counters after moving from `from_level` to `to_level`.

    `previous_move_up` is the direction of the incident's last move (None: none yet).
    """
    up = to_level > from_level
    if previous_move_up is not None and previous_move_up != up:
        bounces += 1
    flag_reason = ""
    if bounces > ping_pong_limit and not already_flagged:
        flag_reason = f"Bounced between levels {bounces} times (limit {ping_pong_limit})."
    return LevelMove(
        up=up,
        bounces=bounces,
        level_moves=level_moves + 1,
        peak_level=max(peak_level, to_level),
        flag_reason=flag_reason,
    )
