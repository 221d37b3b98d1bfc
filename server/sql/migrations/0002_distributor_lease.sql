-- Jobmon schema, version 2: one distributor daemon per cluster.

-- The daemon that serves a cluster holds its lease and renews it with each heartbeat.
-- A lease whose expires_at passed is free: the next daemon takes it over.
CREATE TABLE distributor_lease (
    cluster_name    text PRIMARY KEY,
    -- a secret of the holding process; renewals and the release must present it
    token           text NOT NULL,
    hostname        text NOT NULL,
    process_id      integer NOT NULL,
    started_at      timestamptz NOT NULL,
    heartbeat_date  timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);

-- A (re)starting distributor adopts the live instances of its cluster by their job ids.
CREATE INDEX task_instance_cluster_live ON task_instance (cluster_name, id)
    WHERE status IN ('O', 'R', 'T', 'K');
