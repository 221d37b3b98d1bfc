"""Stands in for the quickstart page's process.py: writes one result per location."""
import argparse
import pathlib

parser = argparse.ArgumentParser()
parser.add_argument("--location", required=True)
parser.add_argument("--output", required=True)
args = parser.parse_args()
out = pathlib.Path(args.output)
out.mkdir(parents=True, exist_ok=True)
(out / f"location_{args.location}.txt").write_text(f"{args.location}\n")
