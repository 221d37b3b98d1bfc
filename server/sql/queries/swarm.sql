-- name: tasks_to_fatal
-- Attempts used up: E to F, recorded for the swarm of run $5 and its user ($4).
WITH moved AS (
    UPDATE task SET status = 'F', status_date = $3, change_xid = pg_current_xact_id()
    WHERE workflow_id = $1 AND id = ANY($2::bigint[]) AND status = 'E'
    RETURNING id, latest_instance_id
)
INSERT INTO task_status (task_id, status, status_time, source, username, task_instance_id,
                         context)
SELECT id, 'F', $3, 'swarm', $4, latest_instance_id,
       jsonb_build_object('run', $5::bigint, 'reason', 'attempts used up')
FROM moved;

-- name: tasks_to_adjusting
-- A resource error: E to A; the next attempt gets scaled resources. Recorded as above.
WITH moved AS (
    UPDATE task SET status = 'A', status_date = $3, change_xid = pg_current_xact_id()
    WHERE workflow_id = $1 AND id = ANY($2::bigint[]) AND status = 'E'
    RETURNING id, latest_instance_id
)
INSERT INTO task_status (task_id, status, status_time, source, username, task_instance_id,
                         context)
SELECT id, 'A', $3, 'swarm', $4, latest_instance_id,
       jsonb_build_object('run', $5::bigint, 'reason', 'resource error')
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

-- name: task_changes
-- Tasks of a workflow changed by transactions the cursor snapshot could not see.
SELECT id, status, num_attempts, error_status
FROM task
WHERE workflow_id = $1
  AND change_xid >= pg_snapshot_xmin($2::text::pg_snapshot)
  AND NOT pg_visible_in_snapshot(change_xid, $2::text::pg_snapshot);
