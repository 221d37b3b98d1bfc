-- name: lock_workflow
-- Lock a workflow while its runs change; returns what run creation checks.
SELECT id, name, status, bound, owner, max_concurrently_running FROM workflow
WHERE id = $1 FOR UPDATE;

-- name: run_by_request_id
-- The run a retried create request already made.
SELECT id, status FROM workflow_run WHERE request_id = $1;

-- name: workflow_run_summary
-- How many runs a workflow had, its latest one, and how many tasks are not DONE.
SELECT (SELECT count(*) FROM workflow_run WHERE workflow_id = $1) AS num_runs,
       (SELECT id FROM workflow_run WHERE workflow_id = $1 ORDER BY id DESC LIMIT 1) AS latest_id,
       (SELECT status FROM workflow_run WHERE workflow_id = $1 ORDER BY id DESC LIMIT 1)
           AS latest_status,
       (SELECT count(*) FROM task WHERE workflow_id = $1 AND status <> 'D') AS not_done;

-- name: takeover_runs
-- A resume takes over: the workflow's live runs go to C (cold) or H (hot); recorded with
-- the source ($4) and user ($5) of the resume.
WITH taken AS (
    UPDATE workflow_run
    SET status = $2, status_date = $3
    WHERE workflow_id = $1 AND status IN ('G', 'L', 'B', 'I', 'O', 'R')
    RETURNING id
), history AS (
    INSERT INTO workflow_run_status (workflow_run_id, status, status_time, source, username,
                                     context)
    SELECT id, $2, $3, $4, $5, jsonb_build_object('reason', 'a resume took over') FROM taken
)
SELECT id FROM taken;

-- name: terminate_lost_resumed_runs
-- Runs told to resume whose swarm stopped heartbeating are over: T.
WITH ended AS (
    UPDATE workflow_run
    SET status = 'T', status_date = $2
    WHERE workflow_id = $1 AND status IN ('C', 'H') AND report_by < $2
    RETURNING id
), history AS (
    INSERT INTO workflow_run_status (workflow_run_id, status, status_time, source, context)
    SELECT id, 'T', $2, 'reaper',
           jsonb_build_object('reason', 'told to resume, it stopped heartbeating')
    FROM ended
)
SELECT id FROM ended;

-- name: reset_tasks_cold
-- Cold resume: every task not DONE starts over with fresh attempts; recorded with the
-- source ($3), user ($4) and context ($5) of the resume.
WITH reset AS (
    UPDATE task
    SET status = 'G', num_attempts = 0, error_status = NULL, next_resources = NULL,
        status_date = $2, change_xid = pg_current_xact_id()
    WHERE workflow_id = $1 AND status <> 'D'
      AND (status <> 'G' OR num_attempts <> 0)
    RETURNING id
)
INSERT INTO task_status (task_id, status, status_time, source, username, context)
SELECT id, 'G', $2, $3, $4, $5::jsonb FROM reset;

-- name: reset_tasks_hot
-- Hot resume: tasks not DONE and not in flight start over; in-flight ones are adopted.
-- Recorded as for a cold resume.
WITH reset AS (
    UPDATE task
    SET status = 'G', num_attempts = 0, error_status = NULL, next_resources = NULL,
        status_date = $2, change_xid = pg_current_xact_id()
    WHERE workflow_id = $1 AND status IN ('E', 'A', 'F', 'G')
      AND (status <> 'G' OR num_attempts <> 0)
    RETURNING id
)
INSERT INTO task_status (task_id, status, status_time, source, username, context)
SELECT id, 'G', $2, $3, $4, $5::jsonb FROM reset;

-- name: kill_workflow_instances
-- Ask distributors to kill every live instance of a workflow (cold resume, stop); if no
-- distributor confirms by report_by ($4), the reaper takes the instance for dead. Recorded
-- with the source ($3), user ($5) and context ($6) of the request. Returns
-- each instance with the status it had: one still queued (Q) was never claimed, so no
-- distributor will confirm its kill, and the caller ends it at once.
WITH live AS (
    SELECT id, status FROM task_instance
    WHERE workflow_id = $1 AND status IN ('Q', 'I', 'O', 'R', 'T')
    FOR UPDATE
), killed AS (
    UPDATE task_instance ti
    SET status = 'K', status_date = $2, report_by = $4
    FROM live
    WHERE ti.id = live.id
    RETURNING ti.id, live.status AS was
), history AS (
    INSERT INTO task_instance_status (task_instance_id, status, status_time, source, username,
                                      context)
    SELECT id, 'K', $2, $3, $5, $6::jsonb FROM killed
)
SELECT id, was FROM killed;

