"""Stands in for the quickstart page's aggregate.py: sums what process.py wrote."""
import argparse
import pathlib

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
args = parser.parse_args()
folder = pathlib.Path(args.input)
total = sum(int(path.read_text()) for path in folder.glob("location_*.txt"))
(folder / "total.txt").write_text(f"{total}\n")
