//! What a live stream looks like from the edge, so that cached content never outlives
//! the origin's current stream.
//!
//! An encoder restart (almost every live night has one) reuses names: ffmpeg numbers
//! its segments from `index0.ts` again after a crash, and a clean stop leaves an
//! `#EXT-X-ENDLIST` playlist that becomes wrong the moment the encoder is back. Every
//! live playlist passes through the edge (they are never cached), so [`Tracker`] reads
//! each one ([`MediaFacts`]) and says when a playlist has *restarted*: its last media
//! sequence number went back, its discontinuity sequence went back (or jumped without
//! the window moving), or a finished playlist became live again. The caller then drops
//! the event's cached entries. The tracker also remembers which segments were named by
//! a live playlist, so that the source validates those against the origin before
//! serving them from the cache (the backstop for a restart the edge did not see).
//!
//! [`Directives`] are the LL-HLS delivery directives a player may send with a playlist
//! request; they are the only part of a viewer's query that reaches the origin.
//! [`EventWindows`] knows when each configured event's live window closes: after it, a
//! recording is immutable and may be served from the cache without asking the origin.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::path::StreamPath;

/// How many playlists and live segments are remembered before old ones are forgotten.
const MAX_REMEMBERED: usize = 20_000;
/// How long a segment named by a live playlist counts as live.
const LIVE_MARK_TTL: Duration = Duration::from_secs(15 * 60);

/// The facts of one media playlist that restarts and blocking reloads depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaFacts {
    /// `#EXT-X-MEDIA-SEQUENCE` (0 when absent).
    pub media_sequence: u64,
    /// `#EXT-X-DISCONTINUITY-SEQUENCE` (0 when absent).
    pub discontinuity_sequence: u64,
    /// Media sequence number of the last complete segment, `None` when there is none.
    pub last_msn: Option<u64>,
    /// Parts (`#EXT-X-PART`) listed after the last complete segment: the segment in
    /// progress has this many.
    pub trailing_parts: u64,
    /// `#EXT-X-ENDLIST` is present.
    pub ended: bool,
    /// A master playlist (it lists variants, not segments).
    pub master: bool,
    /// The segment URIs, as written, in order.
    pub segments: Vec<String>,
}

/// Reads the facts of `text`. Never fails: what it cannot read it leaves at defaults.
pub fn facts(text: &str) -> MediaFacts {
    let mut f = MediaFacts::default();
    let mut count: u64 = 0;
    let mut next_is_segment = false;
    for line in text.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            f.media_sequence = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("#EXT-X-DISCONTINUITY-SEQUENCE:") {
            f.discontinuity_sequence = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("#EXT-X-SKIP:") {
            count += attribute(v, "SKIPPED-SEGMENTS")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
        } else if line == "#EXT-X-ENDLIST" {
            f.ended = true;
        } else if line.starts_with("#EXT-X-STREAM-INF:") {
            f.master = true;
        } else if line.starts_with("#EXT-X-PART:") {
            f.trailing_parts += 1;
        } else if line.starts_with("#EXTINF:") {
            next_is_segment = true;
        } else if !line.is_empty() && !line.starts_with('#') && next_is_segment {
            next_is_segment = false;
            count += 1;
            f.trailing_parts = 0;
            f.segments.push(line.to_owned());
        }
    }
    f.last_msn = count.checked_sub(1).map(|n| f.media_sequence + n);
    f
}

/// The value of attribute `name` in an attribute list (quotes removed).
fn attribute<'a>(list: &'a str, name: &str) -> Option<&'a str> {
    list.split(',').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches('"'))
    })
}

/// Whether `now` shows a restart of the stream that `before` showed.
pub fn restarted(before: &MediaFacts, now: &MediaFacts) -> bool {
    if before.master || now.master {
        return false;
    }
    let went_back = matches!((before.last_msn, now.last_msn), (Some(b), Some(n)) if n < b)
        || now.media_sequence < before.media_sequence;
    let new_discontinuity = now.discontinuity_sequence < before.discontinuity_sequence
        || (now.discontinuity_sequence > before.discontinuity_sequence
            && now.media_sequence <= before.media_sequence);
    let live_again = before.ended && !now.ended;
    went_back || new_discontinuity || live_again
}

/// Playlists seen per `<event>/<path>` (with when their download finished) and
/// segments named by live playlists.
#[derive(Debug, Default)]
pub struct Tracker {
    playlists: Mutex<HashMap<String, (MediaFacts, Instant)>>,
    live_segments: Mutex<HashMap<String, Instant>>,
}

