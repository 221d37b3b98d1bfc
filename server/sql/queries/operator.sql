-- name: list_workflows
-- Workflows newest first, filtered by owner, statuses, a part of the name, and ids.
SELECT w.id, w.name, w.owner, w.status, w.num_tasks, w.max_concurrently_running,
       w.created_at, w.status_date, r.id AS latest_run_id, r.status AS latest_run_status,
       w.attributes
FROM workflow w
LEFT JOIN LATERAL (
    SELECT id, status FROM workflow_run WHERE workflow_id = w.id ORDER BY id DESC LIMIT 1
) r ON true
WHERE ($1::text = '' OR w.owner = $1)
  AND ($2::text[] IS NULL OR w.status = ANY($2::text[]))
  -- strpos, not LIKE: a name part with % or _ means just that
  AND ($3::text = '' OR strpos(lower(w.name), lower($3::text)) > 0)
  AND ($4::bigint[] IS NULL OR w.id = ANY($4::bigint[]))
  AND ($5::bigint = 0 OR w.id < $5)
ORDER BY w.id DESC
LIMIT $6;

-- name: counts_of_workflows
-- Tasks by status and retries of several workflows, in one pass.
SELECT workflow_id, status, count(*) AS tasks,
       coalesce(sum(greatest(num_attempts - 1, 0)), 0) AS retries
FROM task WHERE workflow_id = ANY($1::bigint[])
GROUP BY workflow_id, status;

-- name: array_counts
-- The tasks of each array (task template) of a workflow, by status.
SELECT a.id, tt.name AS template_name, a.max_concurrently_running, t.status,
       count(t.id) AS tasks
FROM task_array a
JOIN task_template_version v ON v.id = a.task_template_version_id
JOIN task_template tt ON tt.id = v.task_template_id
LEFT JOIN task t ON t.array_id = a.id
WHERE a.workflow_id = $1
GROUP BY a.id, tt.name, a.max_concurrently_running, t.status
ORDER BY a.id;

-- name: error_groups
-- Failed and failing tasks (F, E, A) grouped by how their latest instance failed: exit
-- code, instance status, and the last non-blank line of stderr (else the error message).
WITH failed AS (
    SELECT t.id, t.name, ti.exit_code, ti.status AS instance_status,
           left(coalesce(
               nullif(btrim((regexp_match(ti.stderr_tail, '([^\n]*\S[^\n]*)\s*$'))[1]), ''),
               nullif(btrim(ti.error_message), ''),
               ''), 300) AS message
    FROM task t
    LEFT JOIN task_instance ti ON ti.id = t.latest_instance_id
    WHERE t.workflow_id = $1 AND t.status IN ('F', 'E', 'A')
)
SELECT exit_code, instance_status, message, count(*) AS tasks,
       (array_agg(id ORDER BY id))[1:$2] AS task_ids,
       (array_agg(name ORDER BY id))[1:$2] AS task_names
FROM failed
GROUP BY exit_code, instance_status, message
ORDER BY tasks DESC, min(id)
LIMIT $3;

-- name: template_edges
-- Edges between the arrays (task templates) of a workflow, from its task edges.
SELECT tu.array_id AS upstream_array_id, td.array_id AS downstream_array_id,
       count(*) AS edges
FROM edge e
JOIN task tu ON tu.id = e.upstream_task_id
JOIN task td ON td.id = e.downstream_task_id
WHERE e.workflow_id = $1
GROUP BY tu.array_id, td.array_id
ORDER BY 1, 2;

-- name: tasks_by_id
-- Tasks with their template name, output and context.
SELECT t.id, t.workflow_id, t.name, t.command, t.status, t.status_date, t.num_attempts,
       t.max_attempts, t.array_id, tt.name AS template_name, t.output, t.context,
       t.attributes
FROM task t
JOIN task_array a ON a.id = t.array_id
JOIN task_template_version v ON v.id = a.task_template_version_id
JOIN task_template tt ON tt.id = v.task_template_id
WHERE t.id = ANY($1::bigint[])
ORDER BY t.id;

-- name: instances_of_tasks
-- Every instance of some tasks, oldest first per task.
SELECT id, task_id, workflow_run_id, attempt, status, status_date, cluster_name,
       compute_resources, distributor_id, nodename, process_id, exit_code, error_message,
       stderr_tail, maxrss, wallclock, stdout_path, stderr_path
FROM task_instance
WHERE task_id = ANY($1::bigint[])
ORDER BY task_id, id;

-- name: history_of_tasks
-- The status timeline of every instance of some tasks, with who made each change and why.
SELECT h.task_instance_id, h.status_time, h.status, h.source,
       lag(h.status) OVER (PARTITION BY h.task_instance_id ORDER BY h.id) AS from_status,
       h.username, coalesce(h.context, '{}') AS context
FROM task_instance_status h
JOIN task_instance ti ON ti.id = h.task_instance_id
WHERE ti.task_id = ANY($1::bigint[])
ORDER BY h.task_instance_id, h.status_time, h.id;

-- name: task_history_of_tasks
-- The status changes of some tasks themselves, with who made them and why.
SELECT task_id, status_time, task_instance_id, status, source,
       lag(status, 1, 'G') OVER (PARTITION BY task_id ORDER BY id) AS from_status, username,
       coalesce(context, '{}') AS context
FROM task_status
WHERE task_id = ANY($1::bigint[])
ORDER BY task_id, id;

