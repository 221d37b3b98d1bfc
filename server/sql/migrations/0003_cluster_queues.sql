-- The queues (partitions) of each cluster and their limits, as its distributor reports
-- them; the swarm reads them to scale resources within a queue or move to a fallback.
CREATE TABLE cluster_queue (
    cluster_name         text NOT NULL,
    queue_name           text NOT NULL,
    max_cores            integer,
    max_memory_mib       bigint,
    max_runtime_seconds  bigint,
    is_default           boolean NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL,
    PRIMARY KEY (cluster_name, queue_name)
);
