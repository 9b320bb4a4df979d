-- 3: satisfaction ratings (no user identifiers: ratings are confidential, ND 118 art. 29),
-- votes on answers, feedback messages, and the office a case belongs to
ALTER TABLE cases ADD COLUMN office TEXT NOT NULL DEFAULT '';
CREATE TABLE ratings (
    id INTEGER PRIMARY KEY,
    code TEXT UNIQUE,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    procedure TEXT NOT NULL,
    office TEXT NOT NULL DEFAULT '',
    scale INTEGER NOT NULL,
    level TEXT NOT NULL,
    visits TEXT,
    info TEXT,
    attitude TEXT,
    extra_fee TEXT,
    comment TEXT NOT NULL DEFAULT '',
    contact_ok INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ratings_at ON ratings(at);
CREATE TABLE answer_votes (
    question_id INTEGER PRIMARY KEY REFERENCES questions(id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    procedure TEXT,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down'))
);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX feedback_at ON feedback(at);
