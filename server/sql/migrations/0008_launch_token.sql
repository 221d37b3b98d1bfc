-- Jobmon schema, version 8: a launch id for every claimed instance.
-- The claim gives each instance a random id that the local distributor writes into the
-- status file of the command it starts. A file is trusted only if it names this id: another
-- database (a reset, a second server sharing the log folder) numbers its workflows and
-- instances from 1 again, and its files must never make a task of this one DONE.
ALTER TABLE task_instance ADD COLUMN launch_token uuid;
