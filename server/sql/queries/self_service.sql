-- name: latest_run_of_workflow
-- The workflow's newest run, whoever started it.
SELECT id, status, owner FROM workflow_run
WHERE workflow_id = $1
ORDER BY id DESC LIMIT 1;

-- name: reset_workflow_tasks
-- workflow_reset: every task back to REGISTERING with fresh attempts; DONE ones too unless
-- $2 (a partial reset). Returns how many changed; recorded with the user ($4) and request
-- ($5).
WITH reset AS (
    UPDATE task
    SET status = 'G', num_attempts = 0, error_status = NULL, next_resources = NULL,
        status_date = $3, change_xid = pg_current_xact_id()
    WHERE workflow_id = $1 AND (status <> 'G' OR num_attempts <> 0)
      AND NOT ($2::bool AND status = 'D')
    RETURNING id
), history AS (
    INSERT INTO task_status (task_id, status, status_time, source, username, context)
    SELECT id, 'G', $3, 'operator', $4, $5::jsonb FROM reset
)
SELECT count(*) FROM reset;

-- name: unfinished_runs
-- The workflow's runs that still drive it (G to R) or are winding down after a resume
-- told them to stop (C, H), oldest first.
SELECT id, status, owner FROM workflow_run
WHERE workflow_id = $1 AND status IN ('G', 'L', 'B', 'I', 'O', 'R', 'C', 'H')
ORDER BY id;

-- name: resource_error_tasks
-- Tasks waiting for a retry or failed for good (E, A, F) whose latest instance hit a
-- resource error (Z): their settings, the resources of that attempt, and how many resource
-- errors they had.
SELECT t.id, ti.compute_resources AS used_resources, c.cluster_name, c.resource_scales,
       c.fallback_queues, c.max_attempts,
       (SELECT count(*) FROM task_instance z
        WHERE z.task_id = t.id AND z.status = 'Z') AS resource_errors
FROM task t
JOIN task_instance ti ON ti.id = t.latest_instance_id
JOIN task_config c ON c.id = t.config_id
WHERE t.workflow_id = $1 AND t.status IN ('E', 'A', 'F') AND ti.status = 'Z'
ORDER BY t.id;

-- name: set_task_configs
-- Point tasks at other shared settings (their scaled resources).
UPDATE task t
SET config_id = u.config_id
FROM unnest($2::bigint[], $3::bigint[]) AS u (id, config_id)
WHERE t.id = u.id AND t.workflow_id = $1;

-- name: workflow_exists
-- 1 if the workflow exists.
SELECT 1 FROM workflow WHERE id = $1;
