-- name: resource_points
-- The finished instances (D, Z, X, U, F, E, as the usage counts them) of a workflow's
-- templates: what each used and asked for (memory in bytes, runtime in seconds), and what it
-- was killed for; at most $2 per template, spread evenly over its instances by id.
WITH finished AS (
    SELECT ti.id, ti.task_id, ti.array_id, ti.status, ti.maxrss, ti.wallclock,
           CASE WHEN jsonb_typeof(ti.compute_resources -> 'memory') = 'number'
                THEN (ti.compute_resources ->> 'memory')::float8 * 1048576 END AS memory_request,
           CASE WHEN jsonb_typeof(ti.compute_resources -> 'runtime') = 'number'
                THEN (ti.compute_resources ->> 'runtime')::float8 END AS runtime_request,
           ti.error_message,
           row_number() OVER (PARTITION BY ti.array_id ORDER BY ti.id) AS position,
           count(*) OVER (PARTITION BY ti.array_id) AS total
    FROM task_instance ti
    WHERE ti.workflow_id = $1 AND ti.status IN ('D', 'Z', 'X', 'U', 'F', 'E')
)
SELECT id, task_id, array_id, status, nullif(maxrss, 0) AS maxrss,
       nullif(wallclock, 0) AS wallclock, memory_request, runtime_request,
       instance_killed_for(status, error_message, maxrss, memory_request) AS killed_for
FROM finished
WHERE (position - 1) % greatest(1, ceil(total::float8 / $2)::bigint) = 0
ORDER BY array_id, id;

-- name: resource_point_counts
-- Per template of a workflow: its finished instances, those killed for memory or for time,
-- and those that used under a fifth of the memory or of the runtime they asked for.
WITH finished AS (
    SELECT ti.array_id, ti.status, ti.error_message, nullif(ti.maxrss, 0) AS maxrss,
           nullif(ti.wallclock, 0) AS wallclock,
           CASE WHEN jsonb_typeof(ti.compute_resources -> 'memory') = 'number'
                THEN (ti.compute_resources ->> 'memory')::float8 * 1048576 END AS memory_request,
           CASE WHEN jsonb_typeof(ti.compute_resources -> 'runtime') = 'number'
                THEN (ti.compute_resources ->> 'runtime')::float8 END AS runtime_request
    FROM task_instance ti
    WHERE ti.workflow_id = $1 AND ti.status IN ('D', 'Z', 'X', 'U', 'F', 'E')
), judged AS (
    SELECT *, instance_killed_for(status, error_message, maxrss, memory_request) AS killed_for
    FROM finished
)
SELECT a.id AS array_id, a.task_template_version_id, tt.name AS template_name,
       count(j.status) AS finished,
       count(*) FILTER (WHERE j.killed_for = 'memory') AS killed_memory,
       count(*) FILTER (WHERE j.killed_for = 'runtime') AS killed_runtime,
       count(*) FILTER (WHERE j.maxrss < 0.2 * j.memory_request) AS under_fifth_memory,
       count(*) FILTER (WHERE j.wallclock < 0.2 * j.runtime_request) AS under_fifth_runtime
FROM task_array a
JOIN task_template_version v ON v.id = a.task_template_version_id
JOIN task_template tt ON tt.id = v.task_template_id
LEFT JOIN judged j ON j.array_id = a.id
WHERE a.workflow_id = $1
GROUP BY a.id, a.task_template_version_id, tt.name
ORDER BY a.id;

-- name: timeline_run
-- The run a timeline shows: $2, or the workflow's latest when $2 is 0.
SELECT id, status FROM workflow_run
WHERE workflow_id = $1 AND ($2::bigint = 0 OR id = $2)
ORDER BY id DESC LIMIT 1;

-- name: timeline_count
-- How many instances of a run ran, and when the first started and the last ended ($2: now,
-- for those still going).
WITH ran AS (
    SELECT ti.id, ti.status, ti.status_date, min(s.status_time) AS started
    FROM task_instance ti
    JOIN task_instance_status s ON s.task_instance_id = ti.id AND s.status = 'R'
    WHERE ti.workflow_run_id = $1
    GROUP BY ti.id
)
SELECT count(*) AS instances, min(started) AS start,
       max(CASE WHEN status IN ('Q', 'I', 'O', 'R', 'T', 'K') THEN $2::timestamptz
                ELSE greatest(status_date, started) END) AS "end"
FROM ran;

