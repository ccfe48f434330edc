-- Audience analytics (issue 21). The concurrent-viewer series, watch time and per-code
-- figures are derived in SQL from the sessions table, which every platform instance
-- shares: a session's row holds its start, its last heartbeat and its end, so the
-- database alone knows how many watched when, and no instance keeps counts of its own.
-- This index lets one event's sessions be read in start order without a table scan.
CREATE INDEX sessions_by_event_start ON sessions (event_id, started_at);
-- Retention pruning deletes old sessions by how long ago they last showed life.
CREATE INDEX sessions_by_last_heartbeat ON sessions (last_heartbeat);
