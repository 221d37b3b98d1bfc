-- name: template_resource_usage
-- What the finished instances (D, Z, X, U, F, E) of task template versions ($1) used, over
-- all workflows or only some ($2), and only of tasks whose node args have one of the given
-- values ($3: {"name": ["value", ...]}): per version, the instances and tasks counted, then
-- count, min, mean, median, the $4 percentile, max and standard deviation of the max RSS
-- (bytes) and of the runtime (seconds), zeros (never measured) left out; and what its tasks
-- asked for: cores (absent: 1), the queue its instances used most, its clusters; and
-- whether the version has any task at all, in any workflow.
WITH versions AS (
    SELECT v.id, tt.name
    FROM task_template_version v
    JOIN task_template tt ON tt.id = v.task_template_id
    WHERE v.id = ANY($1::bigint[])
), counted_tasks AS (
    SELECT a.task_template_version_id AS version_id, t.id, t.config_id
    FROM task_array a
    JOIN task t ON t.array_id = a.id
    WHERE a.task_template_version_id = ANY($1::bigint[])
      AND ($2::bigint[] IS NULL OR a.workflow_id = ANY($2::bigint[]))
      AND ($3::jsonb IS NULL OR NOT EXISTS (
          SELECT 1 FROM jsonb_each($3::jsonb) AS wanted (name, allowed)
          WHERE NOT coalesce(wanted.allowed ? (t.args ->> wanted.name), false)))
), used AS (
    SELECT t.version_id, t.id AS task_id, nullif(ti.maxrss, 0)::float8 AS memory,
           nullif(ti.wallclock, 0) AS runtime, ti.compute_resources ->> 'queue' AS queue
    FROM counted_tasks t
    JOIN task_instance ti ON ti.task_id = t.id
    WHERE ti.status IN ('D', 'Z', 'X', 'U', 'F', 'E')
), usage AS (
    SELECT version_id, count(*) AS instances, count(DISTINCT task_id) AS tasks,
           count(memory) AS memory_count, min(memory) AS memory_min,
           avg(memory) AS memory_mean,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY memory) AS memory_median,
           percentile_cont($4::float8) WITHIN GROUP (ORDER BY memory) AS memory_percentile,
           max(memory) AS memory_max, stddev_samp(memory) AS memory_stddev,
           count(runtime) AS runtime_count, min(runtime) AS runtime_min,
           avg(runtime) AS runtime_mean,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY runtime) AS runtime_median,
           percentile_cont($4::float8) WITHIN GROUP (ORDER BY runtime) AS runtime_percentile,
           max(runtime) AS runtime_max, stddev_samp(runtime) AS runtime_stddev,
           mode() WITHIN GROUP (ORDER BY queue) AS queue
    FROM used
    GROUP BY version_id
), requests AS (
    SELECT t.version_id,
           min(r.cores) AS cores_min, max(r.cores) AS cores_max,
           avg(r.cores)::float8 AS cores_mean,
           array_agg(DISTINCT c.cluster_name ORDER BY c.cluster_name) AS clusters
    FROM counted_tasks t
    JOIN task_config c ON c.id = t.config_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN jsonb_typeof(c.compute_resources -> 'cores') = 'number'
                    THEN (c.compute_resources ->> 'cores')::numeric::bigint
                    ELSE 1 END AS cores
    ) r
    GROUP BY t.version_id
)
SELECT v.id, v.name, coalesce(u.instances, 0) AS instances, coalesce(u.tasks, 0) AS tasks,
       EXISTS (SELECT 1 FROM task_array a JOIN task t ON t.array_id = a.id
               WHERE a.task_template_version_id = v.id) AS has_tasks,
       coalesce(u.memory_count, 0) AS memory_count, u.memory_min, u.memory_mean,
       u.memory_median, u.memory_percentile, u.memory_max, u.memory_stddev,
       coalesce(u.runtime_count, 0) AS runtime_count, u.runtime_min, u.runtime_mean,
       u.runtime_median, u.runtime_percentile, u.runtime_max, u.runtime_stddev,
       u.queue, r.cores_min, r.cores_max, r.cores_mean,
       coalesce(r.clusters, '{}') AS clusters
FROM versions v
LEFT JOIN usage u ON u.version_id = v.id
LEFT JOIN requests r ON r.version_id = v.id
ORDER BY v.id;

-- name: template_version_args
-- A task template version's name and node args (to check a node arg filter against).
SELECT v.id, tt.name, v.node_args
FROM task_template_version v
JOIN task_template tt ON tt.id = v.task_template_id
WHERE v.id = $1;

-- name: template_versions_of_workflow
-- The task template versions a workflow uses.
SELECT task_template_version_id FROM task_array WHERE workflow_id = $1
ORDER BY task_template_version_id;

-- name: template_version_of_task
-- The task template version of a task.
SELECT a.task_template_version_id
FROM task t JOIN task_array a ON a.id = t.array_id
WHERE t.id = $1;

-- name: task_resource_usage
-- A task's attempts and where and how long its DONE instance ran, with its max RSS.
SELECT t.id, t.num_attempts, done.id AS instance_id, done.nodename, done.wallclock,
       done.maxrss
FROM task t
LEFT JOIN LATERAL (
    SELECT id, nodename, wallclock, maxrss FROM task_instance
    WHERE task_id = t.id AND status = 'D'
    ORDER BY id DESC LIMIT 1
) done ON true
WHERE t.id = $1;

-- name: file_paths
-- Where the instances of a workflow's tasks wrote stdout and stderr, optionally of one array
-- ($2) or one task name ($3), first tasks first.
SELECT t.id AS task_id, t.name AS task_name, a.name AS array_name,
       ti.id AS task_instance_id, coalesce(ti.stdout_path, '') AS stdout_path,
       coalesce(ti.stderr_path, '') AS stderr_path
FROM task t
JOIN task_array a ON a.id = t.array_id
JOIN task_instance ti ON ti.task_id = t.id
WHERE t.workflow_id = $1
  AND ($2::text = '' OR a.name = $2::text)
  AND ($3::text = '' OR t.name = $3::text)
ORDER BY t.id, ti.id
LIMIT $4;
