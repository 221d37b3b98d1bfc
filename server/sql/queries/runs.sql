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
-- A resume takes over: the workflow's live runs go to C (cold) or H (hot).
WITH taken AS (
    UPDATE workflow_run
    SET status = $2, status_date = $3
    WHERE workflow_id = $1 AND status IN ('G', 'L', 'B', 'I', 'O', 'R')
    RETURNING id
), history AS (
    INSERT INTO workflow_run_status (workflow_run_id, status, status_time, source)
    SELECT id, $2, $3, $4 FROM taken
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
    INSERT INTO workflow_run_status (workflow_run_id, status, status_time, source)
    SELECT id, 'T', $2, 'reaper' FROM ended
)
SELECT id FROM ended;

-- name: reset_tasks_cold
-- Cold resume: every task not DONE starts over with fresh attempts.
UPDATE task
SET status = 'G', num_attempts = 0, error_status = NULL, next_resources = NULL,
    status_date = $2, change_xid = pg_current_xact_id()
WHERE workflow_id = $1 AND status <> 'D'
  AND (status <> 'G' OR num_attempts <> 0);

-- name: reset_tasks_hot
-- Hot resume: tasks not DONE and not in flight start over; in-flight ones are adopted.
UPDATE task
SET status = 'G', num_attempts = 0, error_status = NULL, next_resources = NULL,
    status_date = $2, change_xid = pg_current_xact_id()
WHERE workflow_id = $1 AND status IN ('E', 'A', 'F', 'G')
  AND (status <> 'G' OR num_attempts <> 0);

-- name: kill_workflow_instances
-- Ask distributors to kill every live instance of a workflow (cold resume, stop); if no
-- distributor confirms by report_by ($4), the reaper takes the instance for dead. Returns
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
    INSERT INTO task_instance_status (task_instance_id, status, status_time, source)
    SELECT id, 'K', $2, $3 FROM killed
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
-- Status history rows for a run.
INSERT INTO workflow_run_status (workflow_run_id, status, status_time, source)
SELECT $1, s, $3, $4 FROM unnest($2::text[]) AS s;

-- name: set_workflow_status
-- The workflow's status mirrors its latest run.
UPDATE workflow SET status = $2, status_date = $3 WHERE id = $1 AND status <> $2;

-- name: run_for_update
-- A run and its workflow, locked for a status change.
SELECT r.id, r.workflow_id, r.status, r.owner FROM workflow_run r WHERE r.id = $1 FOR UPDATE;

-- name: run_for_share
-- A run's status, locked against a concurrent takeover while the swarm writes.
SELECT r.id, r.workflow_id, r.status FROM workflow_run r WHERE r.id = $1 FOR SHARE;

-- name: update_run_status
-- Move a run to a new status if the transition table allows it.
WITH moved AS (
    UPDATE workflow_run
    SET status = $2, status_date = $3,
        message = CASE WHEN $5::text <> '' THEN $5 ELSE message END
    WHERE id = $1 AND status = ANY($4::text[])
    RETURNING id
), history AS (
    INSERT INTO workflow_run_status (workflow_run_id, status, status_time, source)
    SELECT id, $2, $3, $6 FROM moved
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

-- name: array_limits
-- The concurrency limit of every array of a workflow.
SELECT id, max_concurrently_running FROM task_array WHERE workflow_id = $1;
