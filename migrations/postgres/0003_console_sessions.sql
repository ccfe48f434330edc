-- The admin console's logout: console session cookies are self-contained (encrypted,
-- no server-side session), so logging out records the moment before which every
-- console cookie stops being accepted, on every platform instance. One row at most
-- (id = 1); no row means no logout yet.
CREATE TABLE console_sessions (
    id          BIGINT PRIMARY KEY NOT NULL,
    valid_after BIGINT NOT NULL
);
