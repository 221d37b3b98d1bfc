-- The queues of the per-user clusters ("local", "sequential") describe the machine of a
-- user's own distributor: each user's are kept apart, so no user replaces another's.
-- Shared clusters (Slurm) keep one set, owner '', which only an admin replaces.
ALTER TABLE cluster_queue ADD COLUMN owner text NOT NULL DEFAULT '';
ALTER TABLE cluster_queue DROP CONSTRAINT cluster_queue_pkey;
ALTER TABLE cluster_queue ADD PRIMARY KEY (cluster_name, owner, queue_name);

-- The key that signs the credential a worker gets for reporting on its one task
-- instance. The first server to start on the database makes it; replicas share it.
CREATE TABLE server_key (
    id   integer PRIMARY KEY CHECK (id = 1),
    key  bytea NOT NULL CHECK (length(key) >= 32)
);
