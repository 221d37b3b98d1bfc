"""python -m bench [--quick] [--only NAME ...] [--json PATH]: run, print a table, write JSON."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.harness import (
    Result,
    machine_speed,
    print_table,
    private_server,
    remove_leftovers,
    write_json,
)
from bench.scenarios import SCENARIOS, SERVER_ENV


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes (keeps CI honest)")
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    parser.add_argument("--json", type=Path, default=Path("bench/results/latest.json"))
    args = parser.parse_args()
    results: list[Result] = [machine_speed("before")]
    leftovers: list[Path] = []
    try:
        for name in args.only or list(SCENARIOS):
            # a fresh server and database each: no scenario measures what an earlier one left
            # (a 100,000-task bind grows the server's heap, and its collector's passes)
            with private_server(SERVER_ENV.get(name), leftovers=leftovers) as env:
                results.extend(SCENARIOS[name](env, args.quick))
    finally:
        remove_leftovers(leftovers)
    results.append(machine_speed("after"))
    print_table(results)
    write_json(results, args.json, args.quick)
    print(f"\nwritten to {args.json}")
    return 0 if all(result.passed is not False for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
