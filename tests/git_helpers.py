"""Real git for tests: a fixture that keeps the machine's and the person's git config out,
and a runner that fails with git's own message."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}


@pytest.fixture
def isolated_git(monkeypatch):
    """Neither the helpers nor the code under test read the machine's gitconfig."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in IDENTITY.items():
        monkeypatch.setenv(name, value)
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "EMAIL"):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "-C", str(repo), "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false", *args],
                          capture_output=True, env=os.environ.copy(), timeout=30)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {args!r} in {repo} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode(errors="replace").strip()
