"""The runtime's worker process: work runs there, answers and errors come back, and a worker that dies,
a caller that gives up and a worker left idle all end in a process that is gone, never one left running."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from conftest import wait_for
from oxymus.kernel.cpu_pool import CpuPool, WorkerDied


def pid() -> int:
    return os.getpid()


def fails(line: int) -> None:
    raise ValueError(f"bad value on line {line}")


def dies() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def runs_until_killed(path: str) -> None:
    with open(path, "w") as fh:
        fh.write(str(os.getpid()))
    signal.pause()  # work that never ends by itself: only a kill stops it


def gone(p: int) -> bool:
    """The process has ended (a zombie waiting to be reaped has ended too)."""
    try:
        with open(f"/proc/{p}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


async def test_work_runs_in_one_kept_process_of_its_own_and_errors_come_back_as_raised():
    pool = CpuPool()
    try:
        first, second = await pool.run(pid), await pool.run(pid)
        assert first == second != os.getpid()
        assert pool.started == 1
        with pytest.raises(ValueError, match="bad value on line 3"):
            await pool.run(fails, 3)
        assert await pool.run(pid) == first, "an error in the work leaves the worker as it was"
    finally:
        pool.close()
    await asyncio.to_thread(wait_for, lambda: gone(first), 10, what="the worker to end at close()")


async def test_a_worker_that_dies_fails_its_call_clearly_and_the_next_call_gets_a_new_one():
    pool = CpuPool()
    try:
        before = await pool.run(pid)
        with pytest.raises(WorkerDied, match="died while running dies"):
            await pool.run(dies)
        after = await pool.run(pid)
        assert after != before and pool.started == 2
    finally:
        pool.close()


async def test_a_caller_that_gives_up_takes_the_work_down_with_it(tmp_path):
    pool = CpuPool()
    said = tmp_path / "pid"
    task = asyncio.create_task(pool.run(runs_until_killed, str(said)))
    await asyncio.to_thread(wait_for, lambda: said.exists() and said.read_text(), 30, what="the work to start")
    worker = int(said.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(wait_for, lambda: gone(worker), 10, what="the worker to be killed")
    assert await pool.run(pid) != worker, "the next call starts a fresh worker"
    pool.close()


async def test_an_idle_worker_is_stopped_and_started_again_when_work_comes():
    pool = CpuPool(idle_s=0.2)
    first = await pool.run(pid)
    await asyncio.to_thread(wait_for, lambda: gone(first), 10, what="the idle worker to stop")
    second = await pool.run(pid)
    assert second != first and pool.started == 2
    pool.close()


def test_a_worker_whose_daemon_is_killed_outright_exits_by_itself(tmp_path):
    """SIGKILL gives the daemon no shutdown: its worker must not wait for work forever beside nothing."""
    import subprocess
    import sys

    script = tmp_path / "daemon.py"
    script.write_text(
        "import asyncio, os, signal, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from oxymus.kernel.cpu_pool import CpuPool\n"
        "from test_cpu_pool import pid\n"
        "async def main():\n"
        "    print(await CpuPool().run(pid), flush=True)\n"
        "    signal.pause()\n"
        "if __name__ == '__main__':\n"
        "    asyncio.run(main())\n")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(proc.stdout.readline())
        assert not gone(worker)
        proc.kill()
        proc.wait(10)
        wait_for(lambda: gone(worker), 10, what="the orphaned worker to exit")
    finally:
        proc.kill()
        proc.stdout.close()