-- name: adopt_instances
-- Hot resume: queued instances of earlier runs go to the new run's distributor; launched
-- ones stay with the distributor that runs them, which finishes them and reports.
UPDATE task_instance SET workflow_run_id = $2
WHERE workflow_id = $1 AND status = 'Q';

-- name: insert_run
-- A new run, already linked and bound to its workflow.
INSERT INTO workflow_run (workflow_id, owner, status, jobmon_version, request_id, created_at,
                          status_date, heartbeat_date, report_by)
VALUES ($1, $2, 'B', $3, $4, $5, $5, $5, $6)
RETURNING id;

-- name: insert_run_history
-- Status history rows for a run, by the source ($4) and user ($5) that made it.
INSERT INTO workflow_run_status (workflow_run_id, status, status_time, source, username)
SELECT $1, s, $3, $4, $5 FROM unnest($2::text[]) WITH ORDINALITY AS steps (s, n) ORDER BY n;

-- name: set_workflow_status
-- The workflow's status mirrors its latest run ($4); recorded with the source ($5) and user
-- ($6) of the change, and its context ($7).
WITH moved AS (
    UPDATE workflow SET status = $2, status_date = $3 WHERE id = $1 AND status <> $2
    RETURNING id
)
INSERT INTO workflow_status (workflow_id, workflow_run_id, status, status_time, source,
                             username, context)
SELECT id, $4, $2, $3, $5, $6, $7::jsonb FROM moved;

-- name: run_for_update
-- A run and its workflow, locked for a status change.
SELECT r.id, r.workflow_id, r.status, r.owner FROM workflow_run r WHERE r.id = $1 FOR UPDATE;

-- name: run_for_share
-- A run's status, locked against a concurrent takeover while the swarm writes.
SELECT r.id, r.workflow_id, r.status FROM workflow_run r WHERE r.id = $1 FOR SHARE;

-- name: update_run_status
-- Move a run to a new status if the transition table allows it; recorded with the source
-- ($6), user ($7) and the message as its reason.
WITH moved AS (
    UPDATE workflow_run
    SET status = $2, status_date = $3,
        message = CASE WHEN $5::text <> '' THEN $5 ELSE message END
    WHERE id = $1 AND status = ANY($4::text[])
    RETURNING id
), history AS (
    INSERT INTO workflow_run_status (workflow_run_id, status, status_time, source, username,
                                     context)
    SELECT id, $2, $3, $6, $7,
           CASE WHEN $5::text <> '' THEN jsonb_build_object('reason', $5::text) END
    FROM moved
)
SELECT count(*) FROM moved;

-- name: run_heartbeat
-- The swarm is alive; returns what it must know (a resume turns its status to C or H).
UPDATE workflow_run r
SET heartbeat_date = $2, report_by = $3
FROM workflow w
WHERE r.id = $1 AND w.id = r.workflow_id
RETURNING r.status, w.max_concurrently_running;

-- name: run_state
-- A run's status and its workflow's limits.
SELECT r.status, r.workflow_id, w.max_concurrently_running
FROM workflow_run r JOIN workflow w ON w.id = r.workflow_id
WHERE r.id = $1;

-- name: run_has_live_instances
-- Whether an instance of a run is in one of the statuses $2 (those that may still end).
SELECT EXISTS (
    SELECT 1 FROM task_instance WHERE workflow_run_id = $1 AND status = ANY($2::text[])
);

-- name: array_limits
-- The concurrency limit of every array of a workflow.
SELECT id, max_concurrently_running FROM task_array WHERE workflow_id = $1;

-- name: task_states
-- Some tasks of a workflow as they are now (those a schedule request could not queue).
SELECT id, status, num_attempts, error_status
FROM task WHERE workflow_id = $1 AND id = ANY($2::bigint[]) ORDER BY id;

-- name: count_not_done
-- How many tasks of a workflow are not DONE.
SELECT count(*) FROM task WHERE workflow_id = $1 AND status <> 'D';

