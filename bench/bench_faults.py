"""Delivery under faults: real workers, a Redis killed and restarted, a misbehaving ESP.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_faults.py

Starts its own redis-server on a free loopback port, a fake ESP on 127.0.0.1 that speaks
Postmark's JSON API (reached through anymail's ANYMAIL_POSTMARK_API_URL), two `celery
worker` processes (concurrency 2) and `celery beat` (outbox drain every second), all
against a fresh `<name>_faults` PostgreSQL database. Then, one after the other:

  concurrent drains   a burst queued in several transactions, many drains at once
  broker outages      Redis SIGKILLed three times while messages are queued and sent
  worker SIGKILL      a worker killed mid-burst (mid-send), urgent pages among its claims
  folded + crash      folded notices, every worker killed while their leaders are sent
  ESP faults          429 / 5xx / timeouts, then a brownout (slow answers), then healthy

Each message is decided twice (two enqueues with one dedup key) and identified at the
ESP by its Message-ID, or, folded into a leader, by its line in the leader's body. Per
scenario it prints: due (decisions), fired (outbox rows), duplicates (rows beyond one
per decision), lost (due but never accepted by the ESP), delivered, delivered twice,
worker restarts, and the time to settle (from the first message queued to every one
delivered and nothing left pending or claimed). Exit status 1 unless lost = 0 and
delivered twice = 0 everywhere.

The fake ESP accepts a message when it answers it: a request whose client is gone by
then (a killed worker) is not accepted, as a connection reset before the answer. A
worker killed in the few milliseconds between the ESP's answer and its sent mark can
still cause one repeat with the same Message-ID; the script reports it if it happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from _bench import ROOT, wait_until

SETTLE_DEADLINE = 120.0  # seconds a scenario may take to settle before it counts as lost
TIMEOUT = 2  # NOTIFICATION_TIMEOUT for the workers: ESP timeouts cost seconds, not minutes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the fake ESP ----------------------------------------------------------------------------


class FakeESP:
    """Postmark's POST /email on 127.0.0.1, with a mode the scenarios switch."""

    def __init__(self, port: int):
        self.mode = "ok"  # ok | flaky | brownout | hold
        self.latency = 0.0
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.accepted: Counter[str] = Counter()  # Message-ID -> times accepted
        self.listed: Counter[str] = Counter()  # folded notice's key -> times listed
        self.in_flight = 0
        self.abandoned = 0
        self.answers: Counter[str] = Counter()
        self.rng = random.Random(14)
        esp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with esp.lock:
                    esp.in_flight += 1
                try:
                    esp.handle(self, json.loads(body or b"{}"))
                finally:
                    with esp.lock:
                        esp.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def handle(self, request, data: dict) -> None:
        mode, roll = self.mode, self.rng.random()
        if mode == "hold":
            self.released.wait(timeout=60)
        elif mode == "flaky":
            if roll < 0.15:
                return self.answer(request, 429, {"ErrorCode": 429, "Message": "Rate limit"})
            if roll < 0.30:
                return self.answer(request, self.rng.choice([500, 502, 503]), {"Message": "down"})
            if roll < 0.40:  # no answer in time: the client times out, nothing accepted
                time.sleep(TIMEOUT * 1.5)
                return self.drop(request)
        elif mode == "brownout":
            time.sleep(self.rng.uniform(0.2, 1.2))
            if roll < 0.10:
                return self.answer(request, 503, {"Message": "overloaded"})
        time.sleep(self.latency)
        if self.client_gone(request):
            with self.lock:
                self.abandoned += 1
            return self.drop(request)
        headers = {h["Name"].lower(): h["Value"] for h in data.get("Headers", [])}
        with self.lock:
            self.accepted[headers.get("message-id", "")] += 1
            for line in (data.get("TextBody") or "").splitlines():
                if line.startswith("- Notice "):
                    self.listed[line.removeprefix("- Notice ").strip()] += 1
        self.answer(
            request,
            200,
            {
                "To": data.get("To", ""),
                "SubmittedAt": "2026-12-03T00:00:00Z",
                "MessageID": str(uuid.uuid4()),
                "ErrorCode": 0,
                "Message": "OK",
            },
        )

    def answer(self, request, status: int, body: dict) -> None:
        self.answers[str(status)] += 1
        raw = json.dumps(body).encode()
        try:
            request.send_response(status)
            if status == 429:
                request.send_header("Retry-After", "1")
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(raw)))
            request.end_headers()
            request.wfile.write(raw)
        except OSError:
            pass

    def drop(self, request) -> None:
        self.answers["dropped"] += 1
        request.close_connection = True
        with contextlib.suppress(OSError):
            request.connection.shutdown(socket.SHUT_RDWR)

    @staticmethod
    def client_gone(request) -> bool:
        sock = request.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def deliveries(self, key: str) -> int:
        with self.lock:
            return self.accepted[message_id(key)] + self.listed[key]


