"""Calendars are parsed and expanded in a worker process, so a big one never holds the daemon's GIL.

Parsing 20,000 events is seconds of pure Python; in a thread of the daemon it takes
the GIL in turns with the event loop, and every socket request waits. So the calendar
sources hand the bytes to one small worker process (`python -m
oxymus.connectors.calendar.worker`), started on first use and kept for the next polls,
and get back compact rows: the item fields as strings, already in the person's zone,
that the daemon turns into state items without parsing anything.

The pipe protocol is private to the two: a request is one JSON line (origin, window,
zone, max_occurrences, the document's size) followed by the document's bytes; the
answer is JSON lines: `{"events": [...]}` with at most `CHUNK` rows each, then one
`{"todos": [...], "warnings": [...]}`; or one `{"ics_error": message}` or `{"bug": message}`.
Lines of a bounded size keep each decode in the daemon short: one 8 MB `json.loads`
would hold the GIL, and the event loop, for a quarter of a second. No pickle: the
worker's answer is data, never code.

One request at a time (a lock): the sources of one daemon share the worker. A worker
that dies, answers nonsense or runs past the poll's timeout is killed and
`WorkerFailed` says what happened (the source reports it as unavailable and the next
poll starts a fresh worker); a poll that is stopped (its timeout, a shutdown) kills
the worker at once, so no parse runs on after its poll.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

from oxymus.connectors.calendar.occurrence import Expansion, Window
from oxymus.connectors.calendar.recurrence import ExpansionStopped, Limits

Rows = dict[str, Any]  # {"events": [[...]], "todos": [[...]], "warnings": [...]}
CHUNK = 500  # event rows per answer line
START_TIMEOUT = 60.0  # seconds for the worker to start and import the parser, besides the poll's own


class WorkerFailed(Exception):
    """The worker died, hung or answered something unreadable; str() says which, for the person."""


# ---------------------------------------------------------------- rows: what an expansion is, as data


def _utc(moment: dt.datetime) -> str:
    # contract.utc_iso's form (ms, Z), by isoformat: 50,000 of these per big poll
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _local(value: dt.date | dt.datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat() if isinstance(value, dt.datetime) else value.isoformat()


def rows(expansion: Expansion, zone: ZoneInfo) -> Rows:
    """An expansion as item fields (`CalendarEvent` and `Deadline` order), times already formatted.

    One row per item key (the first, as the expansion found them), sorted by start and key,
    so the daemon merges sorted runs instead of sorting 20,000 items while holding the GIL.
    """
    # Each distinct moment formatted once: a big calendar's 50,000 times are mostly the same few
    # thousand slots, and a dict look-up costs a tenth of astimezone + isoformat. Equal moments
    # (the same instant, or the same date) format the same, so the caches cannot mix them up.
    utcs: dict = {}
    locals_: dict = {}
    events: dict[str, list] = {}
    for e in expansion.events:
        key = f"{e.uid}@{e.occurrence}"
        if key not in events:
            start, end, starts_at, ends_at = e.start, e.end, e.starts_at, e.ends_at
            if (a := locals_.get(start)) is None:
                a = locals_[start] = _local(start, zone)
            if (b := locals_.get(end)) is None:
                b = locals_[end] = _local(end, zone)
            if (c := utcs.get(starts_at)) is None:
                c = utcs[starts_at] = _utc(starts_at)
            if (d := utcs.get(ends_at)) is None:
                d = utcs[ends_at] = _utc(ends_at)
            events[key] = [e.uid, e.occurrence, e.summary, a, b, c, d, e.all_day, e.recurring, e.status, e.location,
                           e.description, e.url]
    todos: dict[str, list] = {}
    for t in expansion.todos:
        key = f"todo:{t.uid}" + (f"@{t.occurrence}" if t.occurrence else "")
        if key not in todos:
            todos[key] = [t.uid, t.occurrence, t.summary, _local(t.due, zone), _utc(t.starts_at), _utc(t.ends_at),
                          t.all_day, t.recurring, t.status, t.priority]
    return {
        "events": [row for _, row in sorted(events.items(), key=lambda kv: (kv[1][5], kv[0]))],
        "todos": [row for _, row in sorted(todos.items(), key=lambda kv: (kv[1][4], kv[0]))],
        "warnings": expansion.warnings,
    }


def expand_here(data: bytes | str, origin: str, window: Window, limits: Limits) -> Rows:
    """The same expansion in this process (the worker's own work; tests compare against it)."""
    from oxymus.connectors.calendar.expand import expand_ics

    return rows(expand_ics(data, origin, window, limits), window.zone)


# ---------------------------------------------------------------- the daemon's side


class Worker:
    """One worker process, started on first use; `expand()` from any thread, one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._stderr = None
        self.started = 0  # worker processes started (tests and the bench read it)

    def expand(self, data: bytes | str, origin: str, window: Window, limits: Limits, timeout: float) -> Rows:
        """The rows of `data`; IcsError when unusable as a whole, WorkerFailed, ExpansionStopped."""
        deadline = time.monotonic() + timeout
        while not self._lock.acquire(timeout=0.1):  # another source's parse: wait, but stay stoppable
            limits.check()
            if time.monotonic() > deadline:
                raise WorkerFailed(f"the calendar worker stayed busy with another calendar for {timeout:g} s")
        try:
            return self._request(data, origin, window, limits, deadline)
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._kill()

    def _start(self) -> subprocess.Popen:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self._kill()
        self._stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty library can never fill it and block
        # close_fds and no preexec_fn: vfork, so the start costs the same whatever the daemon's size
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "oxymus.connectors.calendar.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, close_fds=True, start_new_session=True,
        )
        self.started += 1
        return self._proc

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(5)
            for pipe in (proc.stdin, proc.stdout):
                with contextlib.suppress(Exception):
                    pipe.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _last_words(self) -> str:
        if self._stderr is None:
            return ""
        with contextlib.suppress(OSError):
            self._stderr.seek(0)
            lines = [ln for ln in self._stderr.read()[-4000:].decode("utf-8", "replace").splitlines() if ln.strip()]
            if lines:
                return f": {lines[-1].strip()}"
        return ""

    def _request(self, data: bytes | str, origin: str, window: Window, limits: Limits, deadline: float) -> Rows:
        from oxymus.connectors.calendar.ics import IcsError

        text = isinstance(data, str)  # CalDAV gives text: the worker gets it back as text, not re-decoded
        if text:
            data = data.encode("utf-8", "surrogatepass")

        fresh = self._proc is None or self._proc.poll() is not None
        proc = self._start()
        if fresh:
            deadline += START_TIMEOUT
        head = {"origin": origin, "start": window.start.isoformat(), "end": window.end.isoformat(),
                "zone": window.zone.key, "max_occurrences": limits.max_occurrences, "size": len(data), "text": text}
        try:
            proc.stdin.write(json.dumps(head).encode() + b"\n")
            proc.stdin.write(data)
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            why = self._died(proc)
            raise WorkerFailed(f"the calendar worker could not take {origin}: {why}") from None
        events: list = []
        for line in self._lines(proc, limits, deadline, origin):
            try:
                answer = json.loads(line)
            except ValueError:
                self._kill()
                raise WorkerFailed(f"the calendar worker answered something unreadable for {origin}; it was restarted") from None
            if "ics_error" in answer:
                raise IcsError(answer["ics_error"])
            if "bug" in answer:
                raise WorkerFailed(f"the calendar worker failed on {origin}: {answer['bug']}")
            if "events" in answer:
                events.extend(answer["events"])
            else:
                return {"events": events, "todos": answer["todos"], "warnings": answer["warnings"]}
        raise AssertionError("unreachable: _lines ends only by raising")

    def _died(self, proc: subprocess.Popen) -> str:
        with contextlib.suppress(Exception):
            proc.wait(2)
        code = proc.returncode
        why = (f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}") + self._last_words()
        self._kill()
        return why

    def _lines(self, proc: subprocess.Popen, limits: Limits, deadline: float, origin: str):
        """The answer's lines as they come, stopping (and killing the worker) when the poll stops."""
        fd = proc.stdout.fileno()
        pending = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while True:
                if limits.stop is not None and limits.stop.is_set():
                    self._kill()  # the poll gave up: the parse must not run on
                    raise ExpansionStopped("stopped")
                left = deadline - time.monotonic()
                if left <= 0:
                    self._kill()
                    raise WorkerFailed(f"the calendar worker took too long on {origin}; it was stopped")
                if not sel.select(min(left, 0.1)):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise WorkerFailed(f"the calendar worker died while reading {origin} ({self._died(proc)}); "
                                       "the next poll starts a new one")
                *lines, pending = (pending + chunk).split(b"\n")
                yield from lines


_shared = Worker()


def expand(data: bytes | str, origin: str, window: Window, limits: Limits, timeout: float) -> Rows:
    """Expand in the shared worker process (what the calendar sources call)."""
    return _shared.expand(data, origin, window, limits, timeout)


def shared() -> Worker:
    return _shared


# ---------------------------------------------------------------- the worker's side


def _serve(inp, out) -> None:
    from oxymus.connectors.calendar.ics import IcsError

    while True:
        line = inp.readline()
        if not line:
            return  # the daemon closed the pipe (or died): nothing more to do
        head = json.loads(line)
        data = inp.read(head["size"])
        if head.get("text"):
            data = data.decode("utf-8", "surrogatepass")
        zone = ZoneInfo(head["zone"])
        window = Window(dt.datetime.fromisoformat(head["start"]), dt.datetime.fromisoformat(head["end"]), zone)
        lines: list[dict]
        try:
            got = expand_here(data, head["origin"], window, Limits(max_occurrences=head["max_occurrences"]))
            events = got["events"]
            lines = [{"events": events[i:i + CHUNK]} for i in range(0, len(events), CHUNK)]
            lines.append({"todos": got["todos"], "warnings": got["warnings"]})
        except IcsError as e:
            lines = [{"ics_error": str(e)}]
        except Exception as e:  # noqa: BLE001 - a bug in one document is reported, the worker lives on
            lines = [{"bug": f"{type(e).__name__}: {e}"}]
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
