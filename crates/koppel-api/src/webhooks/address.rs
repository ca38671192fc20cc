//! Where webhooks may go: `https` to public addresses, or any scheme to the hosts the operator
//! allowed (`KOPPEL_WEBHOOK_ALLOW_HOSTS`). Checked when an endpoint is saved, and again at every
//! connection, after DNS resolution, so a name that later resolves to a private address (DNS
//! rebinding) reaches nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

/// How long resolving a host may take when an endpoint is saved.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest URL accepted.
pub const MAX_URL_LEN: usize = crate::bounds::MAX_URL_CHARS;

/// The hosts allowed whatever their address and scheme, and whether any other (public, over
/// `https`) host is allowed at all.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    hosts: Vec<String>,
    public: bool,
}

impl Default for AllowedHosts {
    /// No host allowed beyond the public ones.
    fn default() -> Self {
        Self {
            hosts: Vec::new(),
            public: true,
        }
    }
}

impl AllowedHosts {
    /// From a comma-separated list of host names or IP addresses (IPv6 with or without
    /// brackets); public addresses are allowed besides.
    pub fn parse(list: &str) -> Self {
        Self {
            hosts: list
                .split(',')
                .map(|h| h.trim().trim_start_matches('[').trim_end_matches(']'))
                .filter(|h| !h.is_empty())
                .map(str::to_ascii_lowercase)
                .collect(),
            public: true,
        }
    }

    /// The same hosts, and no public one (`KOPPEL_WEBHOOK_PUBLIC=false`): for a deployment
    /// whose receivers are all known, and for test runs that must not reach the internet.
    pub fn only_these(self) -> Self {
        Self {
            public: false,
            ..self
        }
    }

    /// Whether `host` (as a URL names it) is allowed whatever its address.
    pub fn contains(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Whether hosts outside the list may be reached (over `https`, at public addresses).
    pub fn public(&self) -> bool {
        self.public
    }
}

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlRefusal {
    /// Not an absolute `http(s)` URL with a host, or longer than [`MAX_URL_LEN`].
    Malformed,
    /// User name or password in the URL: they would be stored and shown.
    Credentials,
    /// `http` to a host that is not allowed.
    NotHttps,
    /// A host not in the list, on a server that sends to listed hosts only.
    NotListed,
    /// The host resolves to an address that is not public.
    NotPublic(IpAddr),
    /// The host does not resolve.
    Unresolvable,
}

impl UrlRefusal {
    /// English and Dutch messages.
    pub fn messages(&self) -> (String, String) {
        match self {
            UrlRefusal::Malformed => (
                format!("not an absolute http or https URL of at most {MAX_URL_LEN} characters"),
                format!("geen absolute http- of https-URL van hoogstens {MAX_URL_LEN} tekens"),
            ),
            UrlRefusal::Credentials => (
                "a webhook URL must not contain a user name or password".to_owned(),
                "een webhook-URL mag geen gebruikersnaam of wachtwoord bevatten".to_owned(),
            ),
            UrlRefusal::NotHttps => (
                "webhooks are sent over https only".to_owned(),
                "webhooks gaan alleen over https".to_owned(),
            ),
            UrlRefusal::NotListed => (
                "this server sends webhooks only to the hosts its operator allowed".to_owned(),
                "deze server stuurt webhooks alleen naar de hosts die de beheerder toestaat"
                    .to_owned(),
            ),
            UrlRefusal::NotPublic(ip) => (
                format!("the host resolves to {ip}, which is not a public address"),
                format!("de host verwijst naar {ip}, geen publiek adres"),
            ),
            UrlRefusal::Unresolvable => (
                "the host does not resolve to an address".to_owned(),
                "de host verwijst niet naar een adres".to_owned(),
            ),
        }
    }
}

/// Checks a webhook URL as it is saved: its form, its scheme and every address its host
/// resolves to.
pub async fn check_url(url: &str, allowed: &AllowedHosts) -> Result<Url, UrlRefusal> {
    if url.len() > MAX_URL_LEN {
        return Err(UrlRefusal::Malformed);
    }
    let parsed = Url::parse(url).map_err(|_| UrlRefusal::Malformed)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlRefusal::Malformed);
    }
    let Some(host) = parsed.host_str() else {
        return Err(UrlRefusal::Malformed);
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefusal::Credentials);
    }
    if allowed.contains(host) {
        return Ok(parsed);
    }
    if !allowed.public() {
        return Err(UrlRefusal::NotListed);
    }
    if parsed.scheme() != "https" {
        return Err(UrlRefusal::NotHttps);
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((bare, port)))
            .await
            .ok()
            .and_then(Result::ok)
            .map(Iterator::collect)
            .unwrap_or_default(),
    };
    if addresses.is_empty() {
        return Err(UrlRefusal::Unresolvable);
    }
    if let Some(private) = addresses.iter().find(|a| !is_public(a.ip())) {
        return Err(UrlRefusal::NotPublic(private.ip()));
    }
    Ok(parsed)
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared
/// (CGNAT), documentation, benchmarking, multicast, reserved or unspecified, and no IPv6 form
/// of one of those (mapped, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they embed.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded(segments[6], segments[7]));
    }
    if segments[0] == 0x2002 {
        return is_public_v4(embedded(segments[1], segments[2]));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible and the rest of ::/96
}