-- name: task_neighbours
-- The direct upstream ('up') and downstream ('down') tasks of a task, with their status.
SELECT 'up' AS direction, t.id, t.name, t.status
FROM edge e JOIN task t ON t.id = e.upstream_task_id
WHERE e.workflow_id = $1 AND e.downstream_task_id = $2
UNION ALL
SELECT 'down' AS direction, t.id, t.name, t.status
FROM edge e JOIN task t ON t.id = e.downstream_task_id
WHERE e.upstream_task_id = $2
ORDER BY 1 DESC, 2;

-- name: task_subtree
-- Some tasks and everything downstream of them (the closure over the edge table), with
-- their status and name; optionally only those in some statuses ($2).
WITH RECURSIVE closure (id) AS (
    SELECT unnest($1::bigint[])
    UNION
    SELECT e.downstream_task_id
    FROM edge e JOIN closure c ON e.upstream_task_id = c.id
)
SELECT t.id, t.status, t.name
FROM closure c JOIN task t ON t.id = c.id
WHERE $2::text[] IS NULL OR t.status = ANY($2::text[])
ORDER BY t.id;

-- name: tasks_not_in_workflow
-- Which of the given task ids are not tasks of the workflow.
SELECT given.id
FROM unnest($2::bigint[]) AS given(id)
WHERE NOT EXISTS (SELECT 1 FROM task t WHERE t.id = given.id AND t.workflow_id = $1)
ORDER BY given.id;

-- name: mark_tasks_done
-- An operator marks tasks DONE; the swarm of a later run skips them. Recorded with the
-- user ($4) and the request ($5).
WITH marked AS (
    UPDATE task
    SET status = 'D', status_date = $3, error_status = NULL, next_resources = NULL,
        change_xid = pg_current_xact_id()
    WHERE workflow_id = $1 AND id = ANY($2::bigint[]) AND status <> 'D'
    RETURNING id
)
INSERT INTO task_status (task_id, status, status_time, source, username, context)
SELECT id, 'D', $3, 'operator', $4, $5::jsonb FROM marked;

-- name: mark_tasks_done_upstream
-- An operator marks tasks DONE with everything upstream of them (the closure over the edge
-- table); returns every task of the closure. Recorded as mark_tasks_done.
WITH RECURSIVE closure (id) AS (
    SELECT unnest($2::bigint[])
    UNION
    SELECT e.upstream_task_id
    FROM edge e JOIN closure c ON e.downstream_task_id = c.id
    WHERE e.workflow_id = $1
), marked AS (
    UPDATE task t
    SET status = 'D', status_date = $3, error_status = NULL, next_resources = NULL,
        change_xid = pg_current_xact_id()
    FROM closure c
    WHERE t.id = c.id AND t.workflow_id = $1 AND t.status <> 'D'
    RETURNING t.id
), history AS (
    INSERT INTO task_status (task_id, status, status_time, source, username, context)
    SELECT id, 'D', $3, 'operator', $4, $5::jsonb FROM marked
)
SELECT id, (SELECT count(*) FROM marked) AS moved FROM closure ORDER BY id;

-- name: reset_tasks_downstream
-- An operator resets tasks and everything downstream of them (the closure over the edge
-- table) to REGISTERING with fresh attempts; returns every task of the closure. Recorded
-- as mark_tasks_done.
WITH RECURSIVE closure (id) AS (
    SELECT unnest($2::bigint[])
    UNION
    SELECT e.downstream_task_id
    FROM edge e JOIN closure c ON e.upstream_task_id = c.id
    WHERE e.workflow_id = $1
), reset AS (
    UPDATE task t
    SET status = 'G', num_attempts = 0, error_status = NULL, next_resources = NULL,
        status_date = $3, change_xid = pg_current_xact_id()
    FROM closure c
    WHERE t.id = c.id AND t.workflow_id = $1
      AND (t.status <> 'G' OR t.num_attempts <> 0)
    RETURNING t.id
), history AS (
    INSERT INTO task_status (task_id, status, status_time, source, username, context)
    SELECT id, 'G', $3, 'operator', $4, $5::jsonb FROM reset
)
SELECT id, (SELECT count(*) FROM reset) AS moved FROM closure ORDER BY id;

-- name: count_tasks_not_done
-- How many tasks of a workflow are not DONE.
SELECT count(*) FROM task WHERE workflow_id = $1 AND status <> 'D';

-- name: move_workflow_status
-- Move a workflow to a status if the transition table allows it from its current one;
-- recorded as the operator action $7 of user $6 (source $5), with its context ($8).
WITH moved AS (
    UPDATE workflow SET status = $2, status_date = $3
    WHERE id = $1 AND status = ANY($4::text[])
    RETURNING id, status
), history AS (
    INSERT INTO workflow_status (workflow_id, status, status_time, source, username, action,
                                 context)
    SELECT id, status, $3, $5, $6, $7, $8::jsonb FROM moved
)
SELECT status FROM moved;

-- name: record_workflow_action
-- An operator action on a workflow, with the status it leaves (a pruned or cleared one's
-- record stays); nothing if the workflow does not exist.
INSERT INTO workflow_status (workflow_id, workflow_run_id, status, status_time, source,
                             username, action, context)
SELECT id, $2, status, $3, $4, $5, $6, $7::jsonb FROM workflow WHERE id = $1;
