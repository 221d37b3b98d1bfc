-- name: claim_instances
-- A distributor takes queued instances of its cluster: Q to I, task Q to I; both recorded,
-- with the user of the claim ($7).
WITH claimed AS (
    SELECT id FROM task_instance
    WHERE status = 'Q' AND cluster_name = $1 AND ($2::bigint IS NULL OR workflow_run_id = $2)
    ORDER BY id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE task_instance ti
    SET status = 'I', status_date = $4, report_by = $5, claim_request_id = $6,
        launch_token = gen_random_uuid()
    FROM claimed
    WHERE ti.id = claimed.id
    RETURNING ti.id, ti.task_id, ti.workflow_id, ti.workflow_run_id, ti.array_id,
              ti.compute_resources, ti.attempt, ti.launch_token
), history AS (
    INSERT INTO task_instance_status (task_instance_id, status, status_time, source, username)
    SELECT id, 'I', $4, 'distributor', $7 FROM moved
), task_moved AS (
    UPDATE task
    SET status = 'I', status_date = $4, change_xid = pg_current_xact_id()
    FROM moved
    WHERE task.id = moved.task_id AND task.status = 'Q' AND task.latest_instance_id = moved.id
    RETURNING task.id, moved.id AS instance_id
), task_history AS (
    INSERT INTO task_status (task_id, status, status_time, source, username, task_instance_id)
    SELECT id, 'I', $4, 'distributor', $7, instance_id FROM task_moved
)
SELECT moved.id, moved.task_id, moved.workflow_id, moved.workflow_run_id, moved.array_id,
       moved.compute_resources, moved.attempt, t.name, t.command, t.context,
       moved.launch_token::text AS launch_token,
       (SELECT count(*) FROM task_moved) AS tasks_moved,
       EXISTS (SELECT 1 FROM edge e WHERE e.workflow_id = moved.workflow_id
               AND e.downstream_task_id = moved.task_id) AS has_upstream,
       EXISTS (SELECT 1 FROM workflow_input_run r
               WHERE r.workflow_id = moved.workflow_id) AS has_runs
FROM moved JOIN task t ON t.id = moved.task_id
ORDER BY moved.id;

-- name: claimed_by_request
-- The instances an earlier claim with this request id took and nobody launched yet; their
-- deadline starts again, as for a new claim.
WITH again AS (
    UPDATE task_instance
    SET report_by = $4
    WHERE claim_request_id = $1 AND status = 'I' AND cluster_name = $2
      AND ($3::bigint IS NULL OR workflow_run_id = $3)
    RETURNING id, task_id, workflow_id, workflow_run_id, array_id, compute_resources, attempt,
              launch_token
)
SELECT again.id, again.task_id, again.workflow_id, again.workflow_run_id, again.array_id,
       again.compute_resources, again.attempt, t.name, t.command, t.context,
       coalesce(again.launch_token::text, '') AS launch_token,
       EXISTS (SELECT 1 FROM edge e WHERE e.workflow_id = again.workflow_id
               AND e.downstream_task_id = again.task_id) AS has_upstream,
       EXISTS (SELECT 1 FROM workflow_input_run r
               WHERE r.workflow_id = again.workflow_id) AS has_runs
FROM again JOIN task t ON t.id = again.task_id
ORDER BY again.id;

-- name: kill_orders
-- Instances a distributor must kill (status K) on its cluster, or of its run.
SELECT id, distributor_id, status FROM task_instance
WHERE status = 'K' AND cluster_name = $1 AND ($2::bigint IS NULL OR workflow_run_id = $2)
ORDER BY id
LIMIT 10000;

