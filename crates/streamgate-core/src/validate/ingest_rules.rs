//! Rules of `[events.ingest]` that the schema cannot express: one listener per port,
//! distinct rendition folders, and a stream root to write into where ingest runs.

use std::collections::HashMap;

use super::KeyPath;
use super::rules::{Finding, RuleInput};
use crate::load::Role;
use crate::validate::Rule;

/// Checks the events' ingest tables against each other and the services' ports.
pub(super) fn check_ingest(input: &RuleInput<'_>, role: Option<Role>, findings: &mut Vec<Finding>) {
    let mut ports: HashMap<u16, usize> = HashMap::new();
    let service_ports: Vec<(&str, u16)> = [
        input.platform.map(|p| ("platform.listen", p.listen.port())),
        input.hls.map(|h| ("hls.listen", h.listen.port())),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut any = false;
    for &(i, event) in &input.events {
        let Some(ingest) = &event.ingest else {
            continue;
        };
        any = true;
        let at = KeyPath::dotted("events").index(i).key("ingest");
        if let Some(first) = ports.insert(ingest.port, i) {
            findings.push(
                Finding::new(
                    at.key("port"),
                    Rule::Semantic("unique-ingest-port"),
                    format!(
                        "ingest port {} is already used by events[{first}]",
                        ingest.port
                    ),
                )
                .hint("each event's encoder connects to its own port"),
            );
        }
        if let Some((name, _)) = service_ports.iter().find(|(_, p)| *p == ingest.port) {
            findings.push(Finding::new(
                at.key("port"),
                Rule::Semantic("unique-ingest-port"),
                format!("ingest port {} is {name}'s port", ingest.port),
            ));
        }
        let mut names = HashMap::new();
        for (j, rendition) in ingest.renditions.iter().enumerate() {
            if let Some(first) = names.insert(rendition.name.as_str(), j) {
                findings.push(Finding::new(
                    at.key("renditions").index(j).key("name"),
                    Rule::Semantic("unique-rendition"),
                    format!(
                        "rendition `{}` is already declared by renditions[{first}]",
                        rendition.name
                    ),
                ));
            }
        }
    }
    let needs_root = matches!(role, Some(Role::Up | Role::Ingest));
    if any && needs_root && input.hls.is_some_and(|h| h.stream_root.is_none()) {
        findings.push(
            Finding::new(
                KeyPath::dotted("hls").key("stream_root"),
                Rule::Semantic("ingest-root"),
                "an event has [events.ingest], and ingest writes into hls.stream_root, which is not set",
            )
            .hint("set hls.stream_root (or STREAM_ROOT) to the folder the HLS server or origin serves"),
        );
    }
}