impl Tracker {
    /// Records a playlist fetched from the origin (the download began at `started`);
    /// `segments` are the event paths its segment URIs name. Returns whether the
    /// playlist restarted since it was last seen.
    ///
    /// Only downloads that began after the last recorded one finished are compared:
    /// the origin's playlist only moves forward between restarts, so such a download
    /// is never older, while two overlapping downloads (a held blocking reload and an
    /// ordinary one) may finish in either order and must not look like a restart.
    pub fn observe(
        &self,
        playlist: &StreamPath,
        facts: MediaFacts,
        segments: &[StreamPath],
        started: Instant,
    ) -> bool {
        if facts.master {
            return false;
        }
        if !facts.ended {
            let now = Instant::now();
            let mut live = self.live_segments.lock().unwrap_or_else(|p| p.into_inner());
            if live.len() > MAX_REMEMBERED {
                live.retain(|_, at| at.elapsed() < LIVE_MARK_TTL);
            }
            for s in segments {
                live.insert(key(s), now);
            }
        }
        let mut seen = self.playlists.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > MAX_REMEMBERED {
            seen.clear();
        }
        let k = key(playlist);
        let restart = seen
            .get(&k)
            .is_some_and(|(before, finished)| started >= *finished && restarted(before, &facts));
        seen.insert(k, (facts, Instant::now()));
        restart
    }

    /// Whether `segment` was named by a live playlist recently.
    pub fn is_live(&self, segment: &StreamPath) -> bool {
        self.live_segments
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key(segment))
            .is_some_and(|at| at.elapsed() < LIVE_MARK_TTL)
    }
}

fn key(path: &StreamPath) -> String {
    format!("{}/{}", path.event_id(), path.relative())
}

/// When each configured event's live window closes (`ends_at`).
#[derive(Debug, Clone, Default)]
pub struct EventWindows {
    ends: HashMap<String, OffsetDateTime>,
}

impl EventWindows {
    /// Windows from `(event id, ends_at)` pairs.
    pub fn new(ends: impl IntoIterator<Item = (String, OffsetDateTime)>) -> Self {
        Self {
            ends: ends.into_iter().collect(),
        }
    }

    /// Whether the event's live window is over, so its content is a recording that no
    /// longer changes. An event this server does not know might be live: `false`.
    pub fn is_over(&self, event_id: &str) -> bool {
        self.ends
            .get(event_id)
            .is_some_and(|end| *end < OffsetDateTime::now_utc())
    }
}

/// The LL-HLS delivery directives of a playlist request, checked and in canonical
/// order; nothing else a viewer sends (never `__token`) is passed to the origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `_HLS_msn`: hold the reload until this media sequence number exists.
    pub msn: Option<u64>,
    /// `_HLS_part`: ... and this part of it.
    pub part: Option<u64>,
    /// `_HLS_skip` (`YES` or `v2`): a delta playlist may be sent.
    pub skip: Option<String>,
}

