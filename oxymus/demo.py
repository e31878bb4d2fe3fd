"""`oxymus demo`: a believable sample life in its own profile, its daemon, and the TUI.

The demo never touches the user's real profile: it lives in its own folder
(default: `demo` inside Oxymus' data dir) and runs with OXYMUS_HOME pointing there.
Seeding is idempotent: running it again adds only what is missing.
"""

from __future__ import annotations

import os
import sys
import textwrap

from oxymus.profile import paths as paths_mod

# (minutes ago, source, text): a solo developer-writer's last few days of loose thoughts.
SAMPLE_CAPTURES: list[tuple[int, str, str]] = [
    (3 * 24 * 60 + 40, "cli", "Look into why the blog build takes 40s now; was 8s in spring"),
    (2 * 24 * 60 + 300, "tui", "Ana suggested a call about the workshop in January"),
    (2 * 24 * 60 + 15, "cli", "Idea for a post: 'plans that attach to something real'"),
    (26 * 60, "stdin", "Renew the domain oxymus.dev before Dec 10\n(auto-renew is off since the card changed)"),
    (20 * 60, "cli", "Dentist: reschedule the appointment on the 28th"),
    (5 * 60, "tui", "Read the SQLite WAL docs again before touching the store"),
    (95, "cli", "Invoice March for the consulting gig is still unpaid?"),
    (12, "cli", "call Ana tomorrow 2pm about the workshop outline"),
]


# (kind, tier, title, body, tags): what this person's memory holds after a few weeks.
SAMPLE_MEMORY: list[tuple[str, str, str, str, list[str]]] = [
    ("preference", "hot", "Deep work in the mornings", "No meetings before noon on weekdays; Fridays are for deep work all day.", ["focus"]),
    ("person", "hot", "Ana Lopez", "Co-runs the January workshop. Prefers calls after 2pm; lives in Lisbon.", ["workshop"]),
    ("commitment", "hot", "Workshop material by mid-January", "Promised Ana the outline by Dec 12 and exercises by Jan 10.", ["workshop"]),
    ("decision", "warm", "Blog stays on Hugo", "Considered moving the blog; decided to keep Hugo and fix the slow build instead.", ["blog"]),
    ("fact", "warm", "Domain oxymus.dev renews in December", "Registrar account uses the old card; auto-renew is off.", ["money"]),
    ("project", "warm", "Oxymus", "The personal OS itself: daemon, TUI, connectors. Write about it every other week.", ["blog"]),
]


def seed_memory(paths: paths_mod.Paths) -> int:
    """Add the sample memory records that are missing (through the running daemon)."""
    from oxymus.client.sync_client import connect

    with connect(paths.socket, "oxymus-demo") as conn:
        have = {r["title"] for r in conn.call("memory.export")["records"]}
        added = 0
        for kind, tier, title, body, tags in SAMPLE_MEMORY:
            if title in have:
                continue
            conn.call("memory.add", {
                "record": {"kind": kind, "tier": tier, "title": title, "body": body, "tags": tags},
                "provenance": {"source": "user", "note": "demo"},
            })
            added += 1
    return added


# Intake first: the three lead emails become lead records before the others look at the day.
DEMO_AGENTS = ("intake", "research", "editor", "triage", "planner", "finance", "sentinel", "steward", "reflection", "publisher")


def run_agents(paths: paths_mod.Paths) -> list[str]:
    """Run every agent once, so a new user sees a day plan, triage suggestions and a publish approval."""
    from oxymus.client import wire
    from oxymus.client.sync_client import connect

    lines = []
    with connect(paths.socket, "oxymus-demo", timeout=300) as conn:
        for name in DEMO_AGENTS:
            try:
                run = conn.call("agents.run", {"name": name})
            except wire.RpcError as exc:
                lines.append(f"  {name}: {exc.message}")
                continue
            lines.append(f"  {name}: {run['outcome']}: {textwrap.shorten(run['error'] or run['summary'], 220, placeholder=' …')}")
    return lines


