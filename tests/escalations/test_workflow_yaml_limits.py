"""Workflow YAML is read within limits: size, nodes, alias expansion and depth.

A 452-byte file of nested merge keys took 95 s and 3.8 GB; a 100k-deep list
was a RecursionError traceback (issue 15, finding 6). Both now answer at once
with `file:line` messages. The limits are counts, not timers; the test allows
a generous 5 s on a busy machine."""

from __future__ import annotations

import time

import pytest
from django.core.management import CommandError, call_command

from escalations.policies.workflow_yaml import (
    MAX_BYTES,
    WorkflowError,
    load_workflow_file,
    load_workflow_text,
)

GENEROUS_SECONDS = 5


def merge_key_bomb(depth: int = 7, width: int = 7) -> str:
    """x_k merges x_(k-1) `width` times: width**depth keys once flattened."""
    lines = ["w: &w {a: 1, b: 2, c: 3}"]
    previous = "w"
    for level in range(1, depth + 1):
        refs = ", ".join([f"*{previous}"] * width)
        lines.append(f"x{level}: &x{level} {{<<: [{refs}]}}")
        previous = f"x{level}"
    return "escalation:\n  tiers: []\n" + "\n".join(f"  {line}" for line in lines) + "\n"


def timed(load, *args):
    started = time.perf_counter()
    with pytest.raises(WorkflowError) as raised:
        load(*args)
    return str(raised.value), time.perf_counter() - started


def test_the_merge_key_bomb_is_refused_at_once():
    text = merge_key_bomb()
    assert len(text) < 460
    message, seconds = timed(load_workflow_text, text, "bomb.yaml")
    assert seconds < GENEROUS_SECONDS
    assert message.startswith("bomb.yaml:") and "aliases expand to more than" in message
    line = int(message.split(":")[1])
    assert text.splitlines()[line - 1].lstrip().startswith("x")  # the line that blows up


def test_a_smaller_bomb_is_refused_too():
    # Small enough that the old code answered quickly, with other messages.
    message, _seconds = timed(load_workflow_text, merge_key_bomb(depth=6, width=7), "b.yaml")
    assert "aliases expand to more than" in message


def test_a_deeply_nested_list_is_refused_at_once():
    text = "escalation:\n  tiers: " + "[" * 100_000 + "]" * 100_000 + "\n"
    message, seconds = timed(load_workflow_text, text, "deep.yaml")
    assert seconds < GENEROUS_SECONDS
    assert message.startswith("deep.yaml:2:") and "nested more than" in message


def test_too_many_nodes_are_refused():
    items = ", ".join(["1"] * 60_000)
    message, _seconds = timed(load_workflow_text, f"escalation:\n  tiers: [{items}]\n", "n.yaml")
    assert message.startswith("n.yaml:2:") and "more than" in message and "values" in message


def test_a_file_too_big_is_refused_before_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("escalation:\n" + "#" * (MAX_BYTES + 10) + "\n")
    message, _seconds = timed(load_workflow_file, path)
    assert message == f"{path}:1: the file is larger than {MAX_BYTES} bytes"


@pytest.mark.django_db
def test_load_workflow_answers_with_file_line_messages(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(merge_key_bomb())
    started = time.perf_counter()
    with pytest.raises(CommandError) as raised:
        call_command("load_workflow", str(path))
    assert time.perf_counter() - started < GENEROUS_SECONDS
    assert f"{path}:" in str(raised.value) and "Nothing loaded" in str(raised.value)


def test_the_presets_are_well_within_the_limits():
    from pathlib import Path

    import escalations

    for preset in (Path(escalations.__file__).parent / "workflows").glob("*.yaml"):
        load_workflow_file(preset)
