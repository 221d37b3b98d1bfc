"""What the history costs: its rows and bytes after a run, and the time to write them again.

Run in a fresh interpreter against the private server's embedded PostgreSQL (found through
its data directory's postmaster.pid); prints one JSON line of figures.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import embedded_dsn

# The history tables, and the table of each object whose changes they record.
HISTORY = {
    "task_status": "task",
    "task_instance_status": "task_instance",
    "workflow_status": "workflow",
    "workflow_run_status": "workflow_run",
}


async def measure(dsn: str) -> dict[str, float]:
    connection = await asyncpg.connect(dsn)
    try:
        figures: dict[str, float] = {}
        await connection.execute("VACUUM ANALYZE")
        figures["tasks"] = await connection.fetchval("SELECT count(*) FROM task")
        figures["database_bytes"] = await connection.fetchval(
            "SELECT pg_database_size(current_database())")
        for table in HISTORY:
            figures[f"{table}_rows"] = await connection.fetchval(
                f"SELECT count(*) FROM {table}")  # our own table names, not input
            figures[f"{table}_bytes"] = await connection.fetchval(
                "SELECT pg_total_relation_size($1::regclass)", table)
        # the task history is the new hot table: write all of it again, with its index, in
        # one INSERT ... SELECT (the run wrote it set-wise too, a batch per statement)
        await connection.execute(
            "CREATE TABLE bench_task_status (LIKE task_status INCLUDING ALL)")
        started = time.perf_counter()
        await connection.execute("INSERT INTO bench_task_status SELECT * FROM task_status")
        figures["task_status_rewrite_seconds"] = time.perf_counter() - started
        await connection.execute("DROP TABLE bench_task_status")
        return figures
    finally:
        await connection.close()


def main() -> None:
    print(json.dumps(asyncio.run(measure(embedded_dsn(Path(sys.argv[1]))))))


if __name__ == "__main__":
    main()
