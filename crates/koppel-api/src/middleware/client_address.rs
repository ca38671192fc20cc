//! The client's address behind a reverse proxy.
//!
//! Koppel is meant to run behind a TLS-terminating proxy; then every connection comes from
//! the proxy, and limits kept per address would count all clients as one. A proxy listed in
//! `KOPPEL_TRUSTED_PROXIES` is believed about `X-Forwarded-For`: the client is the rightmost
//! address in that header that is not itself a trusted proxy. From anyone else the header
//! is ignored, since a client can write whatever it likes there.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::App;

/// A proxy address or network (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    /// Parses `ip` or `ip/prefix`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (ip, prefix) = match text.trim().split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix)),
            None => (text.trim(), None),
        };
        let network: IpAddr = ip
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or network"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has no valid prefix length"))?,
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> Option<u128> {
            match (self.network, ip) {
                (IpAddr::V4(_), IpAddr::V4(ip)) => Some(u128::from(u32::from(ip)) << 96),
                (IpAddr::V6(_), IpAddr::V6(ip)) => Some(u128::from(ip)),
                _ => None,
            }
        };
        let (Some(network), Some(ip)) = (bits(self.network), bits(ip)) else {
            return false;
        };
        // The top `prefix` bits; an IPv4 address sits in the top 32 bits, as above.
        let mask = u128::MAX
            .checked_shl(128 - u32::from(self.prefix))
            .unwrap_or(0);
        network & mask == ip & mask
    }
}

/// The client's address: the peer, or behind trusted proxies the rightmost untrusted
/// address of `X-Forwarded-For`.
pub fn client_address(
    peer: IpAddr,
    forwarded_for: Option<&str>,
    trusted: &[TrustedProxy],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for hop in header.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            // A hop that is not an address: trust stops here.
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Replaces the connection's address with the client's before anything counts by address.
pub async fn resolve(State(app): State<App>, mut request: Request, next: Next) -> Response {
    if !app.config.trusted_proxies.is_empty()
        && let Some(ConnectInfo(peer)) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
    {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let client = client_address(peer.ip(), forwarded, &app.config.trusted_proxies);
        if client != peer.ip() {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(client, peer.port())));
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let ten = TrustedProxy::parse("10.0.0.0/8").unwrap();
        assert!(ten.contains(ip("10.1.2.3")));
        assert!(!ten.contains(ip("11.0.0.1")));
        assert!(!ten.contains(ip("::1")));
        let one = TrustedProxy::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        let v6 = TrustedProxy::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(TrustedProxy::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxy::parse("proxy").is_err());
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop_and_only_trusted_proxies_are_believed() {
        let trusted = [TrustedProxy::parse("10.0.0.0/8").unwrap()];
        // Through our proxy: the address it saw.
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        // A client that writes the header itself cannot choose its address: the proxy
        // appends the real one, which is the rightmost untrusted hop.
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("1.2.3.4, 203.0.113.9"), &trusted),
            ip("203.0.113.9")
        );
        // Two of our proxies in a row.
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("203.0.113.9, 10.0.0.6"), &trusted),
            ip("203.0.113.9")
        );
        // Not through a trusted proxy: the header is ignored.
        assert_eq!(
            client_address(ip("198.51.100.1"), Some("203.0.113.9"), &trusted),
            ip("198.51.100.1")
        );
        // Garbage stops the walk at the last good hop.
        assert_eq!(
            client_address(ip("10.0.0.5"), Some("203.0.113.9, junk"), &trusted),
            ip("10.0.0.5")
        );
    }
}
