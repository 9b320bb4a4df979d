-- 8: the last four digits of the applicant's căn cước number, for offices that verify case
-- look-ups with them instead of the phone (config lookup.second_factor: id); never the full number.
ALTER TABLE cases ADD COLUMN id_tail TEXT NOT NULL DEFAULT '';
