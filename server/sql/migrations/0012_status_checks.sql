-- Status columns hold only the letters of their state machine (jobmon/status.py).
-- The letter lists are generated from the enums; tests/unit/test_status_sql.py checks that
-- they still equal them. A bad letter now fails where it is written (check_violation),
-- instead of showing up later as a status nobody can name. (NULL passes a CHECK: error_status
-- is NULL unless the task's latest attempt failed.)

ALTER TABLE workflow ADD CONSTRAINT workflow_status_letter
    CHECK (status IN ('G', 'Q', 'I', 'O', 'R', 'D', 'H', 'F', 'A'));
ALTER TABLE workflow_status ADD CONSTRAINT workflow_status_status_letter
    CHECK (status IN ('G', 'Q', 'I', 'O', 'R', 'D', 'H', 'F', 'A'));
ALTER TABLE workflow_run ADD CONSTRAINT workflow_run_status_letter
    CHECK (status IN ('G', 'L', 'B', 'I', 'O', 'R', 'D', 'S', 'E', 'C', 'H', 'T',
                      'A'));
ALTER TABLE workflow_run_status ADD CONSTRAINT workflow_run_status_status_letter
    CHECK (status IN ('G', 'L', 'B', 'I', 'O', 'R', 'D', 'S', 'E', 'C', 'H', 'T',
                      'A'));
ALTER TABLE task ADD CONSTRAINT task_status_letter
    CHECK (status IN ('G', 'Q', 'I', 'O', 'R', 'D', 'E', 'A', 'F'));
ALTER TABLE task ADD CONSTRAINT task_error_status_letter
    CHECK (error_status IN ('Q', 'I', 'O', 'R', 'D', 'E', 'F', 'K', 'T', 'U', 'W', 'X',
                            'Z'));
ALTER TABLE task_status ADD CONSTRAINT task_status_status_letter
    CHECK (status IN ('G', 'Q', 'I', 'O', 'R', 'D', 'E', 'A', 'F'));
ALTER TABLE task_instance ADD CONSTRAINT task_instance_status_letter
    CHECK (status IN ('Q', 'I', 'O', 'R', 'D', 'E', 'F', 'K', 'T', 'U', 'W', 'X',
                      'Z'));
ALTER TABLE task_instance_status ADD CONSTRAINT task_instance_status_status_letter
    CHECK (status IN ('Q', 'I', 'O', 'R', 'D', 'E', 'F', 'K', 'T', 'U', 'W', 'X',
                      'Z'));
