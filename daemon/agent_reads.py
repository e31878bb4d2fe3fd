"""Reads of a run beyond the first agents' (a mixin of `RunContext`, kept apart so daemon/agents.py
stays small): canonical records, a Maildir read through the mail connector, and the notes
folders through their index (a derived file in the runtime's cache folder).

The Maildir reader is reached through the connector registry (`oxymus.plugins`), as
everything of a connector is: the runtime asks the `mail` connector's `read_maildir`,
which never writes under the Maildir. Each read is checked against the agent's
declaration (`records:KIND`, `mail`) and noted as a reference in the run.
"""

from __future__ import annotations

import asyncio
import os
import pickle
from email.utils import parseaddr
from collections.abc import Callable
from typing import Any

from oxymus.agents.base import OutOfBounds
from oxymus.agents import research_notes
from oxymus.kernel.cpu_pool import breathe
from oxymus.plugins import connectors

DIGEST_CHUNK = 100  # digests per pickle: one chunk's `loads` is a few milliseconds of the loop


class RecordAndMailReads:
    async def records(self, kind: str, *, status: str | None = None, limit: int = 500) -> list[Any]:
        self._check(f"records:{kind}")  # type: ignore[attr-defined]
        found = await self.rt.store.records.list(kind=kind, status=status, limit=limit)  # type: ignore[attr-defined]
        self._ref("records", kind + (f"@{status}" if status else ""), f"{len(found)} records")  # type: ignore[attr-defined]
        return found

    async def maildir(self, path: str | None, seen: dict[str, Any] | None, digest: Callable[..., Any], *args: Any) -> Any:
        """The new messages in the Maildir at `path` (default: `[mail] maildir`) since `seen` (the state a
        previous read returned), as (the read without its messages, [digest(message, own, *args) for each]);
        `own` is the person's address from `[mail] from`, lowercased, or None. None when no Maildir is set.

        The read and the digests run in the runtime's worker process: a first read is seconds of parsing
        (and the agent's picking apart of each message), and only what the digest keeps comes back."""
        self._check("mail")  # type: ignore[attr-defined]
        # [mail] is the mail connector's section; its config rides on its email.send spec (as calendars() finds CalDAV's).
        spec = self.rt.desk.specs.get("email.send") if self.rt.desk is not None else None  # type: ignore[attr-defined]
        config = getattr(spec, "config", None)
        if not path:
            path = getattr(config, "maildir", None)
            if not path:
                return None
        reader = getattr(connectors().get("mail"), "read_maildir", None)
        if reader is None:
            raise OutOfBounds("no mail connector with a Maildir reader is installed")
        # The person's own mail (a sent copy, a note to self) is no lead: the digest is told whose address is theirs.
        sender = getattr(config, "sender", None)
        own = (parseaddr(sender)[1].lower() or None) if sender else None
        result, new, chunks = await self.rt.cpu.run(read_digested, reader, path, seen, own, digest, args)  # type: ignore[attr-defined]
        self._ref("mail", path, f"{new} new of {result.files} messages")  # type: ignore[attr-defined]
        return result, await unpickled(chunks)

    async def wordpress_post(self, slug: str) -> dict[str, Any] | None:
        """The post with this slug on the `[wordpress]` site as WordPress has it now; None if there is none.
        Raises the connector's EffectError (Transient, Permanent) when WordPress cannot answer."""
        self._check("wordpress")  # type: ignore[attr-defined]
        desk = self.rt.desk  # type: ignore[attr-defined]
        # [wordpress] is the connector's section; its config rides on its wordpress.publish spec.
        spec = desk.specs.get("wordpress.publish") if desk is not None else None
        config = getattr(spec, "config", None)
        finder = getattr(connectors().get("wordpress"), "find_post", None)
        if config is None or finder is None or not config.url or not config.user:
            raise OutOfBounds("no WordPress site: set [wordpress] url and user in config.toml")
        # The desk's context: the environment, [wordpress] password_command, then the keyring, as the action has it.
        password = await asyncio.to_thread(desk.context().secret, config.secret_spec())
        if not password:
            raise OutOfBounds(f"no application password for [wordpress] user {config.user!r}: {config.secret_spec().ways()}")
        found = await asyncio.to_thread(finder, config, password.strip(), slug)
        self._ref("wordpress", f"{config.url} post {slug}", f"status {found.get('status')}" if found else "none")  # type: ignore[attr-defined]
        return found
    async def search_notes(self, folders: list[str], searches: list[list[str]], *, limit: int = 10,
                           max_file_bytes: int = 2_000_000) -> research_notes.NotesResult:
        """The notes index brought up to date with `folders` (absolute), then each search's best lines."""
        self._check("notes")  # type: ignore[attr-defined]
        path = os.path.join(self.rt.cache_dir, "notes-index.sqlite")  # type: ignore[attr-defined]
        result = await asyncio.to_thread(research_notes.search_notes, path, folders, searches, limit=limit, max_file_bytes=max_file_bytes)
        r = result.report
        self._ref("notes", ", ".join(folders)[:500],  # type: ignore[attr-defined]
                  f"{r.files} files: {r.indexed} indexed, {r.unchanged} unchanged, {r.removed} removed")
        return result


def read_digested(reader: Callable[..., Any], path: str, seen: dict[str, Any] | None, own: str | None,
                  digest: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, int, list[bytes]]:
    """In the worker process: the read, how many messages were new, and their digests pickled in chunks
    of `DIGEST_CHUNK`; the messages themselves never travel back."""
    result = reader(path, seen)
    digests = [digest(m, own, *args) for m in result.messages]
    chunks = [pickle.dumps(digests[i:i + DIGEST_CHUNK], protocol=pickle.HIGHEST_PROTOCOL)
              for i in range(0, len(digests), DIGEST_CHUNK)]
    return result.model_copy(update={"messages": []}), len(result.messages), chunks


async def unpickled(chunks: list[bytes]) -> list[Any]:
    """The digests back, a chunk at a time: 10,000 in one `loads` held the loop for half a second."""
    out: list[Any] = []
    for chunk in chunks:
        out += pickle.loads(chunk)  # our own worker's bytes, made just now
        await breathe()
    return out
