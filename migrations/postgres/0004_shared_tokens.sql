-- An HLS edge saw this session's playback token used from two client addresses at
-- once (issue 16): when it was first reported, and the addresses of the last report.
ALTER TABLE sessions ADD COLUMN shared_at BIGINT;
ALTER TABLE sessions ADD COLUMN shared_addresses TEXT;
