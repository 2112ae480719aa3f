"""The embedded broker: kombu's filesystem transport, made safe between processes.

kombu's own `filesystem` transport creates a message file in the queue folder and
only then writes into it, and its consumer moves and parses any file it lists, so
a worker can read an empty or half-written message and die with JSONDecodeError
(celery/kombu#1551). Exchange tables in the control folder have the same gap: a
new table is truncated and then written while readers may open it.

Here every file a reader can see is complete when it appears:

- a message is written into `staging_folder` and `os.replace`d into the queue
  folder (atomic on one filesystem), so the queue folder only ever holds whole
  messages;
- a consumer claims a message by renaming it into `claimed_folder`: exactly one
  consumer wins the rename, the others see it gone;
- a message that still cannot be parsed (left by a writer that is not this
  transport) is never fatal: a young one goes back to the queue to be read again
  once its writer has finished, an old one is set aside in `rejected_folder` with
  an error in the log;
- exchange tables are rewritten under a lock file and replaced atomically.

`portal/celery.py` registers this class for `filesystem://` URLs.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

# A file a foreign writer may still be writing is retried for this long.
UNPARSEABLE_GRACE_SECONDS = 60.0


def _write_atomically(folder: str | Path, target: str | Path, data: bytes) -> None:
    """Write `data` to a temporary file in `folder`, then rename it to `target`."""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


class Channel(filesystem.Channel):
    """Atomic puts, claim-by-rename gets, and a bad file never kills the consumer."""

    def _folder(self, option: str, default_name: str) -> str:
        folder = self.transport_options.get(option) or os.path.join(
            os.path.dirname(os.path.abspath(self.data_folder_out)), default_name
        )
        os.makedirs(folder, exist_ok=True)
        return folder

    @property
    def staging_folder(self) -> str:
        return self._folder("staging_folder", "staging")

    @property
    def claimed_folder(self) -> str:
        return self._folder("claimed_folder", "claimed")

    @property
    def rejected_folder(self) -> str:
        return self._folder("rejected_folder", "rejected")

    # --- messages --------------------------------------------------------------------------
    def _put(self, queue, payload, **kwargs):
        """Put `payload` on `queue`: it appears in the queue folder whole or not at all."""
        # zero-padded so that sorting the names is oldest first
        filename = f"{round(time.monotonic() * 1000):015d}_{uuid.uuid4()}.{queue}.msg"
        target = os.path.join(self.data_folder_out, filename)
        try:
            _write_atomically(self.staging_folder, target, str_to_bytes(dumps(payload)))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {filename!r} to directory") from exc

    def _get(self, queue):
        """Claim, read and return the oldest message of `queue`."""
        wanted = f"{queue}.msg"
        try:
            names = sorted(os.listdir(self.data_folder_in))
        except OSError as exc:
            raise ChannelError(f"Cannot list {self.data_folder_in!r}") from exc
        for filename in names:
            if filename.partition(".")[2] != wanted:
                continue
            source = os.path.join(self.data_folder_in, filename)
            claimed = os.path.join(self.claimed_folder, f"{os.getpid()}-{filename}")
            try:
                os.rename(source, claimed)  # the one atomic step that decides who has it
            except FileNotFoundError:
                continue  # another consumer claimed it first
            except OSError as exc:
                raise ChannelError(f"Cannot claim {source!r}") from exc
            try:
                with open(claimed, "rb") as handle:
                    raw = handle.read()
                message = loads(bytes_to_str(raw))
            except (OSError, ValueError) as exc:
                self._give_back(claimed, source, filename, exc)
                continue
            self._done_with(claimed, filename)
            return message
        raise Empty()

    def _done_with(self, claimed: str, filename: str) -> None:
        try:
            if self.store_processed:
                os.replace(claimed, os.path.join(self.processed_folder, filename))
            else:
                os.unlink(claimed)
        except OSError:
            log.warning("could not clear the read message file %s", claimed)

    def _give_back(self, claimed: str, source: str, filename: str, error: Exception) -> None:
        """A message that cannot be read yet: back to the queue if young, else set aside."""
        try:
            age = time.time() - os.stat(claimed).st_mtime
        except OSError:
            return
        try:
            if age < UNPARSEABLE_GRACE_SECONDS:
                os.rename(claimed, source)
                log.info("message %s is not readable yet (%s); will retry", filename, error)
            else:
                os.replace(claimed, os.path.join(self.rejected_folder, filename))
                log.error(
                    "message %s was unreadable for %.0fs (%s); set aside in %s",
                    filename,
                    age,
                    error,
                    self.rejected_folder,
                )
        except OSError:
            log.exception("could not return unreadable message %s", filename)

    # --- exchange tables -------------------------------------------------------------------
    @contextmanager
    def _table_lock(self, exchange):
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(parents=True, exist_ok=True)
        with open(f"{file}.lock", "ab") as lock_handle:
            filesystem.lock(lock_handle, filesystem.LOCK_EX)
            try:
                yield file
            finally:
                filesystem.unlock(lock_handle)

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            raw = file.read_bytes()  # whole: tables are only ever replaced, never rewritten
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}") from exc
        return [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(raw))]

    def _replace_table(self, exchange, change) -> None:
        try:
            with self._table_lock(exchange) as file:
                queues = self.get_table(exchange)
                changed = change(queues)
                if changed is not None:
                    _write_atomically(self.control_folder, file, str_to_bytes(dumps(changed)))
        except OSError as exc:
            raise ChannelError(f"Cannot update the table of exchange {exchange!r}") from exc

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._replace_table(exchange, lambda queues: None if entry in queues else [entry, *queues])

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        # the virtual channel's bookkeeping, skipping filesystem's own table rewrite
        super(filesystem.Channel, self)._delete(
            queue, exchange, routing_key, pattern, *args, **kwargs
        )
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._replace_table(
            exchange,
            lambda queues: [q for q in queues if q != entry] if entry in queues else None,
        )


class Transport(filesystem.Transport):
    Channel = Channel