impl Directives {
    /// The directives in a raw query string; malformed values are dropped.
    pub fn from_query(query: Option<&str>) -> Self {
        let mut d = Self::default();
        for pair in query.unwrap_or_default().split('&') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            match name {
                "_HLS_msn" => d.msn = value.parse().ok(),
                "_HLS_part" => d.part = value.parse().ok(),
                "_HLS_skip" if matches!(value, "YES" | "v2") => d.skip = Some(value.to_owned()),
                _ => {}
            }
        }
        // `_HLS_part` alone is not a directive.
        if d.msn.is_none() {
            d.part = None;
        }
        d
    }

    /// A blocking reload: the origin may hold it until the segment or part exists.
    pub fn is_blocking(&self) -> bool {
        self.msn.is_some()
    }

    /// The query string for the origin, `None` when there are no directives.
    pub fn query(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(m) = self.msn {
            parts.push(format!("_HLS_msn={m}"));
        }
        if let Some(p) = self.part {
            parts.push(format!("_HLS_part={p}"));
        }
        if let Some(s) = &self.skip {
            parts.push(format!("_HLS_skip={s}"));
        }
        (!parts.is_empty()).then(|| parts.join("&"))
    }

    /// Whether a playlist with these facts answers the blocking reload: it has ended,
    /// it is a master playlist (no segments ever appear in one, so a reload held for
    /// one would be held for the whole bound), or it holds segment `msn` (with `part`,
    /// that part of it, or a later segment).
    pub fn satisfied_by(&self, f: &MediaFacts) -> bool {
        let Some(msn) = self.msn else { return true };
        if f.ended || f.master {
            return true;
        }
        let last = f.last_msn.map_or(-1, |n| n as i128);
        match self.part {
            None => last >= i128::from(msn),
            Some(part) => {
                last >= i128::from(msn) || (last + 1 == i128::from(msn) && f.trailing_parts > part)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(seq: u64, names: &[&str]) -> String {
        let mut s = format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{seq}\n");
        for n in names {
            s.push_str(&format!("#EXTINF:2.000000,\n{n}\n"));
        }
        s
    }

    #[test]
    fn facts_count_segments_parts_and_skips() {
        let f = facts(&live(7, &["a.ts", "b.ts"]));
        assert_eq!((f.media_sequence, f.last_msn, f.ended), (7, Some(8), false));
        assert_eq!(f.segments, ["a.ts", "b.ts"]);
        let ll = "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n\
                  #EXTINF:2,\ns13.m4s\n#EXT-X-PART:DURATION=0.5,URI=\"p14.0.m4s\"\n\
                  #EXT-X-PART:DURATION=0.5,URI=\"p14.1.m4s\"\n";
        let f = facts(ll);
        assert_eq!((f.last_msn, f.trailing_parts), (Some(13), 2));
        let d = |q| Directives::from_query(Some(q));
        assert!(d("_HLS_msn=13").satisfied_by(&f));
        assert!(!d("_HLS_msn=14").satisfied_by(&f));
        assert!(d("_HLS_msn=14&_HLS_part=1").satisfied_by(&f));
        assert!(!d("_HLS_msn=14&_HLS_part=2").satisfied_by(&f));
        assert_eq!(facts(&live(0, &[])).last_msn, None);
        // A master playlist never gains the segment: nothing to hold the reload for.
        let master = facts("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv/index.m3u8\n");
        assert!(d("_HLS_msn=1").satisfied_by(&master));
    }

    #[test]
    fn restarts_are_seen_and_a_moving_window_is_not() {
        let r = |a: &str, b: &str| restarted(&facts(a), &facts(b));
        assert!(!r(
            &live(0, &["i0.ts", "i1.ts"]),
            &live(0, &["i0.ts", "i1.ts", "i2.ts"])
        ));
        assert!(!r(&live(3, &["i3.ts"]), &live(4, &["i4.ts"])));
        // A crash: numbering starts again.
        assert!(r(
            &live(0, &["i0.ts", "i1.ts", "i2.ts"]),
            &live(0, &["i0.ts"])
        ));
        assert!(r(&live(40, &["i40.ts"]), &live(0, &["i0.ts"])));
        // A clean stop, then the encoder is back.
        let ended = format!("{}#EXT-X-ENDLIST\n", live(0, &["i0.ts", "i1.ts"]));
        assert!(r(&ended, &live(0, &["i0.ts", "i1.ts", "i2.ts"])));
        // A new discontinuity sequence without the window moving.
        let d1 =
            live(5, &["x.ts"]).replace("#EXTM3U\n", "#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n");
        assert!(r(&live(5, &["x.ts"]), &d1));
    }

    #[test]
    fn overlapping_downloads_finishing_out_of_order_are_no_restart() {
        let t = Tracker::default();
        let p = StreamPath::parse("/streams/ev/index.m3u8").expect("path");
        let begun = Instant::now();
        assert!(!t.observe(&p, facts(&live(0, &["a", "b", "c"])), &[], begun));
        // Began before the one above finished: older content, not a restart.
        assert!(!t.observe(&p, facts(&live(0, &["a", "b"])), &[], begun));
        assert!(t.observe(&p, facts(&live(0, &["a"])), &[], Instant::now()));
    }

    #[test]
    fn only_the_delivery_directives_reach_the_origin() {
        let d =
            Directives::from_query(Some("__token=abc&_HLS_skip=YES&x=1&_HLS_part=2&_HLS_msn=9"));
        assert_eq!(
            d.query().as_deref(),
            Some("_HLS_msn=9&_HLS_part=2&_HLS_skip=YES")
        );
        assert!(d.is_blocking());
        let bad = Directives::from_query(Some("_HLS_msn=x&_HLS_part=1&_HLS_skip=maybe"));
        assert_eq!(bad, Directives::default());
        assert_eq!(Directives::from_query(None).query(), None);
    }
}
