"""What the local scenarios cannot beat on this machine: their parts without Jobmon around them.

Run by bench/scenarios.py in a fresh interpreter against the private server's embedded
PostgreSQL, beside the chain and levels scenarios: ``python bench/floor_workload.py
{hop,spawn} COUNT FOLDER``; prints one JSON line.

- ``hop``: one hop of a chain is three state changes that must survive a crash, each a
  different process's decision (the end of a task, its downstream task queued, that task
  claimed), each woken by the one before it, and a command started and seen to end. Here:
  three commits of a one-row UPDATE with a NOTIFY, each awaited by a LISTEN on another
  connection, then jobmon's own spawn of `true` (the wrapper and its files) and its exit.
- ``spawn``: the local plugin's spawn of `true` (jobmon.distributor.execution.spawn: the
  `/bin/sh` wrapper, its stdout, stderr and record files) COUNT times, two at a time as two
  slots run them, waiting for each exit: the most tasks a second these two cores start.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import types
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import embedded_dsn
from jobmon.distributor import execution


def _instance(number: int) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        task_id=number, task_instance_id=number, workflow_id=1, workflow_run_id=1, attempt=1,
        name=f"floor{number}", command=f"true {number}", compute_resources={},
        has_upstream=False, has_runs=False, context=None, launch_token="floor")


def _spawn_true(folder: str, number: int) -> int:
    paths = execution.InstancePaths.under(folder, 1, number)
    return execution.spawn(_instance(number), paths, "floor").pid


def spawn_floor(count: int, folder: str) -> dict[str, float]:
    start = time.perf_counter()
    running = {_spawn_true(folder, number) for number in range(min(2, count))}
    started = len(running)
    while running:
        pid, _ = os.wait()
        running.discard(pid)
        if started < count:
            running.add(_spawn_true(folder, started))
            started += 1
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "per_second": count / seconds}


async def hop_floor(count: int, folder: str) -> dict[str, float]:
    dsn = embedded_dsn(Path(os.environ["JOBMON__EMBEDDED__DATA_DIR"]))
    writer = await asyncpg.connect(dsn)
    listener = await asyncpg.connect(dsn)
    woken: asyncio.Queue[str] = asyncio.Queue()
    try:
        await writer.execute("CREATE TEMP TABLE floor_hop (id int PRIMARY KEY, n bigint);"
                             "INSERT INTO floor_hop VALUES (1, 0)")
        await listener.add_listener("floor_hop", lambda *args: woken.put_nowait(args[3]))
        start = time.perf_counter()
        for number in range(count):
            for _ in range(3):  # the end reported, the next task queued, then claimed
                async with writer.transaction():
                    await writer.execute("UPDATE floor_hop SET n = n + 1 WHERE id = 1")
                    await writer.execute("NOTIFY floor_hop, 'changed'")
                await woken.get()
            pid = _spawn_true(folder, number)
            await asyncio.to_thread(os.waitpid, pid, 0)
        seconds = time.perf_counter() - start
    finally:
        await listener.close()
        await writer.close()
    return {"seconds": seconds, "per_hop_ms": seconds / count * 1000}


def main() -> None:
    name, count, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if name == "spawn":
        figures = spawn_floor(count, folder)
    elif name == "hop":
        figures = asyncio.run(hop_floor(count, folder))
    else:
        raise SystemExit(f"unknown floor {name}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