-- name: timeline_bars
-- Every instance of a run that ran: from its first RUNNING to its end (NULL while it is
-- still live), by template, in the order they started.
SELECT ti.id, ti.task_id, ti.array_id, ti.status, min(s.status_time) AS started,
       CASE WHEN ti.status IN ('Q', 'I', 'O', 'R', 'T', 'K') THEN NULL
            ELSE greatest(ti.status_date, min(s.status_time)) END AS ended
FROM task_instance ti
JOIN task_instance_status s ON s.task_instance_id = ti.id AND s.status = 'R'
WHERE ti.workflow_run_id = $1
GROUP BY ti.id
ORDER BY ti.array_id, started, ti.id;

-- name: timeline_running
-- The same instances as counts: the run from $2 to $3 cut into $4 slices, and per template
-- and slice how many instances ran at some time in it (those running when it began and
-- those that started in it); $5 is now, the end of those still going.
WITH ran AS (
    SELECT ti.array_id, min(s.status_time) AS started,
           CASE WHEN ti.status IN ('Q', 'I', 'O', 'R', 'T', 'K') THEN $5::timestamptz
                ELSE greatest(ti.status_date, min(s.status_time)) END AS ended
    FROM task_instance ti
    JOIN task_instance_status s ON s.task_instance_id = ti.id AND s.status = 'R'
    WHERE ti.workflow_run_id = $1
    GROUP BY ti.id
), slices AS (
    SELECT array_id,
           least($4, width_bucket(extract(epoch FROM started),
                                  extract(epoch FROM $2::timestamptz),
                                  extract(epoch FROM $3::timestamptz) + 1e-6, $4)) AS began,
           least($4, width_bucket(extract(epoch FROM ended),
                                  extract(epoch FROM $2::timestamptz),
                                  extract(epoch FROM $3::timestamptz) + 1e-6, $4)) AS stopped
    FROM ran
), moves AS (
    SELECT array_id, began AS slice, 1 AS starts, 0 AS stops FROM slices
    UNION ALL
    -- an instance that ended in a slice still ran in it: it stops counting from the next
    SELECT array_id, stopped + 1, 0, 1 FROM slices WHERE stopped < $4
), grid AS (
    SELECT a.array_id, g.slice, coalesce(sum(m.starts), 0) AS starts,
           coalesce(sum(m.stops), 0) AS stops
    FROM (SELECT DISTINCT array_id FROM slices) a
    CROSS JOIN generate_series(1, $4) AS g (slice)
    LEFT JOIN moves m ON m.array_id = a.array_id AND m.slice = g.slice
    GROUP BY a.array_id, g.slice
)
SELECT array_id, array_agg(running::integer ORDER BY slice) AS counts,
       sum(starts)::bigint AS instances
FROM (
    SELECT array_id, slice, starts,
           sum(starts - stops) OVER (PARTITION BY array_id ORDER BY slice) AS running
    FROM grid
) counted
GROUP BY array_id
ORDER BY array_id;

-- name: set_template_concurrency
-- Change the limit of an array of a workflow (by id, or by its template's name: each
-- version of it the workflow uses); the
-- swarm's change poll is woken so that it applies the limit at once. Recorded as an
-- operator action of user $6 at $5 on the workflow, with the limit before and after, if
-- it changed (a retried request changes nothing the second time).
WITH found AS (
    SELECT a.id, tt.name, a.max_concurrently_running AS was
    FROM task_array a
    JOIN task_template_version v ON v.id = a.task_template_version_id
    JOIN task_template tt ON tt.id = v.task_template_id
    WHERE a.workflow_id = $1 AND (a.id = $2 OR ($2 = 0 AND tt.name = $3))
    FOR NO KEY UPDATE OF a
), changed AS (
    UPDATE task_array a SET max_concurrently_running = $4
    FROM found WHERE a.id = found.id
    RETURNING a.id, found.name, found.was
), history AS (
    INSERT INTO workflow_status (workflow_id, status, status_time, source, username, action,
                                 context)
    SELECT w.id, w.status, $5, 'operator', $6, 'concurrency',
           jsonb_build_object('template', c.name, 'array', c.id, 'from', c.was, 'to', $4::int)
    FROM changed c JOIN workflow w ON w.id = $1
    WHERE c.was <> $4
)
SELECT id, name, pg_notify('jobmon_task', $1::text) FROM changed ORDER BY id;

-- name: template_names_of_workflow
-- The template names of a workflow's arrays, for an error that lists them.
SELECT tt.name
FROM task_array a
JOIN task_template_version v ON v.id = a.task_template_version_id
JOIN task_template tt ON tt.id = v.task_template_id
WHERE a.workflow_id = $1
ORDER BY tt.name;
