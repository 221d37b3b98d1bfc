-- name: log_rule_inputs
-- What jobmon.logs' rule needs to tell an instance's own log paths: its task's name, its
-- resources, its workflow and its cluster job id.
SELECT ti.id, t.name, ti.compute_resources, ti.workflow_id, ti.distributor_id
FROM task_instance ti JOIN task t ON t.id = ti.task_id
WHERE ti.id = ANY($1::bigint[]);
