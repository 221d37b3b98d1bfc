-- name: live_instances_by_cluster
-- Live task instances by cluster and status, for /metrics. Written as two arms so that
-- each is read from its partial index (queued; deadline), not by scanning every instance.
SELECT cluster_name, status, count(*) AS count
FROM task_instance
WHERE status = 'Q' OR status IN ('I', 'O', 'R', 'T', 'K')
GROUP BY cluster_name, status
ORDER BY cluster_name, status;
