"""A reader that stops early (`oxymus inbox | head -1`) ends the command quietly, never with a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import seed_captures

# Far more than a pipe buffer (64 KiB) plus what `head` reads ahead, so the writer must hit the closed pipe.
CAPTURES = 4000


@pytest.mark.parametrize("args", [["inbox", "--limit", str(CAPTURES)], ["inbox", "--json", "--limit", str(CAPTURES)]])
def test_a_reader_that_goes_away_leaves_no_traceback(profile, args):
    seed_captures(profile, CAPTURES, text="a capture long enough that four thousand of them overflow the pipe {i}")
    writer = subprocess.Popen([sys.executable, "-m", "oxymus", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader = subprocess.run(["head", "-1"], stdin=writer.stdout, capture_output=True, timeout=60)
    writer.stdout.close()  # only head holds the read end now: when it exits the pipe is broken
    stderr = writer.stderr.read().decode()
    code = writer.wait(60)

    assert reader.stdout.strip(), "head read the first line"
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert code == 141, stderr
