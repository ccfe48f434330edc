//! Where an event's video is expected, said in the terms of this installation, and
//! whether the HLS server has it now. An event made in the console otherwise gives no
//! hint that its encoder must publish into `streams/<id>/`; its viewers would wait for
//! good in front of a stream that is being written somewhere else.

use poem_openapi::Object;
use streamgate_core::Config;
use streamgate_core::jwt::Claims;
use streamgate_core::playlist::{
    DEFAULT_PLAYLIST, DEFAULT_PLAYLIST_FALLBACKS, dir_url, stream_url_parts,
};
use streamgate_store::events::{EventRow, ManagedBy};
use streamgate_store::format_ms;

use crate::probe::Probe;
use crate::state::AppState;

/// Where the HLS server looks for an event's playlist and what it found there.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct StreamLocation {
    /// The playlist name inside the event's folder (`index.m3u8` unless the event names one).
    pub playlist: String,
    /// The path players are given, `/streams/<id>/<playlist>`.
    pub stream_path: String,
    /// The URL on the HLS server that players fetch (a playback token is still needed).
    pub playlist_url: String,
    /// Where the file must be on the HLS server's disk, `<stream_root>/<id>/<playlist>`,
    /// when it serves local files (local and hybrid modes).
    #[oai(nullable)]
    pub local_path: Option<String>,
    /// Where the HLS server fetches it in proxy and hybrid modes: the event's
    /// `streamUrl`, or `<upstream_origin>/<id>/<playlist>`.
    #[oai(nullable)]
    pub upstream_url: Option<String>,
    /// Other names the HLS server tries when the default `index.m3u8` is absent.
    pub fallbacks: Vec<String>,
    /// `true`: the HLS server serves the playlist now; `false`: it answered 404;
    /// `null`: it could not be asked (see `detail`).
    #[oai(nullable)]
    pub found: Option<bool>,
    /// The check's result in words, for the console.
    pub detail: String,
    /// When the HLS server was asked (RFC 3339).
    pub checked_at: String,
}

/// Asks the HLS server for `event`'s playlist now and says where it should be.
pub async fn locate(state: &AppState, event: &EventRow) -> StreamLocation {
    let config = state.config();
    let probe = state
        .prober
        .check(&state.keys, event.id.as_str(), &event.playlist)
        .await;
    let default = event.playlist == DEFAULT_PLAYLIST;
    let local_path = local_path(&config, event);
    let upstream_url = upstream_url(&config, event);
    let detail = match &probe {
        Probe::Found if default => format!(
            "Playlist found: the HLS server serves {} (or the first of {} beside it).",
            event.playlist,
            DEFAULT_PLAYLIST_FALLBACKS.join(", ")
        ),
        Probe::Found => format!(
            "Playlist found: the HLS server serves {}.",
            event.playlist
        ),
        Probe::Missing => match (&local_path, &upstream_url) {
            (Some(path), Some(url)) => {
                format!("Playlist not found: nothing at {path} nor at {url} yet.")
            }
            (Some(path), None) => format!("Playlist not found: nothing at {path} yet."),
            (None, Some(url)) => format!("Playlist not found: the origin has nothing at {url} yet."),
            (None, None) => "Playlist not found, and the HLS server has neither hls.stream_root nor hls.upstream_origin configured.".into(),
        },
        Probe::Unknown(why) => format!("Could not check: {why}."),
    };
    let detail = if event.stream_url.is_some() && event.managed_by == ManagedBy::Api {
        format!(
            "{detail} Its Stream URL is not used: the HLS server takes per-event upstreams from streamgate.toml only, so it proxies <upstream_origin>/<id>/ for events made here."
        )
    } else {
        detail
    };
    StreamLocation {
        playlist: event.playlist.clone(),
        stream_path: format!(
            "{}{}",
            Claims::stream_prefix(event.id.as_str()),
            event.playlist
        ),
        playlist_url: state
            .prober
            .playlist_url(event.id.as_str(), &event.playlist),
        local_path,
        upstream_url,
        fallbacks: if default {
            DEFAULT_PLAYLIST_FALLBACKS.map(String::from).to_vec()
        } else {
            Vec::new()
        },
        found: probe.available(),
        detail,
        checked_at: format_ms(streamgate_store::now_ms()),
    }
}

fn local_path(config: &Config, event: &EventRow) -> Option<String> {
    let root = config.hls.stream_root.as_ref()?;
    let mut path = root.join(event.id.as_str());
    for part in event.playlist.split('/') {
        path.push(part);
    }
    Some(path.display().to_string())
}

/// The origin URL the HLS server fetches, as its upstream module builds it: a
/// config-declared event's `stream_url` (a master playlist itself, served for the
/// default name, or a folder ending in `/`), else the origin's folder for the event.
/// The HLS server has no database, so it only knows the `stream_url` of events in
/// `streamgate.toml`.
fn upstream_url(config: &Config, event: &EventRow) -> Option<String> {
    let own = config
        .event(event.id.as_str())
        .and_then(|e| e.stream_url.clone());
    if let Some(url) = own {
        let (base, master) = stream_url_parts(url);
        if let Some(master) = master
            && event.playlist == DEFAULT_PLAYLIST
        {
            return Some(master.to_string());
        }
        return base.join(&event.playlist).ok().map(String::from);
    }
    dir_url(config.hls.upstream_origin.clone()?)
        .join(&format!("{}/{}", event.id, event.playlist))
        .ok()
        .map(String::from)
}