def message_id(key: str) -> str:
    return f"<{key}@faults.bench>"


# --- processes -------------------------------------------------------------------------------


class Redis:
    def __init__(self):
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self.answers, timeout=30):
            raise SystemExit("redis-server did not start")

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=30)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


class Fleet:
    """The celery workers and beat; restarts a worker that exited (as `up` or systemd would)."""

    def __init__(self, env: dict, workdir: str):
        self.env, self.workdir = env, workdir
        self.workers: dict[str, subprocess.Popen] = {}
        self.beat = None
        self.restarts = 0
        self.crashes = 0  # exits the script did not cause
        self.killed: set[str] = set()
        self.logs = []

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(os.path.join(self.workdir, f"{name}.log"), "ab")  # noqa: SIM115
        self.logs.append(log)
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # killpg reaches the pool's children
        )

    def start_worker(self, name: str) -> None:
        self.workers[name] = self._spawn(
            [
                *("worker", "-c", "2", "-n", f"{name}@faults", "-l", "WARNING"),
                *("--without-gossip", "--without-mingle"),
            ],
            name,
        )

    def start(self) -> None:
        for name in ("w1", "w2"):
            self.start_worker(name)
        schedule = os.path.join(self.workdir, "beat-schedule")
        self.beat = self._spawn(["beat", "-l", "WARNING", "-s", schedule], "beat")

    def kill(self, name: str) -> None:
        self.killed.add(name)
        process = self.workers[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def supervise(self) -> None:
        for name, process in list(self.workers.items()):
            if process.poll() is not None:
                self.restarts += 1
                how = "killed by the scenario" if name in self.killed else "died on its own"
                self.crashes += name not in self.killed
                self.killed.discard(name)
                print(
                    f"    worker {name} exited ({process.returncode}, {how}); restarted", flush=True
                )
                self.start_worker(name)
        if self.beat.poll() is not None:
            print("    beat exited; restarted", flush=True)
            schedule = os.path.join(self.workdir, "beat-schedule")
            self.beat = self._spawn(["beat", "-l", "WARNING", "-s", schedule], "beat")

    def stop(self) -> None:
        for process in [*self.workers.values(), self.beat]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers.values(), self.beat]:
            if process is None:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        for log in self.logs:
            log.close()


# --- scenarios -------------------------------------------------------------------------------


