-- Results flow from task to task and from workflow to workflow (issue 18).

-- A chained workflow: the linker named here (a "module:function" reference) makes the
-- follow-on from this workflow's outputs once it is DONE. next_workflow_id is set when the
-- follow-on is bound; error says why it could not be made (the chain stops there); ended:
-- the linker made no follow-on (returned None), so the chain ends here.
CREATE TABLE workflow_link (
    workflow_id       bigint PRIMARY KEY REFERENCES workflow (id) ON DELETE CASCADE,
    linker            text NOT NULL,
    next_workflow_id  bigint REFERENCES workflow (id) ON DELETE SET NULL,
    error             text,
    ended             boolean NOT NULL DEFAULT false,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX workflow_link_next ON workflow_link (next_workflow_id)
    WHERE next_workflow_id IS NOT NULL;

-- Declared parameters (name, type, default, help, and the value given) and the result
-- schema (the outputs a workflow promises): kept with the workflow, read by
-- `jobmon workflow results`. NULL: none declared.
ALTER TABLE workflow ADD COLUMN parameters jsonb;
ALTER TABLE workflow ADD COLUMN result_schema jsonb;

-- Post-processing over runs: the finished workflows whose results a workflow takes as input.
CREATE TABLE workflow_input_run (
    workflow_id        bigint NOT NULL REFERENCES workflow (id) ON DELETE CASCADE,
    input_workflow_id  bigint NOT NULL REFERENCES workflow (id) ON DELETE CASCADE,
    PRIMARY KEY (workflow_id, input_workflow_id)
);
