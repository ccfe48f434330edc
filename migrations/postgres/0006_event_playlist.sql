-- The playlist an event's viewers are sent to, inside /streams/<id>/ (issue 20):
-- packagers publish master.m3u8, stream.m3u8 or a playlist in a folder as often as
-- index.m3u8. Existing events keep the name they were served under.
ALTER TABLE events ADD COLUMN playlist TEXT NOT NULL DEFAULT 'index.m3u8';