/// The resolver the webhook client connects through: it answers only public addresses, so a
/// name resolving to a private one fails to connect, whatever it resolved to when saved.
/// Allowed hosts are resolved without that check.
#[derive(Debug, Clone)]
pub struct PublicResolver {
    allowed: Arc<AllowedHosts>,
}

impl PublicResolver {
    /// A resolver that lets `allowed` through.
    pub fn new(allowed: Arc<AllowedHosts>) -> Self {
        Self { allowed }
    }
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allowed = self.allowed.contains(name.as_str());
        let public = self.allowed.public();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if !allowed && !public {
                return Err(format!("{host} is not an allowed host").into());
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allowed || is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a URL about to be requested may be: a host given as an IP address bypasses the
/// resolver, so it is checked here.
pub fn may_connect(url: &Url, allowed: &AllowedHosts) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    if allowed.contains(host) {
        return true;
    }
    if !allowed.public() || url.scheme() != "https" {
        return false;
    }
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => is_public(ip),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "145.131.1.1",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn urls_are_refused_for_their_form_scheme_and_address() {
        let none = AllowedHosts::default();
        assert_eq!(
            check_url("https://10.0.0.5/hook", &none).await,
            Err(UrlRefusal::NotPublic("10.0.0.5".parse().unwrap()))
        );
        assert_eq!(
            check_url("https://[::1]:8443/hook", &none).await,
            Err(UrlRefusal::NotPublic("::1".parse().unwrap()))
        );
        // localhost resolves to loopback: refused after resolution.
        assert!(matches!(
            check_url("https://localhost/hook", &none).await,
            Err(UrlRefusal::NotPublic(_))
        ));
        assert_eq!(
            check_url("http://1.1.1.1/hook", &none).await,
            Err(UrlRefusal::NotHttps)
        );
        assert_eq!(
            check_url("https://user:pw@1.1.1.1/", &none).await,
            Err(UrlRefusal::Credentials)
        );
        for malformed in ["ftp://1.1.1.1/", "/relative", "https://", "not a url"] {
            assert_eq!(
                check_url(malformed, &none).await,
                Err(UrlRefusal::Malformed),
                "{malformed}"
            );
        }
        assert!(check_url("https://1.1.1.1/hook", &none).await.is_ok());
        let local = AllowedHosts::parse(" 127.0.0.1, LocalHost ,[::1]");
        assert!(
            check_url("http://127.0.0.1:9000/hook", &local)
                .await
                .is_ok()
        );
        assert!(
            check_url("http://localhost:9000/hook", &local)
                .await
                .is_ok()
        );
        assert!(check_url("http://[::1]:9000/hook", &local).await.is_ok());
        assert!(check_url("http://10.0.0.5/hook", &local).await.is_err());
        let only = AllowedHosts::parse("127.0.0.1").only_these();
        assert!(check_url("http://127.0.0.1:9000/hook", &only).await.is_ok());
        assert_eq!(
            check_url("https://1.1.1.1/hook", &only).await,
            Err(UrlRefusal::NotListed)
        );
    }

    #[test]
    fn ip_hosts_are_checked_before_connecting() {
        let none = AllowedHosts::default();
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(!may_connect(&url("https://127.0.0.1/"), &none));
        assert!(!may_connect(&url("https://[fe80::1]/"), &none));
        assert!(!may_connect(&url("http://8.8.8.8/"), &none));
        assert!(may_connect(&url("https://8.8.8.8/"), &none));
        assert!(may_connect(&url("https://hooks.example.com/"), &none));
        let local = AllowedHosts::parse("127.0.0.1");
        assert!(may_connect(&url("http://127.0.0.1:1234/"), &local));
        let only = local.only_these();
        assert!(may_connect(&url("http://127.0.0.1:1234/"), &only));
        assert!(!may_connect(&url("https://8.8.8.8/"), &only));
        assert!(!may_connect(&url("https://hooks.example.com/"), &only));
    }
}
