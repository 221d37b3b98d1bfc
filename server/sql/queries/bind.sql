-- name: upsert_tool
-- Find or create a tool by name.
WITH inserted AS (
    INSERT INTO tool (name) VALUES ($1)
    ON CONFLICT (name) DO NOTHING
    RETURNING id
)
SELECT id FROM inserted
UNION ALL
SELECT id FROM tool WHERE name = $1
LIMIT 1;

-- name: lock_tool
-- Serialize the creation of a tool's first version.
SELECT pg_advisory_xact_lock(hashtextextended('jobmon-tool:' || $1::text, 0));

-- name: current_tool_version
-- The tool's newest version.
SELECT id FROM tool_version WHERE tool_id = $1 ORDER BY id DESC LIMIT 1;

-- name: insert_tool_version
-- A new version of a tool.
INSERT INTO tool_version (tool_id) VALUES ($1) RETURNING id;

-- name: tool_of_version
-- The tool a version belongs to.
SELECT tool_id FROM tool_version WHERE id = $1;

-- name: upsert_task_templates
-- Find or create task templates of a tool by name; returns (name, id).
WITH wanted AS (
    SELECT DISTINCT unnest($2::text[]) AS name
), inserted AS (
    INSERT INTO task_template (tool_id, name)
    SELECT $1, name FROM wanted
    ON CONFLICT (tool_id, name) DO NOTHING
    RETURNING id, name
)
SELECT name, id FROM inserted
UNION ALL
SELECT t.name, t.id FROM task_template t JOIN wanted w ON w.name = t.name
WHERE t.tool_id = $1;

-- name: upsert_template_versions
-- Find or create template versions; returns (version_hash, id) for each.
WITH wanted AS (
    -- the arg lists arrive as JSON text: nested lists would read as a 2-D array
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
        AS w (task_template_id, version_hash, command_template, node_args, task_args, op_args)
), inserted AS (
    INSERT INTO task_template_version
        (task_template_id, version_hash, command_template, node_args, task_args, op_args)
    SELECT task_template_id, version_hash, command_template,
           ARRAY(SELECT jsonb_array_elements_text(node_args::jsonb)),
           ARRAY(SELECT jsonb_array_elements_text(task_args::jsonb)),
           ARRAY(SELECT jsonb_array_elements_text(op_args::jsonb))
    FROM wanted
    ON CONFLICT (task_template_id, version_hash) DO NOTHING
    RETURNING id, task_template_id, version_hash
)
SELECT task_template_id, version_hash, id FROM inserted
UNION ALL
SELECT v.task_template_id, v.version_hash, v.id
FROM task_template_version v
JOIN wanted w ON w.task_template_id = v.task_template_id AND w.version_hash = v.version_hash;

-- name: insert_workflow
-- Create a workflow unless (tool version, owner, workflow_args) exists already.
INSERT INTO workflow (tool_version_id, name, workflow_args, workflow_args_hash, task_hash,
                      description, owner, max_concurrently_running, num_tasks,
                      default_cluster_name, created_at, status_date, attributes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)
ON CONFLICT (tool_version_id, owner, workflow_args_hash) DO NOTHING
RETURNING id;

-- name: find_workflow
-- The workflow of (tool version, owner, workflow_args).
SELECT id, task_hash, status, bound, name,
       (SELECT count(*) FROM workflow_run r WHERE r.workflow_id = workflow.id) AS num_runs
FROM workflow
WHERE tool_version_id = $1 AND owner = $2 AND workflow_args_hash = $3;

-- name: rebind_workflow
-- An existing workflow bound again before a resume, or before it ever ran: it takes the
-- code's name, description and limit, and merges in its attributes.
UPDATE workflow
SET name = $2, description = $3, max_concurrently_running = $4,
    attributes = attributes || $5::jsonb
WHERE id = $1
  AND (name, description, max_concurrently_running, attributes || $5::jsonb)
      IS DISTINCT FROM (name, description, max_concurrently_running, attributes);

-- name: workflow_for_bind
-- Lock a workflow for writing its tasks; returns whether its bind completed.
SELECT id, bound, num_tasks FROM workflow WHERE id = $1 FOR SHARE;

-- name: upsert_arrays
-- Find or create the workflow's arrays (one per template version); the limit follows the code.
INSERT INTO task_array (workflow_id, task_template_version_id, name, max_concurrently_running)
SELECT $1, v, n, m FROM unnest($2::bigint[], $3::text[], $4::int[]) AS a (v, n, m)
ON CONFLICT (workflow_id, task_template_version_id)
    DO UPDATE SET max_concurrently_running = EXCLUDED.max_concurrently_running
RETURNING task_template_version_id, id;

-- name: count_template_versions
-- How many of the given template version ids exist.
SELECT count(*) FROM task_template_version WHERE id = ANY($1::bigint[]);

-- name: upsert_configs
-- Find or create shared task settings by hash; returns (config_hash, id).
WITH wanted AS (
    SELECT w.config_hash, w.cluster_name, w.compute_resources, w.resource_scales,
           w.fallback_queues::jsonb, w.max_attempts
    FROM unnest($2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::text[], $7::int[])
        AS w (config_hash, cluster_name, compute_resources, resource_scales, fallback_queues,
              max_attempts)
), inserted AS (
    INSERT INTO task_config (workflow_id, config_hash, cluster_name, compute_resources,
                             resource_scales, fallback_queues, max_attempts)
    SELECT $1, * FROM wanted
    ON CONFLICT (workflow_id, config_hash) DO NOTHING
    RETURNING config_hash, id
)
SELECT config_hash, id FROM inserted
UNION ALL
SELECT c.config_hash, c.id FROM task_config c JOIN wanted w USING (config_hash)
WHERE c.workflow_id = $1;

