//! Where a webhook may be sent: only to global unicast addresses (IANA's special-purpose
//! registries name the rest), unless an operator lists a network in
//! `ADAL_WEBHOOK_ALLOWED_NETWORKS`; over `https`, unless every address is inside that list. A URL is
//! checked when a subscription is written and again at each delivery, which then connects to the
//! very address it checked, so a name that resolves elsewhere the second time (DNS rebinding)
//! reaches nothing it should not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;
use reqwest::Url;

/// How long a host name may take to resolve.
pub const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The longest URL a subscription may name.
pub const MAX_URL_LENGTH: usize = 2000;

/// Whether `ip` is global unicast: not loopback, private, shared (CGNAT), link-local,
/// unique-local, documentation, benchmarking, multicast, reserved, unspecified, nor an IPv6 form
/// carrying an IPv4 address that is one of those.
pub fn is_global(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

fn is_global_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network", 0.0.0.0/8
        || a == 10                             // private
        || (a == 100 && (64..128).contains(&b)) // shared address space, 100.64.0.0/10
        || a == 127                            // loopback
        || (a == 169 && b == 254)              // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast (deprecated)
        || (a == 192 && b == 168)              // private
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_global_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // Global unicast is 2000::/3; everything else (::, ::1, IPv4-compatible and -mapped forms,
    // NAT64, discard-only, unique-local, link-local, multicast) is not.
    let global_unicast = s[0] & 0xe000 == 0x2000;
    // 2001::/23 holds the IETF protocol assignments (Teredo, ORCHID, …), 2001:db8::/32 is for
    // documentation, 2002::/16 is 6to4 (it carries an IPv4 address), 3fff::/20 documentation.
    let ietf_or_documentation = s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8);
    let special = ietf_or_documentation || s[0] == 0x2002 || (s[0] & 0xfff0) == 0x3ff0;
    global_unicast && !special
}

/// Whether a webhook may reach `ip`: inside an allowed network, or global unicast.
pub fn may_reach(ip: IpAddr, allowed: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    allowed.iter().any(|n| n.contains(&ip)) || is_global(ip)
}

/// Why a URL may not be used, in words for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// A URL's form: absolute `http` or `https` with a host, no user name or password (the
/// signature authenticates the registry), no fragment.
pub fn parse(text: &str) -> Result<Url, Refusal> {
    if text.len() > MAX_URL_LENGTH {
        return Err(Refusal(format!("must be at most {MAX_URL_LENGTH} characters")));
    }
    let url = Url::parse(text)
        .map_err(|_| Refusal("must be an absolute URL such as https://example.kz/adal/webhooks".into()))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Refusal("must be an https URL".into()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Refusal("must name a host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal("must not carry a user name or password; deliveries are signed instead".into()));
    }
    if url.fragment().is_some() {
        return Err(Refusal("must not have a #fragment".into()));
    }
    Ok(url)
}

/// Where a delivery goes: the URL, its host, and the address that was checked.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    pub host: String,
    pub address: SocketAddr,
}

/// Resolves `url`'s host once and checks every address it gives: refused when any is one the
/// registry may not reach, or when the URL is `http` and not every address is inside `allowed`.
pub async fn resolve(url: &Url, allowed: &[IpNet]) -> Result<Target, Refusal> {
    let host = url.host_str().ok_or_else(|| Refusal("must name a host".into()))?.to_string();
    let port = url.port_or_known_default().ok_or_else(|| Refusal("must be an http or https URL".into()))?;
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = match literal.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| Refusal(format!("the host {host} did not resolve within {} s", LOOKUP_TIMEOUT.as_secs())))?
            .map_err(|_| Refusal(format!("the host {host} does not resolve")))?
            .collect(),
    };
    let Some(first) = addresses.first().copied() else {
        return Err(Refusal(format!("the host {host} does not resolve")));
    };
    if let Some(bad) = addresses.iter().find(|a| !may_reach(a.ip(), allowed)) {
        // A name's addresses are not repeated: the answer would let a caller read the internal DNS.
        let what = if literal.parse::<IpAddr>().is_ok() { bad.ip().to_string() } else { format!("the host {host}") };
        return Err(Refusal(format!(
            "{what} is not a public address (private, loopback, link-local or reserved); webhooks are not sent there"
        )));
    }
    let inside_allowed = addresses.iter().all(|a| allowed.iter().any(|n| n.contains(&a.ip().to_canonical())));
    if url.scheme() == "http" && !inside_allowed {
        return Err(Refusal("must be an https URL".into()));
    }
    Ok(Target { url: url.clone(), host, address: first })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_global_unicast_addresses_are_reachable() {
        for refused in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2001::1",
            "3fff::1",
            "100::1",
        ] {
            assert!(!may_reach(ip(refused), &[]), "{refused} must be refused");
        }
        for global in ["8.8.8.8", "1.1.1.1", "100.128.0.1", "172.32.0.1", "193.0.2.1", "::ffff:8.8.8.8", "2a00:1450::1"]
        {
            assert!(may_reach(ip(global), &[]), "{global} is global");
        }
    }

    #[test]
    fn an_allowed_network_opens_its_addresses_and_their_mapped_forms() {
        let allowed: Vec<IpNet> = vec!["127.0.0.0/8".parse().unwrap()];
        assert!(may_reach(ip("127.0.0.1"), &allowed));
        assert!(may_reach(ip("::ffff:127.0.0.1"), &allowed));
        assert!(!may_reach(ip("10.0.0.1"), &allowed));
    }

    #[test]
    fn urls_must_be_absolute_web_urls_without_credentials() {
        assert!(parse("https://hooks.example.kz/adal").is_ok());
        for bad in
            ["/relative", "ftp://example.kz/", "https://user:pw@example.kz/", "https://example.kz/#x", "https://"]
        {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("https://example.kz/{}", "a".repeat(MAX_URL_LENGTH))).is_err());
    }

    #[tokio::test]
    async fn http_is_refused_outside_the_allowed_networks_and_names_resolving_inside_are_refused() {
        let loopback: Vec<IpNet> = vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()];
        let url = parse("http://127.0.0.1:9/x").unwrap();
        assert!(resolve(&url, &loopback).await.is_ok());
        assert!(resolve(&url, &[]).await.is_err());
        let named = parse("https://localhost:9/x").unwrap();
        let refused = resolve(&named, &[]).await.unwrap_err().0;
        assert!(refused.starts_with("the host localhost is not a public address"), "{refused}");
        assert!(
            !refused.contains("127.0.0.1") && !refused.contains("::1"),
            "the addresses it resolved to are not told"
        );
        let public_http = parse("http://8.8.8.8/x").unwrap();
        assert_eq!(resolve(&public_http, &loopback).await.unwrap_err(), Refusal("must be an https URL".into()));
        let target = resolve(&parse("https://[::ffff:8.8.8.8]/x").unwrap(), &[]).await.unwrap();
        assert_eq!(target.address.port(), 443);
    }
}
