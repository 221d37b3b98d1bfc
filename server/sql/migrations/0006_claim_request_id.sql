-- A claim records its request id on the instances it takes. A distributor whose claim
-- answer was lost retries with the same X-Request-Id and gets the same instances back,
-- instead of leaving them INSTANTIATED and never launched until the reaper gives up on them.
ALTER TABLE task_instance ADD COLUMN claim_request_id text;
-- only claims not yet launched are looked up, so the index stays small
CREATE INDEX task_instance_claim_request ON task_instance (claim_request_id)
    WHERE status = 'I' AND claim_request_id IS NOT NULL;
