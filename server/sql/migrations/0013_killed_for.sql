-- What a task instance in RESOURCE_ERROR (Z) was killed for: 'memory' or 'runtime' (NULL for
-- any other status). The killer says why in the error (an OOM kill, the local launcher,
-- Slurm's OUT_OF_MEMORY); else what was used decides. One rule for the resource picture's
-- points and its counts (queries/pictures.sql).
CREATE FUNCTION instance_killed_for(status text, error_message text, maxrss float8,
                                    memory_request float8) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN status <> 'Z' THEN NULL
                WHEN error_message ILIKE '%memory%' THEN 'memory'
                WHEN error_message ILIKE '%time%' OR error_message ILIKE '%runtime%'
                    THEN 'runtime'
                WHEN maxrss >= memory_request THEN 'memory'
                ELSE 'runtime' END
$$;
