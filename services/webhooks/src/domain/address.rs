//! Where a webhook may go. A subscription is an admin telling the back end to make HTTP
//! requests on their behalf, so unless `TILLSTREAM_WEBHOOKS_ALLOW_PRIVATE` says otherwise a
//! URL must be `https://` and must not reach the machine itself or its networks (loopback,
//! private, link-local such as a cloud's metadata address, and the like): the rule is
//! checked on the URL when subscribing and on every address the host resolves to, then and
//! at every send (a name may be pointed elsewhere later).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The longest URL accepted.
pub const URL_MAX_CHARS: usize = 2_000;

/// Why a URL is refused, as the 422 says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not an absolute URL")]
    Malformed,
    #[error("at most {URL_MAX_CHARS} characters")]
    TooLong,
    #[error("must be https://")]
    NotHttps,
    #[error("must be https:// or http://")]
    NotHttp,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("must not go to a loopback, private or link-local address")]
    Private,
}

/// The URL, if it may be subscribed. The host's resolved addresses are checked apart
/// ([`is_public`]), by whoever resolves it.
pub fn check_url(text: &str, allow_private: bool) -> Result<Url, UrlError> {
    let text = text.trim();
    if text.chars().count() > URL_MAX_CHARS {
        return Err(UrlError::TooLong);
    }
    let url = Url::parse(text).map_err(|_| UrlError::Malformed)?;
    match (url.scheme(), allow_private) {
        ("https", _) | ("http", true) => {}
        (_, false) => return Err(UrlError::NotHttps),
        (_, true) => return Err(UrlError::NotHttp),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    let literal = match url.host() {
        None => return Err(UrlError::Malformed),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                return Err(UrlError::Private);
            }
            None
        }
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
    };
    if let Some(ip) = literal
        && !allow_private
        && !is_public(ip)
    {
        return Err(UrlError::Private);
    }
    Ok(url)
}

/// Whether a delivery may go to `ip`: not this machine, not a private or shared network,
/// not link-local, not multicast, broadcast, documentation or reserved space.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // 100.64.0.0/10, carrier-grade NAT
    let benchmarking = a == 198 && (b == 18 || b == 19); // 198.18.0.0/15
    let reserved = a >= 240; // 240.0.0.0/4 and broadcast
    let this_network = a == 0;
    let protocol_assignments = a == 192 && b == 0 && ip.octets()[2] == 0; // 192.0.0.0/24
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || shared
        || benchmarking
        || reserved
        || this_network
        || protocol_assignments)
}

/// Only global unicast (2000::/3) is public, less its special blocks: whatever else IPv6
/// may carry (IPv4-compatible and -mapped forms, NAT64, unique and link local) is not.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    let global_unicast = first & 0xe000 == 0x2000;
    // 2001::/23, IETF protocol assignments, Teredo (2001::/32, an IPv4 address inside) among them.
    let special = first == 0x2001 && second < 0x0200;
    let documentation = first == 0x2001 && second == 0x0db8; // 2001:db8::/32
    let six_to_four = first == 0x2002; // 2002::/16, embeds an IPv4 address
    let documentation_too = first == 0x3fff && second < 0x1000; // 3fff::/20
    global_unicast && !(special || documentation || six_to_four || documentation_too)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_to_public_addresses_unless_private_is_allowed() {
        for good in [
            "https://hooks.example.com/tillstream",
            "https://93.184.215.14/in",
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/in",
            "https://hooks.example.com:8443/a?b=c",
        ] {
            assert!(check_url(good, false).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("hooks.example.com", UrlError::Malformed),
            ("", UrlError::Malformed),
            ("http://hooks.example.com/", UrlError::NotHttps),
            ("ftp://hooks.example.com/", UrlError::NotHttps),
            ("file:///etc/passwd", UrlError::NotHttps),
            (
                "https://user:pass@hooks.example.com/",
                UrlError::Credentials,
            ),
            ("https://127.0.0.1/", UrlError::Private),
            ("https://127.1/", UrlError::Private),
            ("https://2130706433/", UrlError::Private),
            ("https://0x7f000001/", UrlError::Private),
            ("https://localhost:8443/", UrlError::Private),
            ("https://LOCALHOST./", UrlError::Private),
            ("https://api.localhost/", UrlError::Private),
            ("https://10.1.2.3/", UrlError::Private),
            ("https://172.16.0.1/", UrlError::Private),
            ("https://192.168.1.10/", UrlError::Private),
            (
                "https://169.254.169.254/latest/meta-data/",
                UrlError::Private,
            ),
            ("https://100.64.0.1/", UrlError::Private),
            ("https://0.0.0.0/", UrlError::Private),
            ("https://[::1]/", UrlError::Private),
            ("https://[::ffff:10.0.0.1]/", UrlError::Private),
            ("https://[fd00::1]/", UrlError::Private),
            ("https://[fe80::1]/", UrlError::Private),
            ("https://[64:ff9b::a00:1]/", UrlError::Private),
            ("https://[::127.0.0.1]/", UrlError::Private),
            ("https://[::ffff:0:a00:1]/", UrlError::Private),
            ("https://[64:ff9b:1::a00:1]/", UrlError::Private),
            (
                "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
                UrlError::Private,
            ),
            ("https://[100::1]/", UrlError::Private),
            ("https://192.0.0.8/", UrlError::Private),
        ] {
            assert_eq!(check_url(bad, false).err(), Some(why), "{bad}");
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(URL_MAX_CHARS));
        assert_eq!(check_url(&long, false).err(), Some(UrlError::TooLong));
    }

    #[test]
    fn allowing_private_addresses_also_allows_http() {
        for good in [
            "http://127.0.0.1:9000/hook",
            "https://localhost/",
            "http://[::1]:8080/",
        ] {
            assert!(check_url(good, true).is_ok(), "{good}");
        }
        assert_eq!(
            check_url("ftp://127.0.0.1/", true).err(),
            Some(UrlError::NotHttp)
        );
        assert_eq!(
            check_url("http://a:b@127.0.0.1/", true).err(),
            Some(UrlError::Credentials)
        );
    }

    #[test]
    fn public_addresses_are_told_from_the_rest() {
        for public in [
            "8.8.8.8",
            "93.184.215.14",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.53",
            "10.255.255.255",
            "172.31.0.1",
            "192.168.0.1",
            "169.254.1.1",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "192.0.2.1",
            "240.0.0.1",
            "::",
            "fc00::1",
            "fec0::1",
            "2001:db8::1",
            "2002:a00:1::",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }
}
