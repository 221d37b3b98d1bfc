-- name: acquire_distributor_lease
-- Take or renew a cluster's daemon lease: when free, expired, already ours, or held by the
-- process ($7) that the caller, on the same host, saw die. No row: someone else holds it.
INSERT INTO distributor_lease AS l (cluster_name, token, hostname, process_id, started_at,
                                    heartbeat_date, expires_at)
VALUES ($1, $2, $3, $4, $5, $5, $6)
ON CONFLICT (cluster_name) DO UPDATE
SET token = excluded.token,
    hostname = excluded.hostname,
    process_id = excluded.process_id,
    started_at = CASE WHEN l.token = excluded.token THEN l.started_at
                      ELSE excluded.started_at END,
    heartbeat_date = excluded.heartbeat_date,
    expires_at = excluded.expires_at
WHERE l.token = excluded.token
   OR l.expires_at < excluded.heartbeat_date
   OR (l.hostname = excluded.hostname AND l.process_id = $7::integer)
RETURNING cluster_name, hostname, process_id, started_at, heartbeat_date, expires_at;

-- name: distributor_lease
-- The lease of a cluster, if any.
SELECT cluster_name, hostname, process_id, started_at, heartbeat_date, expires_at
FROM distributor_lease WHERE cluster_name = $1;

-- name: release_distributor_lease
-- A daemon that stops gives its lease back, so the next one need not wait for it to expire.
DELETE FROM distributor_lease WHERE cluster_name = $1 AND token = $2
RETURNING cluster_name;

-- name: live_instances_of_cluster
-- Instances of a cluster a distributor took and that are not over (for adoption), by id.
-- Claimed ones (I) have no cluster id yet: "" (a local plugin may find them started); so
-- have those killed before launch (K), which only a successor can end now.
SELECT id, coalesce(distributor_id, '') AS distributor_id, status, workflow_id,
       workflow_run_id, coalesce(launch_token::text, '') AS launch_token
FROM task_instance
WHERE cluster_name = $1 AND ($2::bigint IS NULL OR workflow_id = $2)
  AND (status IN ('O', 'R', 'T') AND distributor_id IS NOT NULL OR status IN ('I', 'K'))
  AND id > $3
ORDER BY id
LIMIT $4;
