-- 7: a process that delivers a notification first claims it for a while, so two processes on one
-- database do not both send it; a claim left by a process that died expires and the row is sent.
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