def wrapped(lines: list[str]) -> str:
    """Lines wrapped at words to the terminal, continuations indented: a terminal cuts mid-word."""
    import shutil

    width = max(40, shutil.get_terminal_size().columns)
    return "\n".join(textwrap.fill(line, width, subsequent_indent="      ", break_on_hyphens=False) for line in lines)


def default_home() -> str:
    import platformdirs

    return os.path.join(platformdirs.user_data_dir(paths_mod.APP), "demo")


def seed(paths: paths_mod.Paths) -> int:
    """Add the sample captures that are not there yet; returns how many were added."""
    from oxymus.kernel.ulid import new_ulid
    from oxymus.store import capture_sql, db
    from oxymus.time.clock import now_ms

    paths.ensure()
    conn = db.connect(paths.db_file)
    try:
        existing = {row[0] for row in conn.execute("SELECT text FROM captures WHERE status = 'open'")}
        added = 0
        now = now_ms()
        for minutes_ago, source, text in SAMPLE_CAPTURES:
            if text in existing:
                continue
            capture_sql.add_sync(conn, text, source, new_ulid(ms=now - minutes_ago * 60_000))
            added += 1
    finally:
        conn.close()
    return added


DEMO_CONFIG = """\
# The demo profile's config: its sources are files made by `oxymus demo`.
[time]
# zone: the machine's

[git]
roots = [{code}]
interval = 30

[[calendar.ics]]
path = {ics}
name = "personal"
interval = 60

[bills]
file = "bills.toml"
window_days = 14

[plans]
file = {plans}

[agents.publisher]
repo = {blog}
posts_dir = "content/posts"
author = "Demo Person"
url = "https://demo-studio.example/posts/{{slug}}/"

{company}"""

