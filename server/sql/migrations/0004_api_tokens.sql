-- Users of a shared server and their API tokens. Only a SHA-256 hash of each token is
-- kept: the token itself is shown once, when it is made.
CREATE TABLE api_user (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    is_admin    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_token (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES api_user (id) ON DELETE CASCADE,
    token_hash   text NOT NULL UNIQUE,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
