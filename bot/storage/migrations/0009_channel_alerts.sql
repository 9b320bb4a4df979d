-- 9: a channel problem only an administrator can fix (Zalo refused to refresh the OA's tokens:
-- someone must grant the app again), kept until it is fixed so staff see it and what to do.
CREATE TABLE channel_alerts (
    channel TEXT PRIMARY KEY,
    problem TEXT NOT NULL,
    at TEXT NOT NULL
);