DEMO_PLANS = """\
---
title: Plans
updated: by hand, whenever
---
# Plans

## Goals
- Ship the workshop material by mid-January
- Publish one post every other week
- Keep Fridays for deep work

## Next actions
- [ ] Outline the workshop with Ana
  - [ ] Pick three exercises
  - [x] Book the room (done 2026-11-18)
- [ ] Fix the slow blog build (40 s, was 8 s)
- [ ] Renew oxymus.dev

## Projects

### Blog
- [ ] Add an RSS feed for tags
- [ ] Write the about page again

### Workshop
Goal: twelve people leave able to run their own morning review.

## Publishing order
1. [published 2026-11-01] Plans that attach to something real — plans-that-attach
2. [draft] The eight layers of a personal OS — eight-layers
   - A personal OS keeps one person's life coherent: fresh state, memory, plans, actions.
   - The layers: capture, state, memory, plans, tools, approvals, agents, cockpit.
     - Each layer has one job and talks to the next through a narrow contract.
   - Why approvals matter: nothing with stakes happens without a yes.
   - Close with the morning review as the place where the layers meet.
3. [proposed] Why capture must stay dumb — dumb-capture
4. Sovereignty is a keyboard shortcut (proposed)

```sh
# how I publish, by hand, for now
hugo --minify && git push
```
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Demo Person", "GIT_AUTHOR_EMAIL": "demo@example.org",
    "GIT_COMMITTER_NAME": "Demo Person", "GIT_COMMITTER_EMAIL": "demo@example.org",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
}


def _git(cwd: str, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV},
    )


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def seed_repos(files: str) -> None:
    """Three repositories in the states a real week leaves them in (made once, kept after)."""
    code, remotes = os.path.join(files, "code"), os.path.join(files, "remotes")
    blog = os.path.join(code, "blog")
    if not os.path.isdir(os.path.join(blog, ".git")):
        os.makedirs(remotes, exist_ok=True)
        _git(remotes, "init", "--bare", "-q", "blog.git")
        _write(os.path.join(blog, "content", "posts", "hello.md"), "---\ntitle: Hello\n---\nFirst post.\n")
        _git(code, "init", "-q", "blog")
        _git(blog, "add", "-A")
        _git(blog, "commit", "-q", "-m", "First post")
        _git(blog, "remote", "add", "origin", os.path.join(remotes, "blog.git"))
        _git(blog, "push", "-q", "-u", "origin", "main")
        for title in ("Draft: plans that attach to something real", "Fix typos in the about page"):
            _write(os.path.join(blog, "content", "posts", title.split(":")[0].lower().replace(" ", "-") + ".md"), f"# {title}\n")
            _git(blog, "add", "-A")
            _git(blog, "commit", "-q", "-m", title)
        _write(os.path.join(blog, "config.toml"), "baseURL = 'https://example.org/'\ntitle = 'Notes'\n")
    site = os.path.join(code, "website")
    if not os.path.isdir(os.path.join(site, ".git")):
        _write(os.path.join(site, "index.html"), "<h1>Hi</h1>\n")
        _git(code, "init", "-q", "website")
        _git(site, "add", "-A")
        _git(site, "commit", "-q", "-m", "Landing page")
        _git(site, "checkout", "-q", "-b", "redesign")
        _write(os.path.join(site, "style.css"), "body { font-family: serif; }\n")
        _git(site, "add", "style.css")
        _write(os.path.join(site, "notes.txt"), "ideas for the new layout\n")
        _write(os.path.join(site, "index.html"), "<h1>Hello</h1>\n")
        _git(site, "stash", "push", "-q", "-m", "half-done header")
        _write(os.path.join(site, "index.html"), "<h1>Hello again</h1>\n")
    dots = os.path.join(code, "dotfiles")
    if not os.path.isdir(os.path.join(dots, ".git")):
        _write(os.path.join(dots, ".vimrc"), "set number\n")
        _git(code, "init", "-q", "dotfiles")
        _git(dots, "add", "-A")
        _git(dots, "commit", "-q", "-m", "vimrc")


def calendar_ics(today) -> str:
    """A personal calendar around `today`: a weekly standup, a focus block, a call, a conference, a to-do."""
    import datetime as dt

    def d(days: int) -> str:
        return (today + dt.timedelta(days=days)).strftime("%Y%m%d")

    started = today - dt.timedelta(weeks=6)
    stamp = "20260101T000000Z"
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Oxymus//demo//EN",
        "BEGIN:VEVENT", "UID:standup@demo", f"DTSTAMP:{stamp}", "SUMMARY:Standup with the client team",
        f"DTSTART:{started:%Y%m%d}T093000", f"DTEND:{started:%Y%m%d}T094500", "RRULE:FREQ=WEEKLY",
        "LOCATION:video call", "END:VEVENT",
        "BEGIN:VEVENT", "UID:focus@demo", f"DTSTAMP:{stamp}", "SUMMARY:Deep work: chapter 3",
        f"DTSTART:{d(0)}T100000", f"DTEND:{d(0)}T120000", "END:VEVENT",
        "BEGIN:VEVENT", "UID:ana@demo", f"DTSTAMP:{stamp}", "SUMMARY:Call with Ana about the workshop",
        f"DTSTART:{d(0)}T140000", f"DTEND:{d(0)}T143000", "END:VEVENT",
        "BEGIN:VEVENT", "UID:conf@demo", f"DTSTAMP:{stamp}", "SUMMARY:PyCon DE (remote talks)",
        f"DTSTART;VALUE=DATE:{d(-1)}", f"DTEND;VALUE=DATE:{d(2)}", "END:VEVENT",
        "BEGIN:VTODO", "UID:abstract@demo", f"DTSTAMP:{stamp}", "SUMMARY:Submit the talk abstract",
        f"DUE:{d(2)}T180000", "STATUS:NEEDS-ACTION", "END:VTODO",
        "END:VCALENDAR", "",
    ])


def bills_toml(today) -> str:
    import datetime as dt

    soon = today + dt.timedelta(days=4)
    return (
        "# Bills for the demo: one due soon, one overdue, one on autopay.\n"
        f'[[bill]]\nname = "Rent"\namount = 950.00\ncurrency = "EUR"\nschedule = "monthly"\nday = {soon.day}\n'
        f'start = {soon.isoformat()}\nurl = "https://bank.example.org"\n\n'
        f'[[bill]]\nname = "Domain renewal oxymus.dev"\namount = 12.00\ncurrency = "EUR"\nschedule = "once"\n'
        f'date = "{(today - dt.timedelta(days=3)).isoformat()}"\nnotes = "auto-renew is off since the card changed"\n\n'
        '[[bill]]\nname = "Phone"\namount = 25.00\ncurrency = "EUR"\nschedule = "monthly"\nday = 15\nautopay = true\n'
    )


def demo_files(paths: paths_mod.Paths) -> str:
    """Where the demo's own files live: repos, calendar, notes, mail, drafts."""
    return os.path.join(paths.home or paths.data_dir, "files")


