"""The research agent's notes index: the person's markdown notes, searchable by line.

The notes folders (`[agents.research] notes`) are the source of truth; this index is a
derived SQLite file (FTS5) in the profile's cache folder, never part of the store and
never migrated: a missing, damaged or older-format file is simply built again.

- Incremental: a file is read again only when its (size, mtime_ns) changed; files gone
  from the folders (or from folders no longer configured) leave the index.
- One row per block of lines (a paragraph, a list; at most MAX_BLOCK_LINES), with its first
  line's number, so a hit cites `folder/relative/path.md:LINE`: the block's lines that best
  match (up to LINES_PER_BLOCK). Each row also carries its context (the file's name and the headings above it) in
  a column that weighs less, so "acme" finds the lines under `## Acme` and in `acme.md`.
- Citations name a file by its folder's name and its path inside it, never by the home
  path: a brief can be shown or sent without telling where the person's files are.
- A file that is not UTF-8 is read with replacement characters, and one over the size
  limit is skipped; both are reported naming the file. Hidden folders (.git, .obsidian)
  are not walked.

Plain sqlite3 and no pydantic on the hot path: it indexes thousands of files in one
transaction, and a run that finds nothing changed costs one stat per file.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass, field

FORMAT = 1  # PRAGMA user_version of the file; another value: rebuilt
TOKENIZER = "porter unicode61 remove_diacritics 2"
CONTEXT_WEIGHT = 0.4  # a word in the headings or the file name counts this much of one in the line
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
MAX_LINE_CHARS = 2000  # a longer line (a pasted blob) is cut in the index and in citations
MAX_BLOCK_LINES = 8
LINES_PER_BLOCK = 3  # a block that matches gives at most this many cited lines


@dataclass
class IndexReport:
    files: int = 0  # markdown files seen in the folders
    indexed: int = 0  # read again (new or changed)
    unchanged: int = 0
    removed: int = 0
    problems: list[str] = field(default_factory=list)  # each names its file or folder


@dataclass(frozen=True)
class NoteHit:
    cite: str  # folder/relative/path.md:LINE
    path: str  # the file, absolute (to open it; never shown in a brief)
    line: int
    text: str
    context: str
    score: float


@dataclass
class NotesResult:
    """One read of the notes: the index brought up to date, then one list of hits per search."""

    report: IndexReport
    hits: list[list[NoteHit]]


def search_notes(index_file: str, folders: list[str], searches: list[list[str]], *, limit: int,
                 max_file_bytes: int) -> NotesResult:
    """Update the index at `index_file` from `folders`, then run each search (blocking: run it in a thread)."""
    index = NotesIndex(index_file, max_file_bytes=max_file_bytes)
    try:
        report = index.update(folders)
        return NotesResult(report=report, hits=[index.search(terms, roots=folders, limit=limit) for terms in searches])
    finally:
        index.close()


def cite_name(root: str, rel: str, roots: list[str] | None = None) -> str:
    """`notes/acme.md` for `acme.md` in the folder `~/notes`; when two of `roots` share that
    folder name, the folder ~-shortened instead (`~/work/notes/acme.md`), so a citation names one file."""
    name = os.path.basename(os.path.normpath(root)) or root
    if roots and sum(1 for r in roots if (os.path.basename(os.path.normpath(r)) or r) == name) > 1:
        home = os.path.expanduser("~")
        name = "~" + root[len(home):] if home not in ("", "/") and root.startswith(home + os.sep) else root
    return f"{name}/{rel}"


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def match_expression(terms: list[str]) -> str | None:
    """An FTS5 OR of the terms, each quoted (so no word is read as an operator); None: no word."""
    seen: list[str] = []
    for term in terms:
        for w in words(term):
            if w not in seen:
                seen.append(w)
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in seen) or None


def blocks_of(text: str, stem: str) -> list[tuple[int, list[str], str]]:
    """(first line number, the lines, their context) for each block of consecutive non-blank lines
    that are not headings, at most MAX_BLOCK_LINES long; fenced code is kept but its `#` lines are
    not headings. A block is one row of the index (fewer rows: a faster index and search); a hit
    cites its line that best matches the search."""
    out: list[tuple[int, list[str], str]] = []
    headings: list[str] = []
    context = stem
    fenced = False
    block: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        head = stripped[:1]
        if head in ("`", "~") and (stripped.startswith("```") or stripped.startswith("~~~")):
            fenced = not fenced
        elif head == "#" and not fenced and (m := _HEADING.match(stripped)):
            if block:
                out.append((first, block, context))
                block = []
            level = len(m.group(1))
            headings = headings[:level - 1] + [""] * max(0, level - 1 - len(headings)) + [m.group(2)]
            context = " ".join([stem, *filter(None, headings)])
            continue  # a heading is context for the lines under it, not a fact of its own
        if not stripped or len(block) >= MAX_BLOCK_LINES:
            if block:
                out.append((first, block, context))
                block = []
            if not stripped:
                continue
        if not block:
            first = number
        block.append(stripped[:MAX_LINE_CHARS])
    if block:
        out.append((first, block, context))
    return out


def best_lines(lines: list[str], terms: list[str], context: str = "", most: int = LINES_PER_BLOCK) -> list[int]:
    """Indexes of the block's lines with the most words starting like a search word (the index
    stems them), best first (the earlier on a tie), at most `most`. When its context (headings,
    file name) matches, the block is about the subject: its other lines follow, in order."""
    keys = tuple({w[:max(3, len(w) - 2)] for t in terms for w in words(t)})
    if not keys:
        return list(range(min(most, len(lines))))
    scores = [sum(1 for w in words(line) if w.startswith(keys)) for line in lines]
    ranked = sorted((i for i, score in enumerate(scores) if score), key=lambda i: (-scores[i], i))
    if any(w.startswith(keys) for w in words(context)):
        ranked += [i for i, score in enumerate(scores) if not score]
    return ranked[:most] or [0]


class NotesIndex:
    """One index file. Not thread-safe: the agent runs one run at a time and uses it in one thread."""

    def __init__(self, path: str, *, max_file_bytes: int = 2_000_000):
        self.path = path
        self.max_file_bytes = max_file_bytes
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        try:
            db = self._connect()
            if db.execute("PRAGMA user_version").fetchone()[0] == FORMAT:
                db.execute("SELECT count(*) FROM files").fetchone()
                return db
            db.close()
        except sqlite3.DatabaseError:
            pass  # damaged or not a database: it is derived, so it is built again
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.remove(self.path + suffix)
            except FileNotFoundError:
                pass
        db = self._connect()
        with db:
            db.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, root TEXT NOT NULL, rel TEXT NOT NULL, "
                       "size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, UNIQUE (root, rel))")
            # The lines are kept in a plain table (by file: a changed file's lines are found by index)
            # and the FTS5 table reads them from there (external content).
            db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, file INTEGER NOT NULL, line INTEGER NOT NULL, "
                       "text TEXT NOT NULL, context TEXT NOT NULL)")  # line: the block's first; text: its lines
            db.execute("CREATE INDEX rows_by_file ON rows(file)")
            db.execute(f"CREATE VIRTUAL TABLE lines USING fts5(text, context, content='rows', content_rowid='id', "
                       f"tokenize='{TOKENIZER}')")
            db.execute(f"PRAGMA user_version = {FORMAT}")
        return db

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        return db

    def close(self) -> None:
        self.db.close()

    # --- keeping it current -------------------------------------------------------------

    def update(self, roots: list[str]) -> IndexReport:
        """Bring the index to what the folders hold now (absolute paths, each a folder)."""
        report = IndexReport()
        known = {(root, rel): (fid, size, mtime) for fid, root, rel, size, mtime in
                 self.db.execute("SELECT id, root, rel, size, mtime_ns FROM files")}
        present: set[tuple[str, str]] = set()
        changed: list[tuple[str, str, str, os.stat_result]] = []
        for root in roots:
            for full, rel, st in self._walk(root, report):
                report.files += 1
                present.add((root, rel))
                old = known.get((root, rel))
                if old is not None and (old[1], old[2]) == (st.st_size, st.st_mtime_ns):
                    report.unchanged += 1
                else:
                    changed.append((root, rel, full, st))
        gone = [known[k][0] for k in known if k not in present]
        self.db.execute("BEGIN")
        try:
            for fid in gone:
                self._forget(fid)
            report.removed = len(gone)
            for root, rel, full, st in changed:
                old = known.get((root, rel))
                if old is not None:
                    self._forget(old[0])
                self._add(root, rel, full, st, report)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return report

    def _walk(self, root: str, report: IndexReport):
        if not os.path.isdir(root):
            report.problems.append(f"{root}: not a folder (or not readable)")
            return

        def failed(exc: OSError) -> None:
            report.problems.append(f"{exc.filename}: cannot be read ({exc.strerror})")

        for folder, dirs, names in os.walk(root, onerror=failed):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if not name.lower().endswith(".md") or name.startswith("."):
                    continue
                full = os.path.join(folder, name)
                try:
                    st = os.stat(full)
                except OSError as exc:
                    report.problems.append(f"{full}: cannot be read ({exc.strerror})")
                    continue
                yield full, os.path.relpath(full, root).replace(os.sep, "/"), st

    def _forget(self, fid: int) -> None:
        self.db.execute("INSERT INTO lines (lines, rowid, text, context) SELECT 'delete', id, text, context FROM rows WHERE file = ?",
                        (fid,))
        self.db.execute("DELETE FROM rows WHERE file = ?", (fid,))
        self.db.execute("DELETE FROM files WHERE id = ?", (fid,))

    def _add(self, root: str, rel: str, full: str, st: os.stat_result, report: IndexReport) -> None:
        # The file is recorded even when skipped, so an unchanged big file is not reported every run.
        fid = self.db.execute("INSERT INTO files (root, rel, size, mtime_ns) VALUES (?, ?, ?, ?)",
                              (root, rel, st.st_size, st.st_mtime_ns)).lastrowid
        report.indexed += 1
        if st.st_size > self.max_file_bytes:
            report.problems.append(f"{cite_name(root, rel)}: skipped, {st.st_size:,} bytes is over the limit "
                                   f"of {self.max_file_bytes:,} ([agents.research] max_note_bytes)")
            return
        try:
            with open(full, "rb") as fh:
                raw = fh.read(self.max_file_bytes + 1)
        except OSError as exc:
            report.problems.append(f"{cite_name(root, rel)}: cannot be read ({exc.strerror})")
            return
        if len(raw) > self.max_file_bytes:  # it grew since it was listed
            report.problems.append(f"{cite_name(root, rel)}: skipped, it is over the limit of {self.max_file_bytes:,} bytes "
                                   "([agents.research] max_note_bytes)")
            return
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="replace")
            report.problems.append(f"{cite_name(root, rel)}: not UTF-8 (byte {exc.start}); read with replacement characters")
        stem = os.path.splitext(os.path.basename(rel))[0].replace("-", " ").replace("_", " ")
        found = blocks_of(text, stem)
        if not found:
            return
        first = (self.db.execute("SELECT coalesce(max(id), 0) FROM rows").fetchone()[0]) + 1
        rows = [(first + i, fid, number, "\n".join(block), context) for i, (number, block, context) in enumerate(found)]
        self.db.executemany("INSERT INTO rows (id, file, line, text, context) VALUES (?, ?, ?, ?, ?)", rows)
        self.db.executemany("INSERT INTO lines (rowid, text, context) VALUES (?, ?, ?)", ((r[0], r[3], r[4]) for r in rows))

    # --- searching -----------------------------------------------------------------------

    def search(self, terms: list[str], *, roots: list[str], limit: int = 10) -> list[NoteHit]:
        """The best lines for any of the terms, best first, in these folders only."""
        expr = match_expression(terms)
        if expr is None or not roots or limit <= 0:
            return []
        marks = ", ".join("?" * len(roots))
        rows = self.db.execute(
            f"SELECT f.root, f.rel, r.line, r.text, r.context, bm25(lines, 1.0, {CONTEXT_WEIGHT}) AS rank "
            f"FROM lines JOIN rows r ON r.id = lines.rowid JOIN files f ON f.id = r.file "
            f"WHERE lines MATCH ? AND f.root IN ({marks}) ORDER BY rank LIMIT ?", (expr, *roots, limit)).fetchall()
        hits = []
        for root, rel, first, text, context, rank in rows:
            block = text.split("\n")
            for at in best_lines(block, terms, context):
                hits.append(NoteHit(cite=f"{cite_name(root, rel, roots)}:{first + at}", path=os.path.join(root, *rel.split("/")),
                                    line=first + at, text=block[at], context=context, score=-rank))
        return hits[:limit]

    def count(self) -> tuple[int, int]:
        """(files, lines) in the index."""
        files = self.db.execute("SELECT count(*) FROM files").fetchone()[0]
        lines = self.db.execute("SELECT count(*) FROM rows").fetchone()[0]
        return files, lines
