"""The embedded broker (portal/broker.py) never hands a consumer a half-written message.

kombu's own filesystem transport creates a message file and then writes it, and its
consumer parses whatever it finds: a consumer could read an empty file and die with
JSONDecodeError (celery/kombu#1551). These tests run real processes against a
broker folder: every message must arrive exactly once, whole.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import time
from pathlib import Path

import kombu
from kombu.transport import resolve_transport

from portal.broker import UNPARSEABLE_GRACE_SECONDS, Transport

PRODUCERS = 8
MESSAGES_EACH = 400
CONSUMERS = 4
PAD = 16 * 1024  # big enough that writing a message is not instantaneous


def _options(root: Path) -> dict:
    folders = {
        "data_folder_in": root / "queue",
        "data_folder_out": root / "queue",
        "staging_folder": root / "staging",
        "claimed_folder": root / "claimed",
        "rejected_folder": root / "rejected",
        "processed_folder": root / "processed",
        "control_folder": root / "control",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {**{k: str(v) for k, v in folders.items()}, "store_processed": False}


def _produce(options: dict, producer: int, count: int) -> None:
    with kombu.Connection(transport=Transport, transport_options=options) as connection:
        messages = connection.SimpleQueue("stress")
        for number in range(count):
            messages.put({"id": f"{producer}-{number}", "pad": "x" * PAD})
        messages.close()


def _consume(options: dict, results, stop) -> None:
    try:
        with kombu.Connection(transport=Transport, transport_options=options) as connection:
            messages = connection.SimpleQueue("stress")
            while not stop.is_set():
                try:
                    message = messages.get(block=True, timeout=0.2)
                except messages.Empty:
                    continue
                body = message.payload
                results.put(("ok", body["id"], len(body["pad"])))
                message.ack()
    except BaseException as error:  # report it: a dead consumer is the failure we look for
        results.put(("crash", repr(error), os.getpid()))
        raise


def _deadline(seconds: float) -> float:
    return time.monotonic() + seconds


def test_filesystem_urls_use_the_atomic_transport():
    assert resolve_transport("filesystem") is Transport


def test_many_producers_and_consumers_deliver_every_message_exactly_once_and_whole(tmp_path):
    options = _options(tmp_path)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    stop = context.Event()
    consumers = [
        context.Process(target=_consume, args=(options, results, stop)) for _ in range(CONSUMERS)
    ]
    producers = [
        context.Process(target=_produce, args=(options, number, MESSAGES_EACH))
        for number in range(PRODUCERS)
    ]
    for process in consumers + producers:
        process.start()
    expected = {f"{p}-{n}" for p in range(PRODUCERS) for n in range(MESSAGES_EACH)}
    received: list[str] = []
    crashes: list[tuple] = []
    try:
        deadline = _deadline(300)
        while len(received) < len(expected) and not crashes and time.monotonic() < deadline:
            try:
                kind, *rest = results.get(timeout=1)
            except queue_module.Empty:
                continue
            if kind == "crash":
                crashes.append(tuple(rest))
            else:
                message_id, pad = rest
                assert pad == PAD, f"message {message_id} arrived cut short"
                received.append(message_id)
        for process in producers:
            process.join(timeout=max(1, deadline - time.monotonic()))
        # anything a second consumer would wrongly deliver again arrives meanwhile
        late = _deadline(2)
        while time.monotonic() < late:
            try:
                kind, *rest = results.get(timeout=0.2)
            except queue_module.Empty:
                continue
            (crashes if kind == "crash" else received).append(
                tuple(rest) if kind == "crash" else rest[0]
            )
    finally:
        stop.set()
        for process in consumers + producers:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    assert crashes == []
    assert all(p.exitcode == 0 for p in producers)
    assert len(received) == len(set(received)), "a message was delivered twice"
    assert set(received) == expected, f"{len(expected - set(received))} messages never arrived"
    assert os.listdir(options["data_folder_in"]) == []
    assert os.listdir(options["claimed_folder"]) == []
    assert os.listdir(options["staging_folder"]) == []


def _drain_one(options: dict):
    with kombu.Connection(transport=Transport, transport_options=options) as connection:
        messages = connection.SimpleQueue("stress")
        try:
            message = messages.get(block=True, timeout=0.5)
        except messages.Empty:
            return None
        message.ack()
        return message.payload


def test_a_message_file_still_being_written_is_retried_not_fatal(tmp_path):
    """What kombu's own producer leaves for a moment: the file exists, still empty."""
    options = _options(tmp_path)
    with kombu.Connection(transport=Transport, transport_options=options) as connection:
        messages = connection.SimpleQueue("stress")
        messages.put({"id": "whole"})
        (name,) = os.listdir(options["data_folder_in"])
    # an older message, written by a producer that creates first and writes after
    half = Path(options["data_folder_in"]) / f"1_{'0' * 8}.{name.partition('.')[2]}"
    half.write_bytes(b"")

    assert _drain_one(options)["id"] == "whole"  # the empty file did not stop the consumer
    assert half.exists()  # given back to the queue, not lost

    with kombu.Connection(transport=Transport, transport_options=options) as connection:
        messages = connection.SimpleQueue("stress")
        messages.put({"id": "model"})
        (model,) = [n for n in os.listdir(options["data_folder_in"]) if n != half.name]
        model_path = Path(options["data_folder_in"]) / model
        half.write_bytes(model_path.read_bytes())  # its writer finishes
        model_path.unlink()
    assert _drain_one(options)["id"] == "model"  # read once complete, and only once
    assert _drain_one(options) is None


def test_a_message_unreadable_for_long_is_set_aside(tmp_path):
    options = _options(tmp_path)
    broken = Path(options["data_folder_in"]) / "1_abc.stress.msg"
    broken.write_bytes(b'{"truncated')
    old = time.time() - UNPARSEABLE_GRACE_SECONDS - 1
    os.utime(broken, (old, old))

    assert _drain_one(options) is None
    assert not broken.exists()
    assert os.listdir(options["rejected_folder"]) == ["1_abc.stress.msg"]


def test_concurrent_bindings_all_land_in_the_exchange_table(tmp_path):
    """Worker, beat and web declare their queues at the same time on a fresh folder."""
    binders = 6
    options = _options(tmp_path)
    context = multiprocessing.get_context("fork")

    def bind(number):
        with kombu.Connection(transport=Transport, transport_options=options) as connection:
            exchange = kombu.Exchange("shared", type="direct")
            queue = kombu.Queue(f"queue{number}", exchange, routing_key=f"queue{number}")
            queue(connection.default_channel).declare()

    processes = [context.Process(target=bind, args=(n,)) for n in range(binders)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert all(p.exitcode == 0 for p in processes)
    with kombu.Connection(transport=Transport, transport_options=options) as connection:
        table = connection.default_channel.get_table("shared")
    assert sorted(q.queue for q in table) == sorted(f"queue{n}" for n in range(binders))
