-- name: inputs_of_instances
-- The upstream tasks of the tasks of some instances, with their outputs (DONE ones only).
SELECT ti.id AS task_instance_id, u.id AS task_id, u.name,
       CASE WHEN u.status = 'D' THEN u.output END AS output
FROM task_instance ti
JOIN edge e ON e.workflow_id = ti.workflow_id AND e.downstream_task_id = ti.task_id
JOIN task u ON u.id = e.upstream_task_id
WHERE ti.id = ANY($1::bigint[])
ORDER BY ti.id, u.id;

-- name: workflow_owner
-- The owner of a workflow (none: it does not exist).
SELECT owner FROM workflow WHERE id = $1;

-- name: set_link
-- Name a workflow's linker; record its follow-on ($3) or why it could not be made ($4).
-- Naming the linker alone keeps a follow-on already made and clears an old error; $6: the
-- linker made no follow-on (the chain ends here).
INSERT INTO workflow_link (workflow_id, linker, next_workflow_id, error, ended, updated_at)
VALUES ($1, $2, $3, $4, $6, $5)
ON CONFLICT (workflow_id) DO UPDATE
SET linker = excluded.linker,
    next_workflow_id = CASE
        WHEN $3::bigint IS NOT NULL THEN $3::bigint
        WHEN $4::text IS NOT NULL OR $6 THEN NULL
        ELSE workflow_link.next_workflow_id END,
    error = excluded.error,
    ended = $6,
    updated_at = excluded.updated_at;

-- name: chain_head
-- The first workflow of the chain a workflow is in (following follow-ons backwards).
WITH RECURSIVE back (id, depth) AS (
    SELECT $1::bigint, 0
    UNION ALL
    SELECT before.workflow_id, back.depth + 1
    FROM back
    JOIN LATERAL (SELECT workflow_id FROM workflow_link
                  WHERE next_workflow_id = back.id ORDER BY workflow_id LIMIT 1) before ON true
    WHERE back.depth < $2
)
SELECT id FROM back ORDER BY depth DESC LIMIT 1;

-- name: chain_from
-- A chain from a workflow forwards, first to last, with each link's linker and follow-on.
WITH RECURSIVE forward (id, depth) AS (
    SELECT $1::bigint, 0
    UNION ALL
    SELECT l.next_workflow_id, forward.depth + 1
    FROM forward JOIN workflow_link l ON l.workflow_id = forward.id
    WHERE l.next_workflow_id IS NOT NULL AND forward.depth < $2
)
SELECT w.id, w.name, w.workflow_args, w.status, l.linker, l.next_workflow_id, l.error,
       coalesce(l.ended, false) AS ended
FROM forward
JOIN workflow w ON w.id = forward.id
LEFT JOIN workflow_link l ON l.workflow_id = w.id
ORDER BY forward.depth;

-- name: set_declarations
-- A workflow's declared parameters (with their values) and result schema.
UPDATE workflow SET parameters = $2, result_schema = $3 WHERE id = $1 RETURNING id;

-- name: add_input_runs
-- The finished workflows a workflow takes as input.
INSERT INTO workflow_input_run (workflow_id, input_workflow_id)
SELECT $1, unnest($2::bigint[])
ON CONFLICT DO NOTHING;

-- name: declarations
-- A workflow's parameters, result schema and input runs.
SELECT w.parameters, w.result_schema,
       coalesce((SELECT array_agg(input_workflow_id ORDER BY input_workflow_id)
                 FROM workflow_input_run WHERE workflow_id = w.id), '{}') AS input_runs
FROM workflow w WHERE w.id = $1;

-- name: workflows_status_and_owner
-- Status and owner of some workflows.
SELECT id, status, owner FROM workflow WHERE id = ANY($1::bigint[]);

-- name: workflows_with_runs_of_instances
-- The workflows of some instances that take finished runs as input.
SELECT DISTINCT ti.workflow_id FROM task_instance ti
WHERE ti.id = ANY($1::bigint[])
  AND EXISTS (SELECT 1 FROM workflow_input_run r WHERE r.workflow_id = ti.workflow_id)
ORDER BY ti.workflow_id;

-- name: input_runs_of
-- The finished runs some workflows take as input (JOBMON_RUNS), by workflow then run id,
-- with the size of each run's outputs as JSON text (what decides whether they fit).
SELECT r.workflow_id, w.id, w.name, w.workflow_args, w.parameters, w.result_schema,
       (SELECT coalesce(sum(octet_length(t.output::text)), 0) FROM task t
        WHERE t.workflow_id = w.id AND t.status = 'D' AND t.output IS NOT NULL
       )::bigint AS outputs_size
FROM workflow_input_run r JOIN workflow w ON w.id = r.input_workflow_id
WHERE r.workflow_id = ANY($1::bigint[])
ORDER BY r.workflow_id, w.id;

-- name: outputs_of_workflows
-- The outputs DONE tasks of some workflows left; with $2, of the tasks so named only.
SELECT workflow_id, id, name, output FROM task
WHERE workflow_id = ANY($1::bigint[]) AND status = 'D' AND output IS NOT NULL
  AND ($2::text[] IS NULL OR name = ANY($2::text[]))
ORDER BY workflow_id, id;
