"""A task of the results tests: reads JOBMON_INPUTS, leaves an output, counts its success.

argv: name, count file, then "fail" to fail after counting (a broken step).
Its output: {"value": 1 + the sum of its upstreams' values, "seen": their names,
"upstream_data": the text of the files they named, "jobmon_files": ["data.txt"]}.
"""

import json
import os
import sys

name, count_file = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3 and sys.argv[3] == "fail":
    print(f"{name}: failing, as asked", file=sys.stderr)
    sys.exit(3)
with open(os.environ["JOBMON_INPUTS"]) as handle:
    inputs = json.load(handle)
upstream_data = []
for output in inputs.values():
    for path in output.get("jobmon_files", []):
        with open(path) as handle:
            upstream_data.append(handle.read())
os.makedirs(os.environ["JOBMON_FILES"], exist_ok=True)
with open(os.path.join(os.environ["JOBMON_FILES"], "data.txt"), "w") as handle:
    handle.write(f"data of {name}\n")
with open(os.environ["JOBMON_OUTPUT"], "w") as handle:
    json.dump({"value": 1 + sum(o["value"] for o in inputs.values()), "seen": sorted(inputs),
               "upstream_data": sorted(upstream_data), "jobmon_files": ["data.txt"]}, handle)
with open(count_file, "a") as handle:  # a side effect of each successful run
    handle.write(name + "\n")