def seed_company(paths: paths_mod.Paths):
    """The content consultancy (oxymus/demo_company): mail, notes, a draft, records and five months of history.
    Before the daemon starts: it writes to the store directly."""
    import datetime as dt

    from oxymus import demo_company
    from oxymus.profile.config import system_zone

    places = demo_company.Places.under(demo_files(paths))
    return demo_company.seed(paths.db_file, places, now=dt.datetime.now(dt.timezone.utc), zone=system_zone())


def company_lines(paths: paths_mod.Paths, seeded, timeout: float = 45.0) -> list[str]:
    """What the consultancy shows once its walk-through has run, and where to look: intake's leads
    filed, research's brief for the post idea, the editor's fixes to the draft (the demo's policy
    lets those three happen by themselves; the executor runs them a moment after each run), and
    the publisher's flow for the edited post, which the agent graph starts and which waits for you."""
    import time

    from oxymus import demo_company
    from oxymus.client.sync_client import connect
    from oxymus.demo_company import draft, notes, records

    def mine(actions: list[dict], agent: str, kind: str | None = None) -> list[dict]:
        return [a for a in actions if a["proposer"]["name"] == agent and (kind is None or a["kind"] == kind)]

    def post(posts: list[dict], title: str) -> dict | None:
        return next((r for r in posts if r["title"] == title), None)

    deadline = time.monotonic() + timeout
    with connect(paths.socket, "oxymus-demo") as conn:
        while True:
            leads = [r for r in conn.call("records.list", {"kind": "lead"})["records"]
                     if r["provenance"].get("source") == "connector"]
            posts = conn.call("records.list", {"kind": "post"})["records"]
            moving = conn.call("actions.list", {"status": ["approved", "executing"]})["actions"]
            waiting = conn.call("actions.list", {"status": ["awaiting_approval", "snoozed"]})["actions"]
            idea, drafted = post(posts, records.IDEA), post(posts, draft.TITLE)
            # Done when nothing more will land by itself: nothing of the walk-through approved and not yet
            # run, and the edited draft's publish flow proposed (the agent graph starts the publisher).
            publish = [a for a in mine(waiting, "publisher") if drafted and drafted["id"] in a["idempotency_key"]]
            settled = not [a for a in moving if a["proposer"]["name"] in ("intake", "research", "editor", "publisher")]
            draft_done = (drafted is None or publish or drafted["status"] not in ("draft", "edited")
                          or (drafted["status"] == "draft" and mine(waiting, "editor")))
            idea_done = idea is None or idea["status"] != "idea" or mine(waiting, "research")
            if (settled and draft_done and idea_done) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    replies = len(mine(waiting, "intake", "email.send"))
    held = len(mine(waiting, "intake", "record.create"))
    files = demo_files(paths)
    where = lambda p: os.path.relpath(p, files)  # noqa: E731
    places = demo_company.Places.under(files)
    names = ", ".join(sorted(r["fields"].get("name") or r["title"] for r in leads)) or "none yet"
    lines = [
        f"the consultancy, its files in {files}:",
        f"  intake filed {len(leads)} lead(s) from the mail in {where(places.maildir)} ({names}); "
        f"{replies} reply draft(s) wait for your yes."
        + (f" {held} lead(s) wait for your yes before they are filed (policy.toml says which intake may file alone)."
           if held else ""),
        f"  No mail leaves the demo: its SMTP host {demo_company.SMTP_HOST} does not exist, so an approved reply "
        "is retried, then fails and says why.",
    ]
    if idea is not None:
        lines.append(f"  research: the post idea “{idea['title']}” is at {idea['status']}"
                     + (f"; its brief cites the notes in {where(places.notes)}/ line by line: oxymus records show {idea['id'][:12]}"
                        if idea["status"] != "idea" else " (its brief waits for your yes in Approvals)" if mine(waiting, "research")
                        else ""))
    if drafted is not None:
        fixed = "the editor fixed the draft (a style term, a repeated title; oxymus undo gives the bytes back)"
        lines.append(f"  editor: “{drafted['title']}” ({where(seeded.draft)}) is at {drafted['status']}"
                     + (f": {fixed}" if drafted["status"] == "edited" else
                        "; its fixes wait for your yes in Approvals" if mine(waiting, "editor") else ""))
    if publish:
        steps = publish[0]["payload"].get("steps") or []
        kinds = " -> ".join(step.get("kind", "?") for step in steps) if steps else publish[0]["kind"]
        lines.append(f"  publisher: one flow waits for your yes to publish it ({kinds}): 5 Approvals, or "
                     f"oxymus approve {publish[0]['id'][:12]}")
    lines += [
        f"  Records: the client {records.CLIENT} and its project, the workshop as a product, the two posts; "
        f"{where(places.notes)}/ holds {len(notes.NOTES)} notes.",
        "  Five months of past work, marked \"demo history\", give `oxymus metrics` its trends.",
        "in the TUI: 7 Records, 5 Approvals, 8 Metrics.",
    ]
    return lines


