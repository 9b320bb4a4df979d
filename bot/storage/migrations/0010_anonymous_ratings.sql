-- 10: ratings no longer carry the case code, which joined to the applicant's name even when they
-- declined to be contacted (ND 118 art. 29: ratings are confidential). What reports need stays:
-- the day, channel, procedure, office and whether the case was resolved on time. The code is kept
-- only when the citizen agreed to be contacted about it (contact_code). Which cases were rated
-- ("one rating per case") is a separate set of codes with no order, time or link to a rating.
CREATE TABLE rated_cases (
    code TEXT PRIMARY KEY
) WITHOUT ROWID;
INSERT INTO rated_cases (code) SELECT code FROM ratings WHERE code IS NOT NULL;
CREATE TABLE anonymous_ratings (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    procedure TEXT NOT NULL,
    office TEXT NOT NULL DEFAULT '',
    timeliness TEXT NOT NULL DEFAULT '',
    scale INTEGER NOT NULL,
    level TEXT NOT NULL,
    visits TEXT,
    info TEXT,
    attitude TEXT,
    extra_fee TEXT,
    comment TEXT NOT NULL DEFAULT '',
    contact_code TEXT
);
INSERT INTO anonymous_ratings (day, channel, procedure, office, timeliness, scale, level, visits, info, attitude,
                               extra_fee, comment, contact_code)
SELECT substr(r.at, 1, 10), r.channel, r.procedure, r.office,
       COALESCE((SELECT CASE WHEN substr(MIN(h.at), 1, 10) < c.due THEN 'early'
                             WHEN substr(MIN(h.at), 1, 10) = c.due THEN 'on_time' ELSE 'late' END
                 FROM case_history h JOIN cases c ON c.code = h.code
                 WHERE h.code = r.code
                   AND h.status IN ('ready', 'returned', 'refused', 'withdrawn', 'stopped')
                 GROUP BY c.due), ''),
       r.scale, r.level, r.visits, r.info, r.attitude, r.extra_fee, r.comment,
       CASE WHEN r.contact_ok = 1 THEN r.code END
FROM ratings r
ORDER BY substr(r.at, 1, 10), r.procedure, r.level, r.comment;
DROP TABLE ratings;
ALTER TABLE anonymous_ratings RENAME TO ratings;
CREATE INDEX ratings_day ON ratings(day);
