"""The steps of the quickstart workflow: each call reads its inputs and writes one JSON file."""

from __future__ import annotations

import argparse
import json
import math
import os
import random
from pathlib import Path


def prepare(out: Path, location: int) -> None:
    rng = random.Random(location)
    population = [rng.randint(1_000, 100_000) for _ in range(5)]
    (out / f"prepared_{location}.json").write_text(json.dumps({"population": population}))


def model(out: Path, location: int, year: int) -> None:
    prepared = json.loads((out / f"prepared_{location}.json").read_text())
    growth = 1 + 0.01 * (year - 2020)
    estimate = sum(math.log(p) for p in prepared["population"]) * growth
    result = {"location": location, "year": year, "estimate": round(estimate, 3)}
    (out / f"model_{location}_{year}.json").write_text(json.dumps(result))
    # JOBMON_OUTPUT: a small JSON result the workflow can collect later
    Path(os.environ["JOBMON_OUTPUT"]).write_text(json.dumps(result))


def aggregate(out: Path, year: int, locations: int) -> None:
    estimates = [
        json.loads((out / f"model_{location}_{year}.json").read_text())["estimate"]
        for location in range(1, locations + 1)
    ]
    (out / f"aggregate_{year}.json").write_text(json.dumps({"year": year, "total": sum(estimates)}))


def report(out: Path, years: list[int]) -> None:
    totals = {year: json.loads((out / f"aggregate_{year}.json").read_text())["total"]
              for year in years}
    lines = [f"{year}: {total:.1f}" for year, total in sorted(totals.items())]
    (out / "report.txt").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["prepare", "model", "aggregate", "report"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--location", type=int)
    parser.add_argument("--year", type=int)
    parser.add_argument("--locations", type=int)
    parser.add_argument("--years", type=str)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.step == "prepare":
        prepare(args.out, args.location)
    elif args.step == "model":
        model(args.out, args.location, args.year)
    elif args.step == "aggregate":
        aggregate(args.out, args.year, args.locations)
    else:
        report(args.out, [int(y) for y in args.years.split(",")])


if __name__ == "__main__":
    main()
