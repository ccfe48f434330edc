-- Audience analytics (issue 21). The figures are derived from the sessions table, which
-- every platform instance shares (a session's row holds its start, last heartbeat and
-- end), and minutes that can no longer change are sealed into analytics_minutes by
-- whichever instance gets there first, so a big event's timeline is read from a few
-- hundred rows instead of being recomputed from every session.

-- One event's sessions in start order, and old sessions for retention pruning.
CREATE INDEX sessions_by_event_start ON sessions (event_id, started_at);
CREATE INDEX sessions_by_last_heartbeat ON sessions (last_heartbeat);
-- Unique viewers are the codes of an event that were redeemed.
CREATE INDEX access_codes_by_event_redeemed ON access_codes (event_id, redeemed_at);

-- A sealed minute of an event with viewers in it: the most viewers watching at one
-- moment within it. Sealed minutes without a row had none.
CREATE TABLE analytics_minutes (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    minute   BIGINT NOT NULL,
    viewers  BIGINT NOT NULL,
    PRIMARY KEY (event_id, minute)
);

-- Per event: minutes before sealed_until (Unix ms, minute-aligned) are sealed, and the
-- sessions that ended before it are summed here (count, watch time in ms).
CREATE TABLE analytics_events (
    event_id     TEXT PRIMARY KEY NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    sealed_until BIGINT NOT NULL,
    sessions     BIGINT NOT NULL,
    watch_ms     BIGINT NOT NULL
);