def seed_sources(paths: paths_mod.Paths) -> None:
    """Real sources for the demo: repos, a calendar file and bills, written relative to today."""
    import datetime as dt

    from oxymus import demo_company
    from oxymus.kernel import tomlfmt
    from oxymus.profile.config import system_zone

    files = demo_files(paths)
    today = dt.datetime.now(system_zone()).date()
    seed_repos(files)
    _write(os.path.join(files, "cal", "personal.ics"), calendar_ics(today))
    _write(os.path.join(paths.config_dir, "bills.toml"), bills_toml(today))
    paths_in = {"code": "code", "ics": "cal/personal.ics", "plans": "notes/PLANS.md", "blog": "code/blog"}
    company = demo_company.config_toml(demo_company.Places.under(files))
    _write(paths.config_file, DEMO_CONFIG.format(company=company, **{k: tomlfmt.value(f"{files}/{rel}") for k, rel in paths_in.items()}))
    if not os.path.exists(paths.policy_file):
        from oxymus.actions.policy import EXAMPLE

        _write(paths.policy_file, EXAMPLE + demo_company.POLICY_RULE)
    plans_file = os.path.join(files, "notes", "PLANS.md")
    if not os.path.exists(plans_file):  # the demo's plans are the user's once written: never overwritten
        _write(plans_file, DEMO_PLANS)


def run(home: str | None = None, open_tui: bool = True) -> int:
    from oxymus.client import launcher

    home = os.path.abspath(os.path.expanduser(home or default_home()))
    os.environ[paths_mod.ENV_HOME] = home
    paths = paths_mod.resolve()
    added = seed(paths)
    seed_sources(paths)
    company = seed_company(paths)
    print(f"demo profile: {home} ({added} sample captures added)")
    print(wrapped([f"the consultancy: {company.mails} lead email(s), {company.notes} note(s), {company.records} record(s) and "
                   f"{company.history} past record(s) over five months added"]))
    try:
        status = launcher.start(paths)
    except launcher.StartFailed as exc:
        print(f"oxymus demo: {exc}", file=sys.stderr)
        return 1
    print(wrapped([f"daemon running, pid {status['pid']} ({seed_memory(paths)} memory records added); "
                   "the agents ran once:"]))
    print(wrapped(run_agents(paths)))
    print(wrapped(company_lines(paths, company)))
    if not open_tui:
        print(f"try: OXYMUS_HOME={home} oxymus inbox (or: records list, approvals, metrics)")
        return 0
    from oxymus.tui.app import run as run_tui

    try:
        return run_tui(paths)
    finally:
        launcher.stop(paths)
        print(f"demo daemon stopped; the profile stays in {home}")
