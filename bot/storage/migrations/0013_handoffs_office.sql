-- 13: the office a request for a person belongs to (the commune that serves the citizen, by
-- its code from the offices file), so that it reaches that office's staff chat and only that
-- office's officers can answer it. Requests made before carry '' (the deployment's chat).
ALTER TABLE handoffs ADD COLUMN office_code TEXT NOT NULL DEFAULT '';