class Scenario:
    def __init__(self, name: str, esp: FakeESP, fleet: Fleet):
        self.name, self.esp, self.fleet = name, esp, fleet
        self.prefix = name.split()[0].lower()
        self.keys: list[str] = []
        self.started = None
        self.restarts_before = fleet.restarts
        self.crashes_before = fleet.crashes

    def queue(self, count: int, *, urgent=False, recipient=None) -> list[str]:
        """`count` decisions in one transaction, each enqueued twice (the dedup key holds)."""
        from django.db import transaction

        from notifications.services import notification_enqueue

        if self.started is None:
            self.started = time.monotonic()
        keys = [f"{self.prefix}-{len(self.keys) + n}" for n in range(count)]
        with transaction.atomic():
            for _ in range(2):
                for key in keys:
                    notification_enqueue(
                        kind="bench",
                        channel="email",
                        recipient=recipient or f"{key}@example.com",
                        dedup_key=key,
                        subject=f"Notice {key}",
                        text=f"About {key}",
                        headers={"Message-ID": message_id(key)},
                        urgent=urgent,
                    )
        self.keys += keys
        return keys

    def settled(self) -> bool:
        from notifications.models import Notification, Status

        self.fleet.supervise()
        open_rows = Notification.objects.filter(
            dedup_key__startswith=f"{self.prefix}-", status__in=[Status.PENDING, Status.SENDING]
        )
        return not open_rows.exists() and all(self.esp.deliveries(k) for k in self.keys)

    def finish(self) -> dict:
        from notifications.models import Notification

        ok = wait_until(self.settled, timeout=SETTLE_DEADLINE, step=0.2)
        took = time.monotonic() - self.started
        fired = Notification.objects.filter(dedup_key__startswith=f"{self.prefix}-").count()
        counts = [self.esp.deliveries(k) for k in self.keys]
        return {
            "scenario": self.name,
            "due": len(self.keys),
            "fired": fired,
            "duplicates": fired - len(set(self.keys)),
            "lost": sum(1 for c in counts if c == 0),
            "delivered": sum(1 for c in counts if c > 0),
            "twice": sum(1 for c in counts if c > 1),
            "restarts": self.fleet.restarts - self.restarts_before,
            "crashes": self.fleet.crashes - self.crashes_before,
            "settle": f"{took:.1f} s" if ok else f">{SETTLE_DEADLINE:.0f} s (deadline)",
        }


def concurrent_drains(esp, fleet, redis, scale) -> dict:
    from notifications.tasks import deliver_due

    s = Scenario("concurrent drains", esp, fleet)
    esp.mode, esp.latency = "ok", 0.005
    for _ in range(6):
        s.queue(50 * scale)
    for _ in range(12):  # many drains at once, beside the kicks and beat's
        deliver_due.delay()
    return s.finish()


def broker_outages(esp, fleet, redis, scale) -> dict:
    s = Scenario("broker outages", esp, fleet)
    esp.mode, esp.latency = "ok", 0.02
    for _ in range(3):
        s.queue(40 * scale)
        wait_until(lambda: esp.in_flight > 0, timeout=10, step=0.01)
        redis.kill()  # mid-send: workers lose the broker under a running task
        s.queue(40 * scale)  # decided while the broker is down: the kick is lost
        time.sleep(5)  # the outage
        redis.start()
        fleet.supervise()
    return s.finish()


def worker_sigkill(esp, fleet, redis, scale) -> dict:
    from notifications.models import Notification, Status

    s = Scenario("worker SIGKILL", esp, fleet)
    esp.mode, esp.latency = "ok", 0.05
    s.queue(150 * scale)
    pages = s.queue(10, urgent=True)
    # Kill a worker holding claims, while it waits on the ESP.
    wait_until(
        lambda: Notification.objects.filter(status=Status.SENDING).exists() and esp.in_flight,
        timeout=30,
        step=0.01,
    )
    fleet.kill("w1")
    killed = time.monotonic()
    wait_until(lambda: all(esp.deliveries(k) for k in pages), timeout=60, step=0.05)
    pages_after = time.monotonic() - killed
    result = s.finish()
    result["note"] = f"pages all out {pages_after:.1f} s after the kill"
    return result