-- name: update_instances
-- Move instances to one status, where the transition table allows; fill in what is given.
-- With $17 (the status they passed through, RUNNING for a command that started and ended
-- within one report), $14 lists where that one may be entered from, and the history
-- records both steps, in order, with the user of the report ($18) and the reason of an
-- error, if one is given.
WITH given AS (
    SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[],
                         $7::text[], $8::bigint[], $9::float8[], $10::text[], $11::text[],
                         $12::float8[])
        AS g (id, distributor_id, nodename, process_id, exit_code, stderr_tail, error_message,
              maxrss, wallclock, stdout_path, stderr_path, next_report)
), moved AS (
    UPDATE task_instance ti
    SET status = $13,
        status_date = $15,
        distributor_id = coalesce(g.distributor_id, ti.distributor_id),
        nodename = coalesce(g.nodename, ti.nodename),
        process_id = coalesce(g.process_id, ti.process_id),
        exit_code = coalesce(g.exit_code, ti.exit_code),
        stderr_tail = coalesce(g.stderr_tail, ti.stderr_tail),
        error_message = coalesce(g.error_message, ti.error_message),
        maxrss = coalesce(g.maxrss, ti.maxrss),
        wallclock = coalesce(g.wallclock, ti.wallclock),
        stdout_path = coalesce(g.stdout_path, ti.stdout_path),
        stderr_path = coalesce(g.stderr_path, ti.stderr_path),
        submitted_date = CASE WHEN $13 = 'O' THEN $15 ELSE ti.submitted_date END,
        report_by = CASE
            WHEN g.next_report IS NOT NULL THEN $15 + make_interval(secs => g.next_report)
            WHEN $13 IN ('O', 'R', 'T') THEN ti.report_by
            ELSE NULL END
    FROM given g
    WHERE ti.id = g.id AND ti.status = ANY($14::text[])
    RETURNING ti.id, ti.task_id, g.error_message
), history AS (
    INSERT INTO task_instance_status (task_instance_id, status, status_time, source, username,
                                      context)
    SELECT moved.id, step.status, $15, $16, $18,
           CASE WHEN moved.error_message IS NOT NULL AND step.status = $13
                THEN jsonb_build_object('reason', moved.error_message) END
    FROM moved,
         unnest(CASE WHEN $17::text IS NULL THEN ARRAY[$13::text] ELSE ARRAY[$17, $13] END)
             WITH ORDINALITY AS step (status, n)
    ORDER BY moved.id, step.n
)
SELECT id, task_id FROM moved;

-- name: tasks_follow_instances
-- The tasks of moved instances follow them, if the instance is the task's latest; each move
-- is recorded with the instance, the source ($7) and user ($8) of the report.
WITH moved AS (
    UPDATE task
    SET status = $3, status_date = $5, change_xid = pg_current_xact_id(),
        error_status = CASE WHEN $3 = 'E' THEN $6 ELSE NULL END
    FROM unnest($1::bigint[], $2::bigint[]) AS m (task_id, instance_id)
    WHERE task.id = m.task_id AND task.latest_instance_id = m.instance_id
      AND task.status = ANY($4::text[])
    RETURNING task.id, m.instance_id
)
INSERT INTO task_status (task_id, status, status_time, source, username, task_instance_id)
SELECT id, $3, $5, $7, $8, instance_id FROM moved;

-- name: save_task_payloads
-- Keep what instances left in JOBMON_OUTPUT and JOBMON_CONTEXT.
UPDATE task
SET output = coalesce(p.output, task.output),
    context = coalesce(p.context, task.context)
FROM unnest($1::bigint[], $2::jsonb[], $3::jsonb[]) AS p (task_id, output, context)
WHERE task.id = p.task_id;

-- name: instance_statuses
-- Current statuses of instances.
SELECT id, status FROM task_instance WHERE id = ANY($1::bigint[]);

-- name: instance_heartbeat
-- Live instances push their deadlines out; returns the statuses of all those sent.
WITH beat AS (
    UPDATE task_instance ti
    SET report_by = b.report_by
    FROM unnest($1::bigint[], $2::timestamptz[]) AS b (id, report_by)
    WHERE ti.id = b.id AND ti.status IN ('I', 'O', 'R', 'T')
    RETURNING ti.id
)
SELECT ti.id, ti.status FROM task_instance ti WHERE ti.id = ANY($1::bigint[]);

-- name: instance_info
-- One instance with what a worker needs to run it.
SELECT ti.id, ti.task_id, ti.workflow_id, ti.workflow_run_id, ti.status, ti.compute_resources,
       ti.attempt, t.name, t.command, t.context,
       coalesce(ti.launch_token::text, '') AS launch_token,
       EXISTS (SELECT 1 FROM edge e WHERE e.workflow_id = ti.workflow_id
               AND e.downstream_task_id = ti.task_id) AS has_upstream,
       EXISTS (SELECT 1 FROM workflow_input_run r
               WHERE r.workflow_id = ti.workflow_id) AS has_runs
FROM task_instance ti JOIN task t ON t.id = ti.task_id
WHERE ti.id = $1;
