-- Jobmon 3.6 compatibility: a workflow's identity includes its owner, and workflows and
-- tasks keep Jobmon's attributes.

-- Two users who run the same script get a workflow each: with only (tool version,
-- workflow_args) as identity, the second user's bind found the first user's workflow,
-- which only its owner may change, and failed.
ALTER TABLE workflow DROP CONSTRAINT workflow_tool_version_id_workflow_args_hash_key;
ALTER TABLE workflow ADD CONSTRAINT workflow_identity
    UNIQUE (tool_version_id, owner, workflow_args_hash);

-- Attributes (Jobmon's workflow_attributes and task_attributes): name -> value (or null),
-- read with the workflow or task they describe. A re-bind merges new names and values in
-- (jsonb ||), as Jobmon's upsert does. NULL on a task: it has none (most tasks).
ALTER TABLE workflow ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';
ALTER TABLE task ADD COLUMN attributes jsonb;
