"""Where backups live and how they are named: the folder, the names, which is newest.

Apart from `backup.py` (which copies databases) because the storage errors name the
newest backup in their advice, and backup itself raises those errors.
"""

from __future__ import annotations

import datetime as dt
import os
import re

DIR_NAME = "backups"
# Daily backups are oxymus-<UTC time>Z.db; `oxymus backup` with no FILE adds -manual, and
# rotation leaves those alone (they are yours), but restore advice counts them.
_NAME = re.compile(r"^oxymus-(\d{8}T\d{6})Z(?:-\d+)?(-manual)?\.db$")


def dir_for(db_path: str) -> str:
    """The backups folder: under the data dir, next to the database."""
    return os.path.join(os.path.dirname(os.path.abspath(db_path)), DIR_NAME)


def default_path(folder: str, now: dt.datetime | None = None, *, manual: bool = False) -> str:
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%S")
    tag = "-manual" if manual else ""
    path = os.path.join(folder, f"oxymus-{stamp}Z{tag}.db")
    n = 2
    while os.path.exists(path):  # two backups in one second
        path = os.path.join(folder, f"oxymus-{stamp}Z-{n}{tag}.db")
        n += 1
    return path


def listing(folder: str, *, daily_only: bool = False) -> list[tuple[dt.datetime, str]]:
    """Backups in `folder` named by us, oldest first, with the time in their name."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        m = _NAME.match(name)
        if m and not (daily_only and m.group(2)):
            when = dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=dt.timezone.utc)
            found.append((when, os.path.join(folder, name)))
    return sorted(found)


def newest(folder: str) -> str | None:
    backups = listing(folder)
    return backups[-1][1] if backups else None
