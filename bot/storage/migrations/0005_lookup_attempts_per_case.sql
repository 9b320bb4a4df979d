-- 5: each look-up attempt names the case code tried, so failures are limited per case as well
-- as per person: many accounts guessing one case's phone digits are stopped together.
ALTER TABLE lookup_attempts ADD COLUMN code TEXT NOT NULL DEFAULT '';
CREATE INDEX lookup_attempts_code ON lookup_attempts(code, at);
