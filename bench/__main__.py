"""python -m bench [--quick] [--only NAME ...] [--peer] [--curve [SIZES]] [--json PATH]:
run, print a table, write JSON (and, with --curve, a PNG plot beside it)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import curve, peer
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
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        epilog="With --peer or --curve, the other scenarios run only when named by --only.")
    parser.add_argument("--quick", action="store_true", help="small sizes (keeps CI honest)")
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    parser.add_argument("--peer", action="store_true",
                        help="IHME Jobmon from PyPI (installed once into a cache folder) on "
                             "the chain, flat and levels workloads beside ours: the ratios")
    parser.add_argument("--curve", nargs="?", const="10k,100k,1M", default=None,
                        metavar="SIZES",
                        help="bind and run at these sizes on the no-op plugin (default "
                             "10k,100k,1M) and plot seconds per task against size")
    parser.add_argument("--json", type=Path, default=Path("bench/results/latest.json"))
    args = parser.parse_args()
    try:
        sizes = curve.parse_sizes(args.curve) if args.curve is not None else ()
    except ValueError as error:
        parser.error(str(error))
    if args.quick and args.curve == "10k,100k,1M":
        sizes = curve.QUICK_SIZES
    names = args.only if args.only is not None else (
        [] if args.peer or args.curve is not None else list(SCENARIOS))
    results: list[Result] = [machine_speed("before")]
    leftovers: list[Path] = []
    points: list[dict[str, float]] = []
    try:
        for name in names:
            # a fresh server and database each: no scenario measures what an earlier one left
            # (a 100,000-task bind grows the server's heap, and its collector's passes)
            with private_server(SERVER_ENV.get(name), leftovers=leftovers) as env:
                results.extend(SCENARIOS[name](env, args.quick))
        if args.peer:
            with private_server(leftovers=leftovers) as env:
                results.extend(peer.run_peer(env, args.quick))
        for size in sizes:
            with private_server(leftovers=leftovers) as env:
                points.append(curve.measure(env, size))
        results.extend(curve.curve_results(points, args.quick))
    finally:
        remove_leftovers(leftovers)
    results.append(machine_speed("after"))
    print_table(results)
    write_json(results, args.json, args.quick, {"curve": points} if points else None)
    print(f"\nwritten to {args.json}")
    if points:
        print(curve.plot(points, args.json.with_name(args.json.stem + "-curve.png")))
    return 0 if all(result.passed is not False for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
