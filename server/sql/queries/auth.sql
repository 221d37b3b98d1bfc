-- name: principal_of_token
-- The user behind a token hash, unless the token was revoked.
SELECT u.name, u.is_admin
FROM api_token t JOIN api_user u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL;

-- name: owners_of_workflow
-- The owners of workflows by id.
SELECT id, owner FROM workflow WHERE id = ANY($1::bigint[]);

-- name: owners_of_run
-- The owners of the workflows of runs by id.
SELECT r.id, w.owner FROM workflow_run r JOIN workflow w ON w.id = r.workflow_id
WHERE r.id = ANY($1::bigint[]);

-- name: owners_of_task
-- The owners of the workflows of tasks by id.
SELECT t.id, w.owner FROM task t JOIN workflow w ON w.id = t.workflow_id
WHERE t.id = ANY($1::bigint[]);

-- name: owners_of_instance
-- The owners of the workflows of task instances by id.
SELECT ti.id, w.owner FROM task_instance ti JOIN workflow w ON w.id = ti.workflow_id
WHERE ti.id = ANY($1::bigint[]);

-- name: insert_server_key
-- Keep a new key for worker credentials, unless a server made one already.
INSERT INTO server_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING;

-- name: server_key
-- The key for worker credentials.
SELECT key FROM server_key WHERE id = 1;
