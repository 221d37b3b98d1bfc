-- Jobmon schema, version 10: the history of everything.
-- Every status change of a task, a task instance, a workflow and a workflow run is a row:
-- when, the status it became, who made it (source: swarm, distributor, worker, reaper or
-- operator; username: the user whose request made it) and its context. Each write records
-- its rows in the same statement (a data-modifying CTE), so the history of an object is
-- complete and the status it came from is the row before (read with lag(); a task starts
-- REGISTERING, an instance QUEUED, a workflow REGISTERING, a run REGISTERED).

ALTER TABLE task_instance_status ADD COLUMN username text, ADD COLUMN context jsonb;
ALTER TABLE workflow_run_status ADD COLUMN username text, ADD COLUMN context jsonb;

-- A hot table like task_instance_status, without foreign keys (deleted with its tasks).
-- No primary key either: it is read by task, and ordered by id within a task; one index
-- fewer to write per row at a million tasks.
CREATE TABLE task_status (
    id                bigserial,
    task_id           bigint NOT NULL,
    status            text NOT NULL,
    status_time       timestamptz NOT NULL,
    source            text NOT NULL,
    username          text,
    -- the instance whose report moved the task, if one did
    task_instance_id  bigint,
    -- what an operator asked for, the reason, the run: whatever the writer knew
    context           jsonb
);
CREATE INDEX task_status_task ON task_status (task_id);

-- A workflow's status changes and the operator actions on it (task update, stop, resume,
-- concurrency change, reset, prune, clear); an action that changes no status repeats the
-- status. No foreign key: the record of a prune outlives the workflow it deleted.
CREATE TABLE workflow_status (
    id               bigserial PRIMARY KEY,
    workflow_id      bigint NOT NULL,
    workflow_run_id  bigint,
    status           text NOT NULL,
    status_time      timestamptz NOT NULL,
    source           text NOT NULL,
    username         text,
    -- an operator action ('task_update', 'stop', 'resume', 'concurrency', 'reset',
    -- 'prune', 'clear'); NULL for a status change made by running the workflow
    action           text,
    context          jsonb
);
CREATE INDEX workflow_status_workflow ON workflow_status (workflow_id);
