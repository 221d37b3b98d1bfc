-- Jobmon schema, version 1.
-- Status columns hold the one-letter codes of jobmon/status.py.

CREATE TABLE tool (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tool_version (
    id          bigserial PRIMARY KEY,
    tool_id     bigint NOT NULL REFERENCES tool (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tool_version_tool ON tool_version (tool_id);

CREATE TABLE task_template (
    id       bigserial PRIMARY KEY,
    tool_id  bigint NOT NULL REFERENCES tool (id) ON DELETE CASCADE,
    name     text NOT NULL,
    UNIQUE (tool_id, name)
);

CREATE TABLE task_template_version (
    id                bigserial PRIMARY KEY,
    task_template_id  bigint NOT NULL REFERENCES task_template (id) ON DELETE CASCADE,
    command_template  text NOT NULL,
    node_args         text[] NOT NULL,
    task_args         text[] NOT NULL,
    op_args           text[] NOT NULL,
    -- identifies the version: the command template and the three arg lists
    version_hash      text NOT NULL,
    UNIQUE (task_template_id, version_hash)
);

CREATE TABLE workflow (
    id                        bigserial PRIMARY KEY,
    tool_version_id           bigint NOT NULL REFERENCES tool_version (id),
    name                      text NOT NULL,
    workflow_args             text NOT NULL,
    workflow_args_hash        text NOT NULL,
    task_hash                 text NOT NULL,
    description               text NOT NULL DEFAULT '',
    owner                     text NOT NULL,
    status                    text NOT NULL DEFAULT 'G',
    max_concurrently_running  integer NOT NULL,
    num_tasks                 integer NOT NULL,
    default_cluster_name      text NOT NULL DEFAULT '',
    -- every task and edge has been written (the bind's last step)
    bound                     boolean NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL,
    status_date               timestamptz NOT NULL,
    UNIQUE (tool_version_id, workflow_args_hash)
);
CREATE INDEX workflow_owner ON workflow (owner, id);
CREATE INDEX workflow_status_date ON workflow (status, status_date);

-- One array per task template version in a workflow: tasks that can share a
-- cluster job array and a concurrency limit.
CREATE TABLE task_array (
    id                        bigserial PRIMARY KEY,
    workflow_id               bigint NOT NULL REFERENCES workflow (id) ON DELETE CASCADE,
    task_template_version_id  bigint NOT NULL REFERENCES task_template_version (id),
    name                      text NOT NULL,
    max_concurrently_running  integer NOT NULL,
    UNIQUE (workflow_id, task_template_version_id)
);

-- Settings shared by many tasks of a workflow (deduplicated by hash).
CREATE TABLE task_config (
    id                 bigserial PRIMARY KEY,
    workflow_id        bigint NOT NULL REFERENCES workflow (id) ON DELETE CASCADE,
    config_hash        text NOT NULL,
    cluster_name       text NOT NULL,
    compute_resources  jsonb NOT NULL,
    resource_scales    jsonb NOT NULL,
    fallback_queues    jsonb NOT NULL,
    max_attempts       integer NOT NULL,
    UNIQUE (workflow_id, config_hash)
);

-- The hot tables (task, edge, task_instance, task_instance_status) have no foreign keys:
-- at a million rows the per-row checks cost more than the bind itself. The server is
-- their only writer and checks ids itself; deleting a workflow deletes them explicitly.
CREATE TABLE task (
    id                  bigserial PRIMARY KEY,
    workflow_id         bigint NOT NULL,
    -- arrays and configs are checked on insert and deleted with the workflow; no foreign
    -- keys here, so bind writes and workflow deletes do not pay for checks per row
    array_id            bigint NOT NULL,
    config_id           bigint NOT NULL,
    node_args_hash      bigint NOT NULL,
    task_args_hash      bigint NOT NULL,
    name                text NOT NULL,
    command             text NOT NULL,
    args                jsonb NOT NULL,
    max_attempts        integer NOT NULL,
    num_attempts        integer NOT NULL DEFAULT 0,
    status              text NOT NULL DEFAULT 'G',
    status_date         timestamptz NOT NULL,
    -- the transaction of the last status change: the swarm's change cursor
    change_xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    latest_instance_id  bigint,
    -- the instance status behind the latest E (Z means a resource error)
    error_status        text,
    -- resources of the next attempt, when scaled after a resource error
    next_resources      jsonb,
    output              jsonb,
    context             jsonb,
    UNIQUE (array_id, node_args_hash, task_args_hash)
);
CREATE INDEX task_changes ON task (workflow_id, change_xid);
CREATE INDEX task_workflow ON task (workflow_id, id);

CREATE TABLE edge (
    workflow_id         bigint NOT NULL,
    upstream_task_id    bigint NOT NULL,
    downstream_task_id  bigint NOT NULL,
    PRIMARY KEY (workflow_id, downstream_task_id, upstream_task_id)
);
CREATE INDEX edge_upstream ON edge (upstream_task_id);

CREATE TABLE workflow_run (
    id              bigserial PRIMARY KEY,
    workflow_id     bigint NOT NULL REFERENCES workflow (id) ON DELETE CASCADE,
    owner           text NOT NULL,
    status          text NOT NULL,
    jobmon_version  text NOT NULL DEFAULT '',
    -- the client's request id: a retried create returns the same run
    request_id      text UNIQUE,
    message         text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    status_date     timestamptz NOT NULL,
    heartbeat_date  timestamptz NOT NULL,
    report_by       timestamptz NOT NULL
);
CREATE INDEX workflow_run_workflow ON workflow_run (workflow_id, id);
-- at most one run drives a workflow at a time
CREATE UNIQUE INDEX workflow_run_one_active ON workflow_run (workflow_id)
    WHERE status IN ('G', 'L', 'B', 'I', 'O', 'R');
CREATE INDEX workflow_run_report_by ON workflow_run (report_by)
    WHERE status IN ('G', 'L', 'B', 'I', 'O', 'R', 'C', 'H');

CREATE TABLE workflow_run_status (
    id               bigserial PRIMARY KEY,
    workflow_run_id  bigint NOT NULL REFERENCES workflow_run (id) ON DELETE CASCADE,
    status           text NOT NULL,
    status_time      timestamptz NOT NULL,
    source           text NOT NULL
);
CREATE INDEX workflow_run_status_run ON workflow_run_status (workflow_run_id);

CREATE TABLE task_instance (
    id                 bigserial PRIMARY KEY,
    task_id            bigint NOT NULL,
    workflow_id        bigint NOT NULL,
    workflow_run_id    bigint NOT NULL,
    array_id           bigint NOT NULL,
    cluster_name       text NOT NULL,
    compute_resources  jsonb NOT NULL,
    attempt            integer NOT NULL,
    status             text NOT NULL,
    status_date        timestamptz NOT NULL,
    submitted_date     timestamptz,
    report_by          timestamptz,
    -- the cluster's job id ("123" or "123_4" for an array task)
    distributor_id     text,
    nodename           text,
    process_id         integer,
    exit_code          integer,
    stderr_tail        text,
    error_message      text,
    maxrss             bigint,
    wallclock          double precision,
    stdout_path        text,
    stderr_path        text
);
CREATE INDEX task_instance_task ON task_instance (task_id);
CREATE INDEX task_instance_run ON task_instance (workflow_run_id, status);
CREATE INDEX task_instance_queued ON task_instance (cluster_name, id) WHERE status = 'Q';
CREATE INDEX task_instance_kill ON task_instance (cluster_name, id) WHERE status = 'K';
CREATE INDEX task_instance_deadline ON task_instance (report_by)
    WHERE status IN ('I', 'O', 'R', 'T', 'K');

CREATE TABLE task_instance_status (
    id                bigserial PRIMARY KEY,
    task_instance_id  bigint NOT NULL,
    status            text NOT NULL,
    status_time       timestamptz NOT NULL,
    source            text NOT NULL
);
CREATE INDEX task_instance_status_instance ON task_instance_status (task_instance_id);

-- Push: waiters in the server LISTEN on these channels.
CREATE FUNCTION jobmon_notify_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jobmon_task', changed.workflow_id::text)
    FROM (SELECT DISTINCT workflow_id FROM new_rows) AS changed;
    RETURN NULL;
END $$;
-- A task that moves between Q, I, O and R needs nothing from the swarm (it counts all
-- four as active): only endings and resets wake it. The other changes ride along.
CREATE FUNCTION jobmon_notify_task_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jobmon_task', changed.workflow_id::text)
    FROM (SELECT DISTINCT workflow_id FROM new_rows
          WHERE status NOT IN ('Q', 'I', 'O', 'R')) AS changed;
    RETURN NULL;
END $$;
CREATE TRIGGER task_notify AFTER UPDATE ON task
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobmon_notify_task_done();

CREATE FUNCTION jobmon_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jobmon_work', changed.cluster_name)
    FROM (SELECT DISTINCT cluster_name FROM new_rows WHERE status IN ('Q', 'K')) AS changed;
    RETURN NULL;
END $$;
CREATE TRIGGER task_instance_notify_insert AFTER INSERT ON task_instance
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobmon_notify_work();
CREATE TRIGGER task_instance_notify_update AFTER UPDATE ON task_instance
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobmon_notify_work();

-- Workflow runs and arrays carry workflow_id too: their changes wake the swarm.
CREATE TRIGGER workflow_run_notify AFTER UPDATE ON workflow_run
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobmon_notify_task();
CREATE TRIGGER task_array_notify AFTER UPDATE ON task_array
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobmon_notify_task();

CREATE FUNCTION jobmon_notify_workflow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jobmon_task', changed.id::text)
    FROM (SELECT DISTINCT id FROM new_rows) AS changed;
    RETURN NULL;
END $$;
CREATE TRIGGER workflow_notify AFTER UPDATE ON workflow
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobmon_notify_workflow();