def folded_crash(esp, fleet, redis, scale) -> dict:
    from notifications.models import DeliverySettings

    DeliverySettings.objects.update_or_create(
        pk=1, defaults={"fold_window_minutes": 10, "daily_cap": 1000}
    )
    s = Scenario("folded + crash", esp, fleet)
    esp.released.clear()
    esp.mode = "hold"  # the first leaders' sends hang at the ESP...
    for n in range(6):
        s.queue(10 * scale, recipient=f"folded{n}@example.com")
    wait_until(lambda: esp.in_flight > 0, timeout=30, step=0.01)
    for name in list(fleet.workers):  # ...when every worker dies
        fleet.kill(name)
    esp.mode = "ok"
    esp.released.set()
    return s.finish()


def esp_faults(esp, fleet, redis, scale) -> dict:
    s = Scenario("ESP faults", esp, fleet)
    esp.mode, esp.latency = "flaky", 0.01
    s.queue(60 * scale)
    time.sleep(8)  # 429s, 5xx and timeouts
    esp.mode = "brownout"
    s.queue(60 * scale)
    time.sleep(8)  # slow answers, some 503
    esp.mode = "ok"
    return s.finish()


SCENARIOS = [concurrent_drains, broker_outages, worker_sigkill, folded_crash, esp_faults]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--esp-port", type=int, default=0, help="fake ESP port (default: free)")
    parser.add_argument("--scale", type=int, default=1, help="multiply message counts")
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is needed (Debian package redis)")

    redis = Redis()
    esp = FakeESP(args.esp_port or free_port())
    env = {
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
        "EMAIL_PROVIDER": "postmark",
        "EMAIL_API_KEY": "bench-server-token",
        "ANYMAIL_POSTMARK_API_URL": f"http://127.0.0.1:{esp.server.server_port}/",
        "NOTIFICATION_TIMEOUT": str(TIMEOUT),
        "NOTIFICATION_CLAIM_LEASE": "3",
        "NOTIFICATION_SEND_LEASE": "10",
        "NOTIFICATION_MAX_ATTEMPTS": "25",
        "NOTIFICATION_RETRY_BASE": "1",
        "OUTBOX_DRAIN_INTERVAL": "1",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    workdir = fleet = None
    results = []
    try:  # whatever fails, nothing this script started outlives it
        from _bench import setup_database

        env = {**os.environ, "DATABASE_URL": setup_database("faults")}
        redis.start()
        esp.start()
        workdir = tempfile.mkdtemp(prefix="bench-faults-")
        fleet = Fleet(env, workdir)
        fleet.start()
        for scenario in SCENARIOS:
            print(f"-- {scenario.__name__.replace('_', ' ')}", flush=True)
            results.append(scenario(esp, fleet, redis, args.scale))
            print(f"   {results[-1]}", flush=True)
    finally:
        if fleet is not None:
            fleet.stop()
        esp.stop()
        if redis.process is not None and redis.process.poll() is None:
            redis.kill()
    print(f"\nESP answers: {dict(esp.answers)}; abandoned by a dead client: {esp.abandoned}")
    print(f"worker logs: {workdir}\n")
    columns = ["scenario", "due", "fired", "duplicates", "lost", "delivered", "twice"]
    columns += ["restarts", "crashes", "settle"]
    header = ["scenario", "due", "fired", "duplicates", "lost", "delivered", "delivered twice"]
    header += ["workers restarted", "(died on their own)", "time to settle"]
    widths = [
        max(len(h), *(len(str(r[c])) for r in results))
        for h, c in zip(header, columns, strict=True)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in results:
        print("  ".join(str(r[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in results:
        if r.get("note"):
            print(f"{r['scenario']}: {r['note']}")
    bad = [r["scenario"] for r in results if r["lost"] or r["twice"] or r["duplicates"]]
    if bad or len(results) < len(SCENARIOS):
        print(f"FAILED: {', '.join(bad) or 'a scenario did not finish'}")
        return 1
    print("OK: nothing lost, nothing delivered twice")
    return 0


if __name__ == "__main__":
    sys.exit(main())