-- name: count_arrays_of_workflow
-- How many of the given array ids belong to the workflow.
SELECT count(*) FROM task_array WHERE workflow_id = $1 AND id = ANY($2::bigint[]);

-- name: insert_tasks
-- Write a chunk of tasks; tasks that exist already are left alone.
INSERT INTO task (workflow_id, array_id, config_id, node_args_hash, task_args_hash, name,
                  command, args, max_attempts, attributes, status_date)
SELECT $1, a, c, n, t, nm, cmd, ar, ma, at, $11
FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
            $8::jsonb[], $9::int[], $10::jsonb[]) AS u (a, c, n, t, nm, cmd, ar, ma, at)
ON CONFLICT (array_id, node_args_hash, task_args_hash) DO NOTHING;

-- name: rebind_tasks
-- Existing tasks bound again before a resume ($12), or of a workflow that never ran: a task
-- not DONE takes the code's settings, name, command, args and max_attempts; one in flight
-- (Q, I, O, R) keeps its own unless $11 (a cold resume kills it). Attributes merge in.
-- The conditions read the row being updated, so a concurrent status change is respected.
UPDATE task t
SET config_id = CASE WHEN t.status <> 'D' AND ($11 OR t.status NOT IN ('Q', 'I', 'O', 'R'))
                     THEN u.c ELSE t.config_id END,
    name = CASE WHEN t.status <> 'D' AND ($11 OR t.status NOT IN ('Q', 'I', 'O', 'R'))
                THEN u.nm ELSE t.name END,
    command = CASE WHEN t.status <> 'D' AND ($11 OR t.status NOT IN ('Q', 'I', 'O', 'R'))
                   THEN u.cmd ELSE t.command END,
    args = CASE WHEN t.status <> 'D' AND ($11 OR t.status NOT IN ('Q', 'I', 'O', 'R'))
                THEN u.ar ELSE t.args END,
    max_attempts = CASE WHEN t.status <> 'D' AND ($11 OR t.status NOT IN ('Q', 'I', 'O', 'R'))
                        THEN u.ma ELSE t.max_attempts END,
    attributes = CASE WHEN u.at IS NULL THEN t.attributes
                      ELSE coalesce(t.attributes, '{}') || u.at END
FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
            $8::jsonb[], $9::int[], $10::jsonb[]) AS u (a, c, n, k, nm, cmd, ar, ma, at)
WHERE t.workflow_id = $1 AND t.array_id = u.a AND t.node_args_hash = u.n
  AND t.task_args_hash = u.k
  AND ($12 OR NOT EXISTS (SELECT 1 FROM workflow_run r WHERE r.workflow_id = $1))
  AND ((t.status <> 'D' AND ($11 OR t.status NOT IN ('Q', 'I', 'O', 'R'))
        AND (t.config_id, t.name, t.command, t.args, t.max_attempts)
            IS DISTINCT FROM (u.c, u.nm, u.cmd, u.ar, u.ma))
       OR (u.at IS NOT NULL AND coalesce(t.attributes, '{}') || u.at
                                IS DISTINCT FROM t.attributes));

-- name: task_ids_by_key
-- Task ids in the order of the given (array, node hash, task hash) keys.
SELECT t.id
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS u (a, n, k, ord)
JOIN task t ON t.array_id = u.a AND t.node_args_hash = u.n AND t.task_args_hash = u.k
ORDER BY u.ord;

-- name: count_tasks_of_workflow
-- How many of the given task ids belong to the workflow.
SELECT count(*) FROM task WHERE workflow_id = $1 AND id = ANY($2::bigint[]);

-- name: insert_edges
-- Write a chunk of edges; existing ones are left alone.
INSERT INTO edge (workflow_id, upstream_task_id, downstream_task_id)
SELECT $1, u, d FROM unnest($2::bigint[], $3::bigint[]) AS e (u, d)
ON CONFLICT DO NOTHING;

-- name: finish_bind
-- Mark the bind complete once every task is written; G to Q is recorded for the user ($3).
WITH old AS (
    SELECT id, status AS was FROM workflow WHERE id = $1 FOR NO KEY UPDATE
), bound AS (
    UPDATE workflow w
    SET bound = true,
        status = CASE WHEN w.status = 'G' THEN 'Q' ELSE w.status END,
        status_date = CASE WHEN w.status = 'G' THEN $2 ELSE w.status_date END
    FROM old
    WHERE w.id = old.id
    RETURNING w.id, w.status, old.was
), history AS (
    INSERT INTO workflow_status (workflow_id, status, status_time, source, username)
    SELECT id, status, $2, 'swarm', $3 FROM bound WHERE was = 'G' AND status = 'Q'
    RETURNING id
)
SELECT status, (SELECT count(*) FROM history) AS moved FROM bound;

-- name: count_workflow_tasks
-- The number of tasks written for a workflow.
SELECT count(*) FROM task WHERE workflow_id = $1;

-- name: add_workflow_attributes
-- Merge attributes into a workflow's (new names added, values of known ones replaced).
UPDATE workflow SET attributes = attributes || $2::jsonb
WHERE id = $1
RETURNING attributes;
