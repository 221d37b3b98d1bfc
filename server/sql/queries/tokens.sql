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
