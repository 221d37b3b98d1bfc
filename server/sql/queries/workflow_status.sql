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
-- Every status of a task and of its instances, oldest first (an instance's move before
-- the task's that followed it): kind, the status it came from, who, and the context. An
-- instance's context adds what its row knows: run, cluster job id, host and process.
SELECT status_time, task_instance_id, status, source, kind, from_status, username, context
FROM (
    SELECT h.status_time, h.task_instance_id, h.status, h.source, 'instance' AS kind,
           lag(h.status) OVER (PARTITION BY h.task_instance_id ORDER BY h.id) AS from_status,
           h.username,
           jsonb_strip_nulls(jsonb_build_object(
               'run', ti.workflow_run_id, 'cluster', ti.cluster_name,
               'job', CASE WHEN h.status NOT IN ('Q', 'I') THEN ti.distributor_id END,
               'host', CASE WHEN h.status NOT IN ('Q', 'I', 'O', 'W', 'X') THEN ti.nodename END,
               'pid', CASE WHEN h.status NOT IN ('Q', 'I', 'O', 'W', 'X') THEN ti.process_id END
           )) || coalesce(h.context, '{}') AS context,
           0 AS after, h.id
    FROM task_instance_status h
    JOIN task_instance ti ON ti.id = h.task_instance_id
    WHERE ti.task_id = $1
    UNION ALL
    SELECT h.status_time, h.task_instance_id, h.status, h.source, 'task' AS kind,
           lag(h.status, 1, 'G') OVER (ORDER BY h.id) AS from_status, h.username,
           coalesce(h.context, '{}') AS context, 1 AS after, h.id
    FROM task_status h
    WHERE h.task_id = $1
) history
ORDER BY status_time, after, id;

-- name: workflow_history
-- Every status of a workflow and of its runs, and the operator actions on it, oldest first.
SELECT status_time, workflow_run_id, status, source, kind, from_status, username, action,
       context
FROM (
    SELECT h.status_time, h.workflow_run_id, h.status, h.source, 'workflow' AS kind,
           lag(h.status, 1, 'G') OVER (ORDER BY h.id) AS from_status, h.username, h.action,
           coalesce(h.context, '{}') AS context, 1 AS after, h.id
    FROM workflow_status h
    WHERE h.workflow_id = $1
    UNION ALL
    SELECT h.status_time, h.workflow_run_id, h.status, h.source, 'run' AS kind,
           lag(h.status) OVER (PARTITION BY h.workflow_run_id ORDER BY h.id) AS from_status,
           h.username, NULL AS action, coalesce(h.context, '{}') AS context, 0 AS after, h.id
    FROM workflow_run_status h
    JOIN workflow_run r ON r.id = h.workflow_run_id
    WHERE r.workflow_id = $1
) history
ORDER BY status_time, after, id;

-- name: set_concurrency
-- Change a workflow's limit; a running swarm's change poll is woken to apply it at once.
-- Recorded as an operator action of user $4, with the limit before and after, if it
-- changed (a retried request changes nothing the second time).
WITH old AS (
    SELECT id, max_concurrently_running AS was FROM workflow WHERE id = $1 FOR NO KEY UPDATE
), changed AS (
    UPDATE workflow w SET max_concurrently_running = $2
    FROM old WHERE w.id = old.id
    RETURNING w.id, w.status, old.was
), history AS (
    INSERT INTO workflow_status (workflow_id, status, status_time, source, username, action,
                                 context)
    SELECT id, status, $3, 'operator', $4, 'concurrency',
           jsonb_build_object('from', was, 'to', $2::int)
    FROM changed WHERE was <> $2
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
), task_history AS (
    DELETE FROM task_status
    WHERE task_id IN (SELECT id FROM task WHERE workflow_id = $1)
), edges AS (
    DELETE FROM edge WHERE workflow_id = $1
), tasks AS (
    DELETE FROM task WHERE workflow_id = $1
), gone AS (
    DELETE FROM workflow WHERE id = $1 RETURNING num_tasks
)
SELECT num_tasks FROM gone;