-- name: tasks_from_error
-- E to $6: to F when attempts are used up, to A after a resource error (the next attempt
-- gets scaled resources); recorded with reason $7 for the swarm of run $5 and its user ($4).
WITH moved AS (
    UPDATE task SET status = $6, status_date = $3, change_xid = pg_current_xact_id()
    WHERE workflow_id = $1 AND id = ANY($2::bigint[]) AND status = 'E'
    RETURNING id, latest_instance_id
)
INSERT INTO task_status (task_id, status, status_time, source, username, task_instance_id,
                         context)
SELECT id, $6, $3, 'swarm', $4, latest_instance_id,
       jsonb_build_object('run', $5::bigint, 'reason', $7::text)
FROM moved;

-- name: queue_tasks
-- G, A or E to Q: count the attempt and reserve the id of its instance; recorded for the
-- swarm and its user ($5), with the new instance.
WITH queued AS (
    UPDATE task
    SET status = 'Q', num_attempts = num_attempts + 1, status_date = $3,
        change_xid = pg_current_xact_id(),
        latest_instance_id = nextval(pg_get_serial_sequence('task_instance', 'id')),
        next_resources = coalesce($4::jsonb, next_resources)
    WHERE workflow_id = $1 AND id = ANY($2::bigint[]) AND status IN ('G', 'A', 'E')
    RETURNING id, latest_instance_id, array_id, num_attempts, config_id, next_resources
), history AS (
    INSERT INTO task_status (task_id, status, status_time, source, username, task_instance_id)
    SELECT id, 'Q', $3, 'swarm', $5, latest_instance_id FROM queued
)
SELECT id, latest_instance_id, array_id, num_attempts, config_id, next_resources FROM queued;

-- name: insert_queued_instances
-- The queued tasks' instances, with the resources of this attempt.
WITH inserted AS (
    INSERT INTO task_instance (id, task_id, workflow_id, workflow_run_id, array_id, cluster_name,
                               compute_resources, attempt, status, status_date)
    SELECT q.instance_id, q.task_id, $1, $2, q.array_id, c.cluster_name,
           coalesce(q.resources, c.compute_resources), q.attempt, 'Q', $3
    FROM unnest($4::bigint[], $5::bigint[], $6::bigint[], $7::int[], $8::bigint[], $9::jsonb[])
        AS q (task_id, instance_id, array_id, attempt, config_id, resources)
    JOIN task_config c ON c.id = q.config_id
    RETURNING id
)
INSERT INTO task_instance_status (task_instance_id, status, status_time, source, username)
SELECT id, 'Q', $3, 'swarm', $10 FROM inserted;

-- name: current_snapshot
-- The change cursor: a snapshot; later reads return what it could not see.
SELECT pg_current_snapshot()::text;

-- name: run_changes
-- A run's status and its workflow's limits, a new change cursor, the tasks of the workflow
-- changed by transactions the cursor $2 could not see (none without a cursor), as columns,
-- and the limits of its arrays. One statement, so one snapshot, which the new cursor is:
-- later reads return what it could not see. (All aggregates of a query level read their
-- rows in the same order, so the columns line up.)
SELECT r.status, w.max_concurrently_running, pg_current_snapshot()::text AS cursor,
       changed.ids, changed.statuses, changed.attempts, changed.error_statuses,
       arrays.ids AS array_ids, arrays.limits AS array_limits
FROM workflow_run r
JOIN workflow w ON w.id = r.workflow_id
CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(t.id), '{}') AS ids,
           coalesce(array_agg(t.status), '{}') AS statuses,
           coalesce(array_agg(t.num_attempts), '{}') AS attempts,
           coalesce(array_agg(t.error_status), '{}') AS error_statuses
    FROM task t
    WHERE $2::text <> '' AND t.workflow_id = r.workflow_id
      AND t.change_xid >= pg_snapshot_xmin(nullif($2::text, '')::pg_snapshot)
      AND NOT pg_visible_in_snapshot(t.change_xid, nullif($2::text, '')::pg_snapshot)
) changed
CROSS JOIN LATERAL (
    SELECT coalesce(array_agg(a.id), '{}') AS ids,
           coalesce(array_agg(a.max_concurrently_running), '{}') AS limits
    FROM task_array a
    WHERE a.workflow_id = r.workflow_id
) arrays
WHERE r.id = $1;

-- name: status_of_workflow
-- A workflow's status, as its run's change left it.
SELECT status FROM workflow WHERE id = $1;

-- name: newest_run_id
-- The id of a workflow's newest run: the one its status follows.
SELECT max(id) FROM workflow_run WHERE workflow_id = $1;
