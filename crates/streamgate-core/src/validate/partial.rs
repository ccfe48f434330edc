//! Making the most of a document that failed the schema, so that one run reports
//! every problem: an event with a bad field still gets its schedule and window rules
//! checked on the fields that are fine.

use serde_json::Value;

use super::{KeyPath, Segment};
use crate::config::EventConfig;

/// The events of `document` that can be checked by the rules, with their index: each
/// event with the keys already reported removed (the schema said what is wrong with
/// them; defaults stand in) and, if that is not enough, without its code batches.
/// Events missing a required key stay out: there is nothing to check them against.
pub fn checkable_events(document: &Value, reported: &[KeyPath]) -> Vec<(usize, EventConfig)> {
    let Some(events) = document.get("events").and_then(Value::as_array) else {
        return Vec::new();
    };
    events
        .iter()
        .enumerate()
        .filter_map(|(i, event)| {
            let at = KeyPath::root().key("events").index(i);
            let mut pruned = event.clone();
            for path in reported {
                if let Some(rest) = path.segments().strip_prefix(at.segments()) {
                    remove(&mut pruned, rest);
                }
            }
            serde_json::from_value::<EventConfig>(pruned.clone())
                .or_else(|_| {
                    if let Value::Object(map) = &mut pruned {
                        map.remove("codes");
                    }
                    serde_json::from_value(pruned)
                })
                .ok()
                .map(|e| (i, e))
        })
        .collect()
}

/// Removes the value at `path` below `value` (an array element is removed whole when
/// the path goes into it: a batch with a bad field is left out, not half-checked).
fn remove(value: &mut Value, path: &[Segment]) {
    match (value, path) {
        (Value::Object(map), [Segment::Key(key)]) => {
            map.remove(key);
        }
        (Value::Object(map), [Segment::Key(key), rest @ ..]) => {
            if let Some(child) = map.get_mut(key) {
                remove(child, rest);
            }
        }
        (Value::Array(items), [Segment::Index(i), ..]) if *i < items.len() => {
            items.remove(*i);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_with_bad_fields_is_still_checked() {
        let document = serde_json::json!({"events": [{
            "id": "one", "title": "One",
            "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z",
            "access_window_hours": 999,
            "codes": [{"label": "x", "count": "many"}],
        }, {"title": "no id"}]});
        let reported = [
            KeyPath::dotted("events")
                .index(0)
                .key("access_window_hours"),
            KeyPath::dotted("events")
                .index(0)
                .key("codes")
                .index(0)
                .key("count"),
        ];
        let events = checkable_events(&document, &reported);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, 0);
        assert!(events[0].1.codes.is_empty());
    }
}
