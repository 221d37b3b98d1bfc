-- name: workflow_counts
-- Tasks of a workflow by status, and retries (attempts beyond the first).
SELECT status, count(*) AS tasks, coalesce(sum(greatest(num_attempts - 1, 0)), 0) AS retries
FROM task WHERE workflow_id = $1
GROUP BY status;

-- name: task_states_page
-- A page of tasks with their latest instance's outcome; optionally only some ids/statuses.
SELECT t.id, t.name, t.status, t.num_attempts, t.max_attempts, t.context,
       ti.exit_code, ti.error_message, ti.stderr_tail
FROM task t
LEFT JOIN task_instance ti ON ti.id = t.latest_instance_id
WHERE t.workflow_id = $1 AND t.id > $2
  AND ($4::bigint[] IS NULL OR t.id = ANY($4::bigint[]))
  AND ($5::text[] IS NULL OR t.status = ANY($5::text[]))
ORDER BY t.id
LIMIT $3;

-- name: task_states_newest
-- The same page, highest task id first: ids below $2 (0: from the top).
SELECT t.id, t.name, t.status, t.num_attempts, t.max_attempts, t.context,
       ti.exit_code, ti.error_message, ti.stderr_tail
FROM task t
LEFT JOIN task_instance ti ON ti.id = t.latest_instance_id
WHERE t.workflow_id = $1 AND ($2::bigint = 0 OR t.id < $2::bigint)
  AND ($4::bigint[] IS NULL OR t.id = ANY($4::bigint[]))
  AND ($5::text[] IS NULL OR t.status = ANY($5::text[]))
ORDER BY t.id DESC
LIMIT $3;

-- name: outputs_page
-- A page of DONE tasks that left an output.
SELECT id, name, output FROM task
WHERE workflow_id = $1 AND status = 'D' AND output IS NOT NULL AND id > $2
ORDER BY id
LIMIT $3;

-- name: task_exists
-- Whether a task exists.
SELECT EXISTS (SELECT 1 FROM task WHERE id = $1);

-- name: task_history
-- Every status of every instance of a task, oldest first.
SELECT h.status_time, h.task_instance_id, h.status, h.source
FROM task_instance_status h
JOIN task_instance ti ON ti.id = h.task_instance_id
WHERE ti.task_id = $1
ORDER BY h.status_time, h.id;

-- name: set_concurrency
-- Change a workflow's limit; a running swarm's change poll is woken to apply it at once.
WITH changed AS (
    UPDATE workflow SET max_concurrently_running = $2 WHERE id = $1 RETURNING id
)
SELECT id, pg_notify('jobmon_task', id::text) FROM changed;

-- name: live_run_of_workflow
-- The workflow's run that is still live, if any.
SELECT id, status FROM workflow_run
WHERE workflow_id = $1 AND status IN ('G', 'L', 'B', 'I', 'O', 'R', 'C', 'H')
ORDER BY id DESC LIMIT 1;

-- name: delete_workflow
-- Delete a workflow and everything about it (the hot tables have no cascading keys).
WITH instances AS (
    DELETE FROM task_instance
    WHERE workflow_run_id IN (SELECT id FROM workflow_run WHERE workflow_id = $1)
    RETURNING id
), history AS (
    DELETE FROM task_instance_status
    WHERE task_instance_id IN (SELECT id FROM instances)
), edges AS (
    DELETE FROM edge WHERE workflow_id = $1
), tasks AS (
    DELETE FROM task WHERE workflow_id = $1
), gone AS (
    DELETE FROM workflow WHERE id = $1 RETURNING num_tasks
)
SELECT num_tasks FROM gone;
