-- name: forget_queues
-- Drop a cluster's queues (of one user, for a per-user cluster) before the current set.
DELETE FROM cluster_queue WHERE cluster_name = $1 AND owner = $2;

-- name: insert_queues
-- A cluster's queues and their limits (NULL: no limit).
INSERT INTO cluster_queue (cluster_name, owner, queue_name, max_cores, max_memory_mib,
                           max_runtime_seconds, is_default, updated_at)
SELECT $1, $8, q, c, m, r, d, $7
FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bool[]) AS u (q, c, m, r, d);

-- name: queues_of_cluster
-- A cluster's queues (one user's, for a per-user cluster), the default first.
SELECT queue_name, max_cores, max_memory_mib, max_runtime_seconds, is_default
FROM cluster_queue WHERE cluster_name = $1 AND owner = $2
ORDER BY is_default DESC, queue_name;
