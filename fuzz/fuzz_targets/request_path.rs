//! The request path resolver: whatever the raw path, a parsed path stays inside the
//! stream root, has no `..`, backslash or NUL segment, and names a plain event id.
#![no_main]

use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use streamgate_hls::path::{StreamPath, is_event_id};

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    let candidates = [
        raw.to_string(),
        format!("/streams/{raw}"),
        format!("/streams/demo/{raw}"),
    ];
    for raw in &candidates {
        let Some(path) = StreamPath::parse(raw) else {
            continue;
        };
        assert!(is_event_id(path.event_id()));
        let root = Path::new("/srv/streams");
        let file = path.under(root);
        assert!(
            file.starts_with(root),
            "{raw:?} resolved outside the root: {file:?}"
        );
        for component in file.strip_prefix(root).expect("inside").components() {
            assert!(
                matches!(component, Component::Normal(_)),
                "{raw:?} -> {file:?}"
            );
        }
        let relative = path.relative();
        for segment in relative.split('/') {
            assert!(
                !segment.is_empty() && segment != "." && segment != "..",
                "{raw:?} -> {relative:?}"
            );
            assert!(
                !segment.contains('\\') && !segment.contains('\0'),
                "{raw:?} -> {relative:?}"
            );
        }
        assert!(
            path.normalised()
                .starts_with(&format!("/streams/{}/", path.event_id()))
        );
    }
});
