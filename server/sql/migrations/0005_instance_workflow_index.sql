-- Stopping a workflow and a cold resume kill its live instances by workflow id.
CREATE INDEX task_instance_workflow ON task_instance (workflow_id, status);
