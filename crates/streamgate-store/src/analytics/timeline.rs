//! From the database's per-minute rows to viewers per minute, and from viewers per
//! minute to at most [`MAX_POINTS`] chart points. Pure functions, so the rules are
//! tested without a database.

use super::{MINUTE_MS, Point};

/// Most points a timeline has: longer spans are put into wider buckets (2, 3, …
/// minutes), each the most viewers of its minutes, so a week of recordings still
/// draws as one chart.
pub const MAX_POINTS: i64 = 1440;

/// A minute with starts or ends in it, as the running-sum query returns it: the most
/// viewers at one moment in it, the net change over it, and whether a change came at
/// its very first millisecond (then the viewers carried in from the minute before
/// never held during it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minute {
    /// Unix minute (ms / 60 000).
    pub minute: i64,
    /// Most viewers at one moment after a change in it.
    pub peak: i64,
    /// Starts minus ends in it.
    pub net: i64,
    /// A change came at its first millisecond.
    pub starts_changed: bool,
}

/// Viewers of every minute from the first row's to the last's (quiet minutes keep the
/// viewers the last active one ended with), as (Unix minute, viewers).
pub fn per_minute(rows: &[Minute]) -> Vec<(i64, i64)> {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut carry = 0_i64;
    let mut rows = rows.iter().peekable();
    for minute in first.minute..=last.minute {
        let viewers = match rows.next_if(|m| m.minute == minute) {
            Some(m) => {
                let held = if m.starts_changed { 0 } else { carry };
                carry += m.net;
                held.max(m.peak)
            }
            None => carry,
        };
        out.push((minute, viewers.max(0)));
    }
    out
}

/// Chart points from viewers per minute (sorted by minute; minutes left out had
/// none), from the first minute with viewers to the last, in buckets wide enough for
/// at most `max_points`. Returns the points and the bucket width in ms.
pub fn buckets(minutes: &[(i64, i64)], max_points: i64) -> (Vec<Point>, i64) {
    let mut with_viewers = minutes.iter().filter(|(_, v)| *v > 0);
    let (Some(first), Some(last)) = (with_viewers.next(), with_viewers.next_back()) else {
        return match minutes.iter().find(|(_, v)| *v > 0) {
            Some(&(m, v)) => (
                vec![Point {
                    at: m * MINUTE_MS,
                    viewers: v,
                }],
                MINUTE_MS,
            ),
            None => (Vec::new(), MINUTE_MS),
        };
    };
    let (first, last) = (first.0, last.0);
    let width = (last - first + 1 + max_points - 1) / max_points.max(1);
    let mut points = Vec::new();
    let mut rows = minutes.iter().skip_while(|(m, _)| *m < first).peekable();
    let mut start = first;
    while start <= last {
        let end = start + width;
        let mut viewers = 0;
        while let Some(&(_, v)) = rows.next_if(|(m, _)| *m < end) {
            viewers = viewers.max(v);
        }
        points.push(Point {
            at: start * MINUTE_MS,
            viewers,
        });
        start = end;
    }
    (points, width * MINUTE_MS)
}

/// The first minute with the most viewers, as (Unix minute, viewers).
pub fn peak(minutes: &[(i64, i64)]) -> Option<(i64, i64)> {
    minutes
        .iter()
        .copied()
        .filter(|(_, v)| *v > 0)
        .reduce(|best, m| if m.1 > best.1 { m } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minute: i64, peak: i64, net: i64) -> Minute {
        Minute {
            minute,
            peak,
            net,
            starts_changed: false,
        }
    }

    #[test]
    fn quiet_minutes_keep_the_viewers_of_the_last_active_one() {
        // Two start in minute 10, one leaves in minute 13, the other in minute 15.
        let values = per_minute(&[m(10, 2, 2), m(13, 2, -1), m(15, 1, -1)]);
        assert_eq!(
            values,
            [(10, 2), (11, 2), (12, 2), (13, 2), (14, 1), (15, 1)]
        );
    }

    #[test]
    fn an_end_at_the_first_millisecond_of_a_minute_is_not_counted_in_it() {
        // Three watch; one leaves at 5:00.000 exactly, so minute 5 had two at most.
        let mut left = m(5, 2, -1);
        left.starts_changed = true;
        let values: Vec<i64> = per_minute(&[m(0, 3, 3), left])
            .iter()
            .map(|v| v.1)
            .collect();
        assert_eq!(values, [3, 3, 3, 3, 3, 2]);
    }

    #[test]
    fn long_spans_become_wider_buckets_holding_their_peak() {
        // Minutes 0..=9 into at most 4 points: buckets of 3 minutes.
        let minutes = [(0, 1), (1, 1), (4, 5), (5, 2), (9, 1)];
        let (points, width) = buckets(&minutes, 4);
        assert_eq!(width, 3 * MINUTE_MS);
        let got: Vec<(i64, i64)> = points
            .iter()
            .map(|p| (p.at / MINUTE_MS, p.viewers))
            .collect();
        assert_eq!(got, [(0, 1), (3, 5), (6, 0), (9, 1)]);
    }

    #[test]
    fn points_run_from_the_first_minute_with_viewers_to_the_last() {
        let minutes = [(3, 0), (4, 2), (5, 0), (6, 1), (7, 0)];
        let (points, width) = buckets(&minutes, MAX_POINTS);
        assert_eq!(width, MINUTE_MS);
        let got: Vec<(i64, i64)> = points
            .iter()
            .map(|p| (p.at / MINUTE_MS, p.viewers))
            .collect();
        assert_eq!(got, [(4, 2), (5, 0), (6, 1)]);
        assert_eq!(peak(&minutes), Some((4, 2)));
        let (one, _) = buckets(&[(8, 0), (9, 4)], MAX_POINTS);
        assert_eq!(
            one,
            [Point {
                at: 9 * MINUTE_MS,
                viewers: 4
            }]
        );
    }

    #[test]
    fn no_viewers_no_points() {
        assert_eq!(buckets(&[], MAX_POINTS), (Vec::new(), MINUTE_MS));
        assert_eq!(buckets(&[(1, 0)], MAX_POINTS), (Vec::new(), MINUTE_MS));
        assert_eq!(peak(&[(1, 0)]), None);
        assert!(per_minute(&[]).is_empty());
    }
}
