//! Which IP addresses a webhook may be delivered to: only those on the public internet, so a
//! subscription cannot make the server call into its own network (SSRF). IPv6 forms that carry
//! an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are judged by the IPv4
//! address they reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is not public, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

/// Whether webhooks may be delivered to `ip`.
pub fn is_public(ip: IpAddr) -> bool {
    non_public_reason(ip).is_none()
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        (0, _, _) => "an unspecified address (0.0.0.0/8)",
        (10, _, _) => "a private address (10.0.0.0/8)",
        (100, 64..=127, _) => "a shared carrier-grade NAT address (100.64.0.0/10)",
        (127, _, _) => "a loopback address (127.0.0.0/8)",
        (169, 254, _) => "a link-local address (169.254.0.0/16, cloud metadata among them)",
        (172, 16..=31, _) => "a private address (172.16.0.0/12)",
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (192, 88, 99) => "a 6to4 relay address (192.88.99.0/24)",
        (192, 168, _) => "a private address (192.168.0.0/16)",
        (198, 18..=19, _) => "a benchmarking address (198.18.0.0/15)",
        (224..=239, _, _) => "a multicast address (224.0.0.0/4)",
        (240..=255, _, _) => "a reserved or broadcast address (240.0.0.0/4)",
        _ => return None,
    };
    Some(reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return v4_reason(v4).map(|_| "an IPv6 address that carries a non-public IPv4 address");
    }
    let segments = ip.segments();
    let reason = match segments {
        [0, 0, 0, 0, 0, 0, 0, 0] => "the unspecified address (::)",
        [0, 0, 0, 0, 0, 0, 0, 1] => "the loopback address (::1)",
        [0x0100, 0, 0, 0, ..] => "a discard-only address (100::/64)",
        [0x2001, 0x0db8, ..] => "a documentation address (2001:db8::/32)",
        [0x3fff, t, ..] if t & 0xf000 == 0 => "a documentation address (3fff::/20)",
        [0x2001, 0x0002, 0, ..] => "a benchmarking address (2001:2::/48)",
        [0x2001, 0x0010..=0x001f, ..] => "an ORCHID address (2001:10::/28)",
        [s, ..] if s & 0xfe00 == 0xfc00 => "a unique local address (fc00::/7)",
        [s, ..] if s & 0xffc0 == 0xfe80 => "a link-local address (fe80::/10)",
        [s, ..] if s & 0xffc0 == 0xfec0 => "a site-local address (fec0::/10)",
        [s, ..] if s & 0xff00 == 0xff00 => "a multicast address (ff00::/8)",
        // Only global unicast (2000::/3) is routed on the internet.
        [s, ..] if s & 0xe000 != 0x2000 => "a reserved address (outside 2000::/3)",
        _ => return None,
    };
    Some(reason)
}

/// The IPv4 address an IPv6 address delivers to, for the forms that embed one.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let from = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated; not :: or ::1).
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(from(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) > (0, 1) => Some(from(hi, lo)),
        // ::ffff:0:a.b.c.d (SIIT).
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(from(hi, lo)),
        // 64:ff9b::a.b.c.d and 64:ff9b:1::/48 (NAT64).
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(from(hi, lo)),
        [0x0064, 0xff9b, 0x0001, _, _, _, hi, lo] => Some(from(hi, lo)),
        // 2002:a.b.c.d::/48 (6to4).
        [0x2002, hi, lo, ..] => Some(from(hi, lo)),
        // 2001:0::/32 (Teredo): the client's address, inverted, in the last 32 bits.
        [0x2001, 0, _, _, _, _, hi, lo] => Some(from(!hi, !lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(text: &str) -> bool {
        is_public(text.parse().unwrap())
    }

    #[test]
    fn internet_addresses_are_public() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:82a::200e",
            "3fff:1000::1",
        ] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[test]
    fn private_loopback_link_local_and_metadata_addresses_are_not() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "100.64.0.1",
            "100.100.100.200",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.170",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "3fff:fff:ffff::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::ffff:0:127.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!public(ip), "{ip} is not public");
        }
    }

    #[test]
    fn ipv6_forms_of_public_ipv4_addresses_are_public() {
        assert!(public("::ffff:8.8.8.8"));
        assert!(public("64:ff9b::808:808"));
        assert!(public("2002:808:808::1"));
    }

    #[test]
    fn teredo_is_judged_by_the_client_address_it_carries() {
        // 127.0.0.1 inverted is 80ff:fffe.
        assert!(!public("2001:0:4136:e378:8000:63bf:80ff:fffe"));
        // 8.8.8.8 inverted is f7f7:f7f7.
        assert!(public("2001:0:4136:e378:8000:63bf:f7f7:f7f7"));
    }

    #[test]
    fn every_refusal_says_why() {
        let reason = non_public_reason("::ffff:127.0.0.1".parse().unwrap()).unwrap();
        assert!(reason.contains("IPv4"), "{reason}");
        let reason = non_public_reason("169.254.169.254".parse().unwrap()).unwrap();
        assert!(reason.contains("metadata"), "{reason}");
    }
}
