"""Stands in for create_tasks_example.py's model_script.py: records its location id in a
file next to itself."""
import argparse
import os
import pathlib

parser = argparse.ArgumentParser()
parser.add_argument("--loc_id", required=True)
args = parser.parse_args()
here = pathlib.Path(__file__).resolve().parent
(here / f"loc_{args.loc_id}.txt").write_text(os.environ["JOBMON_TASK_ID"])
