"""A full disk, for real: the profile on a 2 MiB tmpfs, filled to the last block.

The daemon must answer with the file and what to do, stay up, and take captures again
once space is back, without a restart; the CLI's offline path must say the same. No
acknowledged capture may go missing. Needs permission to mount (CI runs as root).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import DaemonProcess, run_cli

from oxymus.client import wire


@pytest.fixture
def small_disk(home):
    """`home`, the test profile, becomes a 2 MiB tmpfs."""
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(home)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); these tests need root")
    yield home
    if subprocess.run(["umount", str(home)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(home)], capture_output=True)


def fill(folder) -> str:
    """Write a file until the disk refuses; returns its path (delete it to free the space)."""
    path = os.path.join(folder, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == 28, exc
    try:
        while True:  # the last few blocks, smaller than the chunk above
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)
    st = os.statvfs(folder)
    assert st.f_bavail * st.f_frsize < 4096, "the disk still has room"
    return path


def cli(*args: str):
    out = run_cli(*args)
    out.stdout, out.stderr = out.stdout.decode(), out.stderr.decode()
    return out


def inbox_texts() -> list[str]:
    out = cli("inbox", "--json")
    assert out.returncode == 0, out.stderr
    return [c["text"] for c in json.loads(out.stdout)]


def test_daemon_says_the_disk_is_full_keeps_running_and_recovers(small_disk, profile):
    daemon = DaemonProcess(profile).start()
    try:
        before = cli("capture", "before the disk filled up")
        assert before.returncode == 0, before.stderr
        filler = fill(small_disk)

        out = cli("capture", "while the disk is full")
        assert out.returncode == 1
        assert f"the disk holding {profile.db_file} is full" in out.stderr
        assert "nothing was captured" in out.stderr and "Traceback" not in out.stderr

        with daemon.client() as conn:  # the reply itself, as any client sees it
            with pytest.raises(wire.RpcError) as err:
                conn.call("capture.add", {"text": "over the socket, still full"})
        assert err.value.code == wire.STORAGE_ERROR
        assert err.value.message == (
            f"the disk holding {profile.db_file} is full; free some space — Oxymus keeps running and retries"
        )
        assert err.value.data == {"kind": "disk_full", "path": profile.db_file}
        assert daemon.proc.poll() is None
        status = cli("status")
        assert f"storage:  the disk holding {profile.db_file} is full" in status.stdout

        os.unlink(filler)
        after = cli("capture", "after space came back")
        assert after.returncode == 0, after.stderr
        assert daemon.proc.poll() is None, "the daemon recovered without a restart"
        assert inbox_texts() == ["after space came back", "before the disk filled up"]
        assert "storage:" not in cli("status").stdout
    finally:
        daemon.stop()


def test_offline_capture_says_the_disk_is_full(small_disk, profile):
    assert cli("capture", "the first one").returncode == 0  # creates the store; no daemon runs
    filler = fill(small_disk)

    out = cli("capture", "no room for this one")
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"oxymus capture: nothing was captured: the disk holding {profile.db_file} is full; free some space and capture again"
    )

    os.unlink(filler)
    assert cli("capture", "room again").returncode == 0
    assert inbox_texts() == ["room again", "the first one"]
