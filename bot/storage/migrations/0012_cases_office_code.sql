-- 12: the office a case belongs to, by the commune's code from the offices file, so that a
-- deployment serving many communes shows each office's staff only their own cases. Cases filed
-- before carry '' (the one office of a deployment without an offices file); when offices are
-- listed, they are given to the office whose agency prefix starts their code as the bot starts.
-- The older `office` column keeps the desk's name as it was written on the case.
ALTER TABLE cases ADD COLUMN office_code TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_office_code ON cases(office_code, received);
