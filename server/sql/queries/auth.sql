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

-- name: upsert_api_user
-- Find or create a user; the admin flag follows the latest request.
INSERT INTO api_user (name, is_admin) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET is_admin = EXCLUDED.is_admin
RETURNING id;

-- name: insert_api_token
-- Keep the hash of a new token.
INSERT INTO api_token (user_id, token_hash, description) VALUES ($1, $2, $3) RETURNING id;

-- name: list_api_tokens
-- Every token: its id, user, admin flag, description, and when it was made or revoked.
SELECT t.id, u.name, u.is_admin, t.description, t.created_at, t.revoked_at
FROM api_token t JOIN api_user u ON u.id = t.user_id
ORDER BY t.id;

-- name: revoke_api_token
-- Revoke a token by id.
UPDATE api_token SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id;

-- name: insert_server_key
-- Keep a new key for worker credentials, unless a server made one already.
INSERT INTO server_key (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING;

-- name: server_key
-- The key for worker credentials.
SELECT key FROM server_key WHERE id = 1;
