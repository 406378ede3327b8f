//! Where a webhook may be sent: only to global unicast addresses, the server-side request forgery
//! rule, kept in one place for URL validation and for the address check at delivery time. Every
//! block of IANA's IPv4 and IPv6 special-purpose registries that is not globally reachable is
//! refused, as is everything outside IPv6's global unicast space (2000::/3); forms that carry an
//! IPv4 address (mapped, NAT64, 6to4) are judged by that address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address a URL host names literally (`127.0.0.1`, `[::1]`), or `None` for a DNS name.
pub fn host_ip<S>(host: &url::Host<S>) -> Option<IpAddr> {
    match host {
        url::Host::Domain(_) => None,
        url::Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
    }
}

/// Why an address is refused as a delivery target, or `None` when it is a public address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a carrier-grade NAT address")
    } else if ip.is_broadcast() || ip.is_multicast() {
        Some("a broadcast or multicast address")
    } else if a >= 240 {
        Some("a reserved address") // 240.0.0.0/4
    } else if a == 198 && (b & 0xfe) == 18 {
        Some("a benchmarking address") // 198.18.0.0/15
    } else if matches!(
        ip.octets(),
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _]
    ) {
        Some("a documentation address")
    } else if matches!(ip.octets(), [192, 0, 0, _] | [192, 88, 99, _]) {
        Some("a special-purpose address") // IETF protocol assignments, the old 6to4 relay
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    let first = segments[0];
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    // Forms that carry an IPv4 address: judged by that address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(embedded(segments[6], segments[7])); // NAT64
    }
    if first == 0x2002 {
        return forbidden_v4(embedded(segments[1], segments[2])); // 6to4
    }
    if segments[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback() {
        return Some("an IPv4-compatible address"); // deprecated ::a.b.c.d
    }
    if (first == 0x64 && segments[1] == 0xff9b && segments[2] == 1)
        || (first == 0x2001 && segments[1] == 0)
    {
        return Some("a translated or tunnelled address"); // local-use NAT64, Teredo
    }
    if segments[..4] == [0; 4] && segments[4] == 0xffff && segments[5] == 0 {
        return forbidden_v4(embedded(segments[6], segments[7])); // ::ffff:0:a.b.c.d
    }
    if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a unique-local address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if first & 0xe000 != 0x2000 {
        Some("not a global unicast address") // outside 2000::/3: fec0::/10, 100::/64, ...
    } else if first == 0x2001 && segments[1] == 0x0db8 || first == 0x3fff && segments[1] < 0x1000 {
        Some("a documentation address") // 2001:db8::/32, 3fff::/20
    } else if first == 0x2001 && segments[1] < 0x0200 {
        Some("a special-purpose address") // 2001::/23, IETF protocol assignments
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(ip: &str) -> bool {
        forbidden_reason(ip.parse().unwrap()).is_some()
    }

    #[test]
    fn refuses_internal_ranges() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "255.255.255.255",
            "224.0.0.1",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:a00:1::1",
            "2002:7f00:1::",
            "::10.0.0.1",
            "::ffff:0:a00:1",
            "2001:0:4136:e378::1",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
    }

    #[test]
    fn refuses_every_special_purpose_block_not_globally_reachable() {
        for ip in [
            "198.18.0.1",
            "198.19.255.254",
            "240.0.0.1",
            "254.1.2.3",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "192.88.99.1",
            "fec0::1",
            "feff::1",
            "2001:db8::1",
            "2001:db8:ffff::1",
            "3fff::1",
            "3fff:fff::1",
            "100::1",
            "2001:2::1",
            "2001:1ff::1",
            "5f00::1",
            "4000::1",
            "::ffff:198.18.0.1",
            "64:ff9b::c000:201",
        ] {
            assert!(refused(ip), "{ip} should be refused");
        }
        for ip in [
            "198.17.255.255",
            "198.20.0.1",
            "239.0.0.0",
            "2001:200::1",
            "3fff:1000::1",
        ] {
            let reason = forbidden_reason(ip.parse().unwrap());
            assert!(ip == "239.0.0.0" || reason.is_none(), "{ip}: {reason:?}");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!refused(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn refuses_the_whole_this_network_block() {
        // 0.0.0.0/8 is "this network" (RFC 6890): no 0.x.y.z address is a valid destination.
        for ip in ["0.0.0.1", "0.1.2.3", "0.255.255.255", "::ffff:0.8.8.8"] {
            assert_eq!(
                forbidden_reason(ip.parse().unwrap()),
                Some("an unspecified address"),
                "{ip}"
            );
        }
    }

    #[test]
    fn allows_addresses_just_outside_the_carrier_grade_nat_block() {
        // 100.64.0.0/10 (RFC 6598) is 100.64.0.0 to 100.127.255.255; its neighbours are public,
        // as are addresses elsewhere whose second octet is in 64..128.
        for ip in [
            "100.63.255.255",
            "100.128.0.0",
            "100.0.0.1",
            "8.64.0.1",
            "203.100.0.1",
        ] {
            assert!(!refused(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn allows_public_ipv6_addresses_near_the_refused_forms() {
        for ip in [
            // Google Public DNS: in 2001::/16, but not Teredo (2001::/32).
            "2001:4860:4860::8888",
            // Global unicast whose later groups look like the NAT64 or SIIT prefixes.
            "2a00:ff9b:1::1",
            "2a00:0:1::1",
            "2606:4700::ffff:0:a00:1",
            // Well-known NAT64 (RFC 6052) and 6to4 (RFC 3056) forms of public IPv4 addresses.
            "64:ff9b::101:101",
            "2002:101:101::",
            "::ffff:0:808:808",
            "::ffff:1.1.1.1",
        ] {
            assert_eq!(forbidden_reason(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn names_the_kind_of_address_refused() {
        for (ip, reason) in [
            ("0.0.0.0", "an unspecified address"),
            ("127.0.0.1", "a loopback address"),
            ("10.0.0.1", "a private address"),
            ("169.254.169.254", "a link-local address"),
            ("100.64.0.1", "a carrier-grade NAT address"),
            ("255.255.255.255", "a broadcast or multicast address"),
            ("239.255.255.250", "a broadcast or multicast address"),
            ("::", "an unspecified address"),
            ("::1", "a loopback address"),
            ("fd00::1", "a unique-local address"),
            ("fe80::1", "a link-local address"),
            ("ff02::1", "a multicast address"),
            ("::10.0.0.1", "an IPv4-compatible address"),
            ("::8.8.8.8", "an IPv4-compatible address"),
            ("64:ff9b:1::1", "a translated or tunnelled address"),
            ("2001:0:4136:e378::1", "a translated or tunnelled address"),
            // Forms that embed an IPv4 address are judged by it.
            ("::ffff:127.0.0.1", "a loopback address"),
            ("64:ff9b::7f00:1", "a loopback address"),
            ("2002:a9fe:a9fe::", "a link-local address"),
            ("::ffff:0:a00:1", "a private address"),
        ] {
            assert_eq!(forbidden_reason(ip.parse().unwrap()), Some(reason), "{ip}");
        }
    }

    #[test]
    fn a_url_host_names_an_address_only_when_it_is_a_literal() {
        let host = |raw: &str| url::Url::parse(raw).unwrap().host().map(|h| h.to_owned());
        assert_eq!(
            host_ip(&host("https://10.0.0.1/").unwrap()),
            Some("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            host_ip(&host("https://[::1]/").unwrap()),
            Some("::1".parse().unwrap())
        );
        assert_eq!(host_ip(&host("https://example.com/").unwrap()), None);
    }
}
