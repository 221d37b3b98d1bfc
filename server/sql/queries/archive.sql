-- name: runs_of_workflow
-- Every run of a workflow, oldest first.
SELECT id, status, owner, jobmon_version, message, created_at, status_date, heartbeat_date
FROM workflow_run WHERE workflow_id = $1
ORDER BY id;

-- name: run_history_of_workflow
-- The status timeline of every run of a workflow.
SELECT h.workflow_run_id, h.status_time, h.status, h.source
FROM workflow_run_status h
JOIN workflow_run r ON r.id = h.workflow_run_id
WHERE r.workflow_id = $1
ORDER BY h.workflow_run_id, h.status_time, h.id;

-- name: task_ids_page
-- A page of a workflow's task ids after a task id.
SELECT id FROM task WHERE workflow_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: prune_candidates
-- Workflows in one of the statuses ($1) whose status is older than $2, by id.
SELECT id, name, owner, status, status_date, num_tasks
FROM workflow
WHERE status = ANY($1::text[]) AND status_date < $2 AND id > $3
ORDER BY id
LIMIT $4;

-- name: lock_workflow_for_prune
-- Lock a workflow while one batch of it is deleted.
SELECT id, status, status_date FROM workflow WHERE id = $1 FOR UPDATE;

-- name: unbind_workflow
-- A workflow being pruned can start no run any more (runs need a bound workflow).
UPDATE workflow SET bound = false WHERE id = $1 AND bound;

-- name: prune_batch_task_ids
-- The next batch of a workflow's tasks to delete.
SELECT id FROM task WHERE workflow_id = $1 ORDER BY id LIMIT $2;

-- name: prune_instance_history
-- Delete the status history of the instances of some tasks.
DELETE FROM task_instance_status h
USING task_instance ti
WHERE ti.task_id = ANY($1::bigint[]) AND h.task_instance_id = ti.id;

-- name: prune_task_history
-- Delete the status history of some tasks.
DELETE FROM task_status WHERE task_id = ANY($1::bigint[]);

-- name: prune_instances
-- Delete the instances of some tasks.
DELETE FROM task_instance WHERE task_id = ANY($1::bigint[]);

-- name: prune_edges
-- Delete the edges into some tasks of a workflow (every edge has one such end).
DELETE FROM edge WHERE workflow_id = $1 AND downstream_task_id = ANY($2::bigint[]);

-- name: prune_tasks
-- Delete some tasks of a workflow.
DELETE FROM task WHERE workflow_id = $1 AND id = ANY($2::bigint[]);
