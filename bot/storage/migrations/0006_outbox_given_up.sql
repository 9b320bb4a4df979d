-- 6: a notification that cannot be delivered (the citizen blocked the bot, the platform refuses
-- it for good) is set aside instead of being retried for ever, and the purge can remove it.
ALTER TABLE outbox ADD COLUMN given_up_at TEXT;
