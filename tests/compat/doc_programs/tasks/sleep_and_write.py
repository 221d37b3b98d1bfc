"""A task for the retry examples: sleep, fail the first N attempts, then write a file.

Attempts are counted in a file beside the output, so each attempt of the same task knows
how many came before it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sleep_secs", type=float, default=0)
    parser.add_argument("--output_file_path", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--fail-count", type=int, default=0)
    args = parser.parse_args()
    time.sleep(args.sleep_secs)
    output = Path(args.output_file_path)
    counter = output.with_name(f"{output.name}.{args.name}.attempts")
    attempt = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempt))
    if attempt <= args.fail_count:
        print(f"{args.name}: failing on purpose, attempt {attempt}", file=sys.stderr)
        return 1
    output.write_text(f"{args.name} succeeded on attempt {attempt}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
