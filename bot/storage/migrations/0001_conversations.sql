-- 1: conversation state and the question log
CREATE TABLE conversations (
    channel TEXT NOT NULL,
    user TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, user)
);
CREATE TABLE questions (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    channel TEXT NOT NULL,
    text TEXT NOT NULL,
    intent TEXT NOT NULL,
    procedure TEXT,
    aspect TEXT,
    confidence REAL NOT NULL,
    answered INTEGER NOT NULL
);
CREATE INDEX questions_at ON questions(at);
CREATE TABLE handoffs (
    ref TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    user TEXT NOT NULL,
    at TEXT NOT NULL
);
