"""A small process supervisor for `manage.py up`.

Runs a few long-lived commands side by side, prefixes their output with their
name, and restarts one that exits (after a growing pause, with a log line) while
the others keep running: a crashed worker never takes the web server down with
it. SIGINT (Ctrl-C) or SIGTERM stops everything: each process gets SIGTERM in
its own process group and a grace period to finish; only one that outlives it
is killed. A second Ctrl-C kills at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

# A process that ran at least this long before exiting is restarted at once.
HEALTHY_RUN_SECONDS = 60.0


@dataclass
class Program:
    name: str
    argv: Sequence[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None
    readers: list[threading.Thread] = field(default_factory=list)


def backoff_seconds(failures_in_a_row: int, *, first: float = 1.0, cap: float = 30.0) -> float:
    """1, 2, 4, 8... seconds between restarts of a process that keeps failing, at most `cap`."""
    if failures_in_a_row <= 0:
        return 0.0
    return min(cap, first * 2 ** (failures_in_a_row - 1))


class Supervisor:
    def __init__(
        self,
        programs: Mapping[str, Sequence[str]],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        out: TextIO | None = None,
        grace_seconds: float = 20.0,
        first_backoff: float = 1.0,
        max_backoff: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.programs = {name: Program(name, list(argv)) for name, argv in programs.items()}
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.out = out or sys.stdout
        self.grace_seconds = grace_seconds
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.clock = clock
        self.stopping = threading.Event()
        self._signals = 0
        self._write_lock = threading.Lock()
        self._width = max(len(name) for name in self.programs) if self.programs else 0

    # --- output ------------------------------------------------------------------------------
    def say(self, name: str, text: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._write_lock:
            self.out.write(f"{stamp} {name:<{self._width}} | {text}\n")
            self.out.flush()

    def _pump(self, program: Program, stream) -> None:
        for line in iter(stream.readline, ""):
            self.say(program.name, line.rstrip("\n"))
        stream.close()

    # --- processes ---------------------------------------------------------------------------
    def start(self, program: Program) -> None:
        program.process = subprocess.Popen(
            program.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # its own process group: Ctrl-C reaches only us, and we stop it in order
            start_new_session=True,
        )
        program.started_at = self.clock()
        program.restart_at = None
        reader = threading.Thread(
            target=self._pump, args=(program, program.process.stdout), daemon=True
        )
        reader.start()
        program.readers.append(reader)
        self.say("up", f"started {program.name} (pid {program.process.pid})")

    def _reap(self, program: Program) -> None:
        """Notice that a program exited, and plan its restart."""
        process = program.process
        if process is None or program.restart_at is not None:
            return
        code = process.poll()
        if code is None:
            return
        ran = self.clock() - program.started_at
        self._signal_leftovers(program)  # e.g. pool processes of a worker that was killed
        program.failures_in_a_row = 0 if ran >= HEALTHY_RUN_SECONDS else program.failures_in_a_row
        program.failures_in_a_row += 1
        delay = backoff_seconds(
            program.failures_in_a_row, first=self.first_backoff, cap=self.max_backoff
        )
        program.restart_at = self.clock() + delay
        program.restarts += 1
        self.say(
            "up",
            f"{program.name} (pid {process.pid}) exited with {describe_exit(code)} after "
            f"{ran:.1f}s; restarting in {delay:.0f}s (restart {program.restarts})",
        )

    def tick(self) -> None:
        """One pass: notice exits, restart what is due."""
        for program in self.programs.values():
            self._reap(program)
            if program.restart_at is not None and self.clock() >= program.restart_at:
                self.start(program)

    def run(self, *, install_signal_handlers: bool = True, poll_seconds: float = 0.2) -> int:
        if install_signal_handlers:
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGTERM, self._on_signal)
        for program in self.programs.values():
            self.start(program)
        while not self.stopping.is_set():
            self.tick()
            self.stopping.wait(poll_seconds)
        return self.shutdown()

    def _on_signal(self, signum, frame) -> None:
        self._signals += 1
        if self._signals == 1:
            self.stopping.set()
        else:
            self.say("up", "second signal: killing everything now")
            for program in self.programs.values():
                self._signal_group(program, signal.SIGKILL)

    def stop(self) -> None:
        self.stopping.set()

    @staticmethod
    def _signal_group(program: Program, signum: int) -> None:
        process = program.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

    @staticmethod
    def _signal_leftovers(program: Program, signum: int = signal.SIGTERM) -> None:
        """Signal what is left of an exited program's process group, if anything."""
        if program.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(program.process.pid, signum)

    def shutdown(self) -> int:
        """SIGTERM to everything, wait for the grace period, then kill what is left."""
        running = [p for p in self.programs.values() if p.process and p.process.poll() is None]
        if running:
            self.say("up", "stopping " + ", ".join(p.name for p in running))
        for program in running:
            # the leader only: a Celery worker stops its own pool (signalling the whole
            # group would log each pool process as lost); leftovers are signalled below
            with contextlib.suppress(ProcessLookupError):
                program.process.send_signal(signal.SIGTERM)
        deadline = self.clock() + self.grace_seconds
        for program in running:
            try:
                program.process.wait(timeout=max(0.0, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                self.say("up", f"{program.name} did not stop in {self.grace_seconds:.0f}s: killed")
                self._signal_group(program, signal.SIGKILL)
                program.process.wait()
        for program in self.programs.values():
            # the rest of its process group (runserver's reloaded child, for one)
            self._signal_leftovers(program)
            for reader in program.readers:
                reader.join(timeout=2)
        self.say("up", "stopped")
        return 0


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"
