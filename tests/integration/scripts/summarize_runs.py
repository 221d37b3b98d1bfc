"""A task of a summary workflow: reads the finished runs its workflow takes as input at
JOBMON_RUNS and leaves, as its output, what it found there (run ids in order, their names,
parameters, results, and the value of task c in their outputs, None when left out)."""

import json
import os

with open(os.environ["JOBMON_RUNS"]) as handle:
    runs = json.load(handle)
with open(os.environ["JOBMON_INPUTS"]) as handle:
    inputs = json.load(handle)
ids = sorted(runs, key=int)
found = {
    "runs": [int(run_id) for run_id in ids],
    "names": [runs[run_id]["name"] for run_id in ids],
    "workflow_args": [runs[run_id]["workflow_args"] for run_id in ids],
    "parameters": [runs[run_id]["parameters"] for run_id in ids],
    "results": [runs[run_id]["results"] for run_id in ids],
    "c_values": [None if runs[run_id]["outputs"] is None else
                 runs[run_id]["outputs"]["c"]["value"] for run_id in ids],
    "inputs": inputs,
}
with open(os.environ["JOBMON_OUTPUT"], "w") as handle:
    json.dump(found, handle)
