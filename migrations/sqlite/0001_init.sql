-- StreamGate schema, SQLite flavour. Times are Unix milliseconds (BIGINT) and flags are
-- 0/1 BIGINTs so the same queries run unchanged on PostgreSQL through sqlx's Any driver.

-- Events: declared in streamgate.toml (managed_by = 'config') or made through the API.
CREATE TABLE events (
    id                  TEXT PRIMARY KEY NOT NULL,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    stream_url          TEXT,
    poster_url          TEXT,
    starts_at           BIGINT NOT NULL,
    ends_at             BIGINT NOT NULL,
    access_window_hours BIGINT NOT NULL,
    is_active           BIGINT NOT NULL DEFAULT 1,
    is_archived         BIGINT NOT NULL DEFAULT 0,
    managed_by          TEXT NOT NULL CHECK (managed_by IN ('config', 'api')),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- Access codes. `batch` is the config batch label the reconciler counts; `label` is what
-- operators see (equal for config batches, free text for API-made codes).
CREATE TABLE access_codes (
    id           TEXT PRIMARY KEY NOT NULL,
    code         TEXT NOT NULL UNIQUE,
    event_id     TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    label        TEXT,
    batch        TEXT,
    is_revoked   BIGINT NOT NULL DEFAULT 0,
    revoked_at   BIGINT,
    is_suspended BIGINT NOT NULL DEFAULT 0,
    redeemed_at  BIGINT,
    redeemed_ip  TEXT,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX access_codes_by_event ON access_codes (event_id, created_at);
CREATE INDEX access_codes_by_batch ON access_codes (event_id, batch);

-- Viewer sessions; at most one live (ended_at IS NULL) per code: the single-device rule
-- is enforced by the database, not by a read-then-write race.
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    code_id        TEXT NOT NULL REFERENCES access_codes (id) ON DELETE CASCADE,
    event_id       TEXT NOT NULL,
    client_ip      TEXT,
    user_agent     TEXT,
    started_at     BIGINT NOT NULL,
    last_heartbeat BIGINT NOT NULL,
    ended_at       BIGINT,
    end_reason     TEXT
);
CREATE UNIQUE INDEX sessions_live_per_code ON sessions (code_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_by_event ON sessions (event_id, ended_at);

-- Append-only feed for the HLS edges; `seq` is the cursor they resume from.
CREATE TABLE revocation_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    code_id    TEXT,
    session_id TEXT,
    at         BIGINT NOT NULL
);

-- Who did what, when, with which outcome.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT,
    outcome TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (at);

-- HLS edges that poll the revocation feed: when each last synced and from where, for
-- the dashboard's edge health.
CREATE TABLE edges (
    id           TEXT PRIMARY KEY NOT NULL,
    last_sync_at BIGINT NOT NULL,
    last_cursor  BIGINT NOT NULL,
    address      TEXT
);
