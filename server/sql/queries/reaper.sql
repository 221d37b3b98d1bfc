-- name: try_reaper_lock
-- Only the replica holding this session lock runs the reaper.
SELECT pg_try_advisory_lock(hashtextextended('jobmon-reaper', 0));

-- name: overdue_instances
-- Instances whose heartbeat deadline passed.
SELECT id, status FROM task_instance
WHERE status IN ('I', 'O', 'R', 'T', 'K') AND report_by < $1
ORDER BY report_by
LIMIT $2;

-- name: overdue_runs
-- Runs whose swarm stopped heartbeating, in the statuses $3 (server/reaper.py's OVERDUE_RUN).
SELECT id, status FROM workflow_run
WHERE status = ANY($3::text[]) AND report_by < $1
ORDER BY report_by
LIMIT $2;
