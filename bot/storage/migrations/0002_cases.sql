-- 2: cases, their history, followers, the outbox of notifications, look-up attempts
CREATE TABLE cases (
    code TEXT PRIMARY KEY,
    procedure TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    channel TEXT NOT NULL,
    received TEXT NOT NULL,
    due TEXT NOT NULL,
    status TEXT NOT NULL,
    supplement_by TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX cases_status ON cases(status);
CREATE TABLE case_history (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL REFERENCES cases(code) ON DELETE CASCADE,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    staff TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_history_code ON case_history(code, id);
CREATE TABLE follows (
    channel TEXT NOT NULL,
    user TEXT NOT NULL,
    code TEXT NOT NULL REFERENCES cases(code) ON DELETE CASCADE,
    at TEXT NOT NULL,
    PRIMARY KEY (channel, user, code)
);
CREATE INDEX follows_code ON follows(code);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    user TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    waiting INTEGER NOT NULL DEFAULT 0,
    delivered_at TEXT
);
CREATE INDEX outbox_pending ON outbox(delivered_at, next_try);
CREATE TABLE lookup_attempts (
    channel TEXT NOT NULL,
    user TEXT NOT NULL,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX lookup_attempts_user ON lookup_attempts(channel, user, at);
