//! Which address a request comes from. The socket's peer, unless that peer is one of
//! the configured trusted proxies: then the right-most `X-Forwarded-For` entry that is
//! not itself a trusted proxy. Taking the right-most untrusted hop (not the left-most,
//! which the client writes) keeps a viewer from choosing their own rate-limit bucket.

use std::net::IpAddr;

use poem::Request;
use poem::web::RemoteAddr;
use streamgate_core::config::TrustedProxy;

/// The client address of `req` as the rate limits and audit log see it.
pub fn client_ip(req: &Request, trusted: &[TrustedProxy]) -> Option<IpAddr> {
    let peer = peer_ip(req.remote_addr())?;
    if !trusted.iter().any(|t| t.contains(peer)) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.iter().any(|t| t.contains(ip)) => continue,
            Ok(ip) => return Some(canonical(ip)),
            // A garbled entry: stop trusting the chain here.
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// The client address as text for the audit log and rate-limit keys (`unknown` when
/// the connection has no IP address, e.g. a Unix socket).
pub fn client_ip_text(req: &Request, trusted: &[TrustedProxy]) -> String {
    client_ip(req, trusted).map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

fn peer_ip(addr: &RemoteAddr) -> Option<IpAddr> {
    addr.as_socket_addr().map(|a| canonical(a.ip()))
}

/// IPv4-mapped IPv6 addresses count as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
