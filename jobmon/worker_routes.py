"""The paths of the four routes a `jobmon worker` calls, apart from the endpoint table.

jobmon.endpoints holds every route with its wire types (msgspec); a worker is a fresh
interpreter per cluster job and speaks plain JSON, so it reads these paths from here, and
the table takes them from here too: each path is still written once.
"""

INSTANCE = "/api/v1/task_instances/{task_instance_id}"
INPUTS = "/api/v1/task_instances/inputs"
TRANSITIONS = "/api/v1/task_instances/transitions"
INSTANCE_HEARTBEAT = "/api/v1/task_instances/heartbeat"
