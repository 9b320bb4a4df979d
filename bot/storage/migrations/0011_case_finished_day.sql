-- 11: staff commands that cost the same at a million cases as at a hundred. The day each case
-- got its result or was closed (what on time is judged by, `Case.finished_on`) is kept on the
-- case, so a report finds the cases of its period through an index instead of reading the whole
-- history; the indexes let the period, the open cases past due, the supplement requests, the
-- answer votes and the chat's demo cases be found without reading every case.
ALTER TABLE cases ADD COLUMN finished TEXT;
UPDATE cases SET finished = (
    SELECT substr(h.at, 1, 10) FROM case_history h
    WHERE h.code = cases.code AND h.status IN ('ready', 'returned', 'refused', 'withdrawn', 'stopped')
    ORDER BY h.id LIMIT 1);
CREATE INDEX cases_finished ON cases(finished, received);
CREATE INDEX cases_received ON cases(received);
CREATE INDEX cases_open_due ON cases(due, code) WHERE finished IS NULL;
CREATE INDEX cases_phone ON cases(phone);
CREATE INDEX case_history_status_at ON case_history(status, at);
CREATE INDEX answer_votes_at ON answer_votes(at);
