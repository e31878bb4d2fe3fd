"""Reading a Maildir of 10,000 messages with oxymus.connectors.mail.maildir, against the stdlib in the same run.

    .venv/bin/python bench/maildir_scan.py                  # 10,000 messages, 5 rounds
    .venv/bin/python bench/maildir_scan.py --messages 2000 --rounds 3 --json

Builds a Maildir under /tmp with `mailbox.Maildir` (plain, multipart/alternative and
HTML-only messages, some Latin-1, a few without Message-ID, two thirds moved to cur/
with flags), then per round measures CPU time (this process and its children, so `notmuch` counts
the same way; wall time on a shared machine says more about the neighbours), with a warm page cache:

- `first`: `maildir.scan(path)` with no state: every message parsed (headers, text body);
- `rescan`: `maildir.scan(path, state)` with the state of the first: nothing new;
- `stdlib`: the reference, `mailbox.Maildir(path, create=False)` iterated, each message's
  Message-ID and Subject read (what a plain stdlib reader does at least);
- `notmuch new` on a fresh database of the same folder, and again with nothing new, when
  `notmuch` is installed (its rows are missing otherwise). It does more than either: it
  indexes every word in Xapian; its rescan is the figure to compare.

Ratios are each figure's median over the stdlib median. Target (issue 15): a rescan with
nothing new well under a tenth of the stdlib scan; a first scan within 2x of it.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from oxymus.connectors.mail import maildir  # noqa: E402

WORDS = ("workshop budget invoice meeting march proposal draft review offer schedule call team project "
         "launch website design copy edit deadline thanks regards").split()


def build(path: str, n: int) -> None:
    box = mailbox.Maildir(path, create=True)
    for i in range(n):
        msg = EmailMessage()
        msg["From"] = f"Person {i} <person{i}@example{i % 50}.com>"
        msg["To"] = "me@example.org"
        msg["Subject"] = f"{WORDS[i % len(WORDS)]} {i}"
        msg["Date"] = f"Mon, {1 + i % 28:02d} Jun 2026 {i % 24:02d}:{i % 60:02d}:00 +0200"
        if i % 97:
            msg["Message-ID"] = f"<bench-{i}@example{i % 50}.com>"
        text = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(80 + i % 200)) + "\n-- \nPerson\n"
        if i % 5 == 0:
            msg.set_content(text)
            msg.add_alternative(f"<html><body><p>{text}</p></body></html>", subtype="html")
        elif i % 11 == 0:
            msg.set_content(f"<html><body><div>{text}</div><style>p{{}}</style></body></html>", subtype="html")
        elif i % 7 == 0:
            msg.set_content(text + "caf\xe9 na\xefve", charset="latin-1")
        else:
            msg.set_content(text)
        mm = mailbox.MaildirMessage(msg)
        if i % 3:
            mm.set_subdir("cur")
            mm.set_flags("S" if i % 2 else "RS")
        box.add(mm)


def stdlib_scan(path: str) -> int:
    seen = 0
    for msg in mailbox.Maildir(path, factory=None, create=False):
        _ = msg["Message-ID"], msg["Subject"]
        seen += 1
    return seen


def timed(fn) -> tuple[float, object]:
    """CPU seconds of this process and its children: a shared, busy machine moves wall time far more than CPU time."""
    def cpu() -> float:
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + child.ru_utime + child.ru_stime

    start = cpu()
    out = fn()
    return cpu() - start, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="oxb-maildir-", dir="/tmp")
    try:
        box = os.path.join(tmp, "INBOX")
        build(box, args.messages)
        stdlib_scan(box)  # warm the page cache before any timing
        rows: dict[str, list[float]] = {"stdlib": [], "first": [], "rescan": []}
        notmuch = shutil.which("notmuch")
        if notmuch:
            rows["notmuch_new"], rows["notmuch_rescan"] = [], []
        for r in range(args.rounds):
            t, n = timed(lambda: stdlib_scan(box))
            rows["stdlib"].append(t)
            assert n == args.messages, n
            t, first = timed(lambda: maildir.scan(box))
            rows["first"].append(t)
            assert len(first.messages) == args.messages and not first.skipped, (len(first.messages), first.skipped[:3])
            t, again = timed(lambda: maildir.scan(box, first.state))
            rows["rescan"].append(t)
            assert not again.messages
            if notmuch:
                db = os.path.join(tmp, f"notmuch-{r}")
                os.makedirs(db)
                cfg = os.path.join(db, "config")
                with open(cfg, "w") as fh:
                    fh.write(f"[database]\npath={box}\nmail_root={box}\n[new]\ntags=\n[maildir]\nsynchronize_flags=false\n")
                env = {**os.environ, "NOTMUCH_CONFIG": cfg}  # its database goes to .notmuch in the Maildir, removed below
                for name in ("notmuch_new", "notmuch_rescan"):
                    t, _ = timed(lambda: subprocess.run([notmuch, "new", "--quiet"], env=env, check=True, capture_output=True))
                    rows[name].append(t)
                shutil.rmtree(os.path.join(box, ".notmuch"), ignore_errors=True)
        base = statistics.median(rows["stdlib"])
        report = {"messages": args.messages, "rounds": args.rounds, "python": sys.version.split()[0],
                  "notmuch": notmuch is not None, "rows": {}}
        lines = [f"Maildir of {args.messages:,} messages, {args.rounds} rounds, warm cache, CPU time; ratio = median / stdlib median",
                 f"{'CPU time of':<16}{'median ms':>12}{'min ms':>10}{'max ms':>10}{'ratio':>9}"]
        for name, values in rows.items():
            med = statistics.median(values)
            report["rows"][name] = {"median_s": med, "min_s": min(values), "max_s": max(values), "ratio": med / base}
            lines.append(f"{name:<16}{med * 1000:>12.1f}{min(values) * 1000:>10.1f}{max(values) * 1000:>10.1f}{med / base:>9.3f}")
        if not notmuch:
            lines.append("notmuch: not installed, not measured")
        print("\n".join(lines), file=sys.stderr if args.json else sys.stdout)
        if args.json:
            print(json.dumps(report, indent=2))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
