-- 4: channel bookkeeping: Zalo OA tokens (single-use refresh tokens must survive a crash),
-- messages already handled (platforms re-deliver), and Zalo's 48-hour reply window
CREATE TABLE channel_tokens (
    channel TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX lookup_attempts_at ON lookup_attempts(at);
CREATE TABLE seen_messages (
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (channel, message_id)
);
CREATE TABLE reply_windows (
    channel TEXT NOT NULL,
    user TEXT NOT NULL,
    last_inbound TEXT NOT NULL,
    sent_since INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, user)
);
