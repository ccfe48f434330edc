-- Admin API tokens for scripts and generated clients: `streamgate admin-token create`
-- prints a token once; only its SHA-256 is kept. Revoked tokens stay for the record.
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL UNIQUE,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
