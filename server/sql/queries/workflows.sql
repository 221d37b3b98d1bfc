-- name: workflow_info
-- One workflow with its latest run.
SELECT w.id, w.name, w.workflow_args, w.owner, w.status, w.max_concurrently_running,
       w.num_tasks, w.created_at, w.status_date, w.default_cluster_name, w.attributes,
       r.id AS latest_run_id, r.status AS latest_run_status
FROM workflow w
LEFT JOIN LATERAL (
    SELECT id, status FROM workflow_run WHERE workflow_id = w.id ORDER BY id DESC LIMIT 1
) r ON true
WHERE w.id = $1;

-- name: task_page
-- A page of a workflow's tasks after a task id, in id order.
SELECT id, array_id, status, num_attempts, max_attempts, config_id, name
FROM task
WHERE workflow_id = $1 AND id > $2
ORDER BY id
LIMIT $3;

-- name: configs_by_id
-- Shared task settings by id.
SELECT id, cluster_name, compute_resources, resource_scales, fallback_queues, max_attempts
FROM task_config WHERE id = ANY($1::bigint[]);

-- name: edge_page
-- A page of a workflow's edges after a downstream task id (whole downstream groups).
SELECT upstream_task_id, downstream_task_id
FROM edge
WHERE workflow_id = $1 AND downstream_task_id > $2
  AND downstream_task_id <= coalesce(
      (SELECT max(downstream_task_id) FROM (
           SELECT downstream_task_id FROM edge
           WHERE workflow_id = $1 AND downstream_task_id > $2
           ORDER BY downstream_task_id LIMIT $3) AS page),
      $2)
ORDER BY downstream_task_id, upstream_task_id;

-- name: arrays_of_workflow
-- The arrays of a workflow with their template names.
SELECT a.id, a.name, a.task_template_version_id, tt.name AS template_name,
       a.max_concurrently_running
FROM task_array a
JOIN task_template_version v ON v.id = a.task_template_version_id
JOIN task_template tt ON tt.id = v.task_template_id
WHERE a.workflow_id = $1
ORDER BY a.id;

-- name: task_errors
-- The latest failed instance of each task of a workflow ($2: only this task, NULL for all;
-- $3: only ERROR_FATAL tasks), by task id, at most $4 tasks (NULL: all), with its error.
WITH latest AS (
    SELECT DISTINCT ON (ti.task_id)
           ti.task_id, t.name, t.status AS task_status, ti.id, ti.status, ti.status_date,
           ti.exit_code, ti.error_message, ti.stderr_tail
    FROM task_instance ti
    JOIN task t ON t.id = ti.task_id
    WHERE ti.workflow_id = $1
      AND ti.status IN ('E', 'F', 'U', 'W', 'X', 'Z')
      AND ($2::bigint IS NULL OR ti.task_id = $2)
      AND (NOT $3::boolean OR t.status = 'F')
    ORDER BY ti.task_id, ti.id DESC
    LIMIT $4
)
SELECT latest.*, failure.id AS error_log_id,
       coalesce(failure.status_time, latest.status_date) AS error_time
FROM latest
LEFT JOIN LATERAL (
    SELECT s.id, s.status_time FROM task_instance_status s
    WHERE s.task_instance_id = latest.id AND s.status = latest.status
    ORDER BY s.id DESC LIMIT 1
) failure ON true
ORDER BY latest.task_id;

-- name: workflow_of_task
-- The workflow a task belongs to.
SELECT workflow_id FROM task WHERE id = $1;
