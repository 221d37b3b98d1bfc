"""The steps of the three-phase example workflows: prepare, one location, summarize.

    location_steps.py prepare --location_set_id N --root_data_dir D
    location_steps.py location --location_id L --root_data_dir D
    location_steps.py summarize --root_data_dir D
Each step reads what the one before it wrote, so a wrong order fails loudly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=["prepare", "location", "summarize"])
    parser.add_argument("--location_set_id", type=int)
    parser.add_argument("--location_id", type=int)
    parser.add_argument("--root_data_dir", required=True)
    parser.add_argument("--log_level", default="INFO")
    args = parser.parse_args()
    root = Path(args.root_data_dir)
    if args.step == "prepare":
        root.mkdir(parents=True, exist_ok=True)
        for location in range(args.location_set_id):
            (root / f"input_{location}.json").write_text(json.dumps({"value": location * 10}))
    elif args.step == "location":
        value = json.loads((root / f"input_{args.location_id}.json").read_text())["value"]
        (root / f"result_{args.location_id}.json").write_text(json.dumps({"value": value + 1}))
    else:
        results = sorted(root.glob("result_*.json"))
        total = sum(json.loads(path.read_text())["value"] for path in results)
        (root / "summary.txt").write_text(f"{len(results)} locations, total {total}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
