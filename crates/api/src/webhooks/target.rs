//! Where a webhook may be sent: only to public addresses (no SSRF into the server's own
//! network) unless private targets are allowed for development. The check runs twice: when a
//! subscription names a URL ([`check_url`]), and at every delivery, where [`PublicResolver`] is
//! the HTTP client's resolver, so the client connects only to the addresses it let through: a
//! name that resolved to a public address at creation and to a private one now (DNS rebinding)
//! reaches nothing.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use circulo_domain::DomainError;
use circulo_domain::address::non_public_reason;

/// Resolves names for the delivery client, keeping only public addresses (all of them when
/// private targets are allowed). A name left with none fails to resolve, so nothing is sent.
#[derive(Debug, Clone, Copy)]
pub struct PublicResolver {
    /// Whether private addresses are allowed.
    pub allow_private: bool,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            if !allow_private && is_localhost(&host) {
                let refusal: Box<dyn std::error::Error + Send + Sync> =
                    format!("{host} is loopback: webhooks go to public addresses only").into();
                return Err(refusal);
            }
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = permitted(&host, &found, allow_private)
                .map_err(|reason| -> Box<dyn std::error::Error + Send + Sync> { reason.into() })?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The addresses of `found` a delivery may connect to, or why there are none.
fn permitted(
    host: &str,
    found: &[SocketAddr],
    allow_private: bool,
) -> Result<Vec<SocketAddr>, String> {
    if allow_private {
        return Ok(found.to_vec());
    }
    let public: Vec<SocketAddr> = found
        .iter()
        .filter(|addr| non_public_reason(addr.ip()).is_none())
        .copied()
        .collect();
    match (public.is_empty(), found.first()) {
        (false, _) => Ok(public),
        (true, None) => Err(format!("{host} does not resolve")),
        (true, Some(addr)) => Err(format!(
            "{host} resolves to {}, {}: webhooks go to public addresses only",
            addr.ip(),
            non_public_reason(addr.ip()).unwrap_or("not a public address"),
        )),
    }
}

/// Whether `host` is a name reserved for documentation and testing (RFC 2606, RFC 6761):
/// `example.com`, `example.net`, `example.org` and their subdomains, and the `.example`,
/// `.invalid` and `.test` domains. Nothing is ever sent to one, and no name server is asked
/// about one: the API document's examples use them.
pub fn is_reserved_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    [
        "example.com",
        "example.net",
        "example.org",
        "example",
        "invalid",
        "test",
    ]
    .iter()
    .any(|domain| under(domain))
}

/// Whether `host` is `localhost` or a name under it, which always means this machine
/// (RFC 6761): refused without asking a name server.
fn is_localhost(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Checks a subscription's (already validated) URL: its host must resolve, and to public
/// addresses only, unless private targets are allowed.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), DomainError> {
    if allow_private {
        return Ok(());
    }
    let refuse = |message: String| Err(DomainError::invalid("url", message));
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return refuse("must be an absolute URL".into());
    };
    let Some(host) = parsed.host_str() else {
        return refuse("must name a host".into());
    };
    if is_reserved_name(host) {
        return refuse(format!(
            "{host} is reserved for documentation and tests; name the receiver's real host"
        ));
    }
    if is_localhost(host) {
        return refuse(format!(
            "{host} is loopback: webhooks go to public addresses only"
        ));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return match non_public_reason(ip) {
            None => Ok(()),
            Some(reason) => refuse(format!("must reach a public address, not {reason}")),
        };
    }
    let found: Vec<SocketAddr> = match tokio::net::lookup_host((host, 0)).await {
        Ok(addrs) => addrs.collect(),
        Err(_) => return refuse(format!("{host} does not resolve")),
    };
    if let Some(private) = found.iter().find(|a| non_public_reason(a.ip()).is_some()) {
        return refuse(format!(
            "{host} resolves to {}, {}: webhooks go to public addresses only",
            private.ip(),
            non_public_reason(private.ip()).unwrap_or("not a public address"),
        ));
    }
    permitted(host, &found, false).map(|_| ()).or_else(refuse)
}

/// Why a delivery may not be sent to `url` before any name is resolved: a literal IP address
/// that is not public (the resolver never sees those), or plain `http`.
pub fn refusal_before_sending(url: &reqwest::Url, allow_private: bool) -> Option<String> {
    if let Some(host) = url.host_str().filter(|host| is_reserved_name(host)) {
        return Some(format!(
            "{host} is reserved for documentation and tests: nothing is sent to it"
        ));
    }
    if allow_private {
        return None;
    }
    if url.scheme() != "https" {
        return Some("webhooks are sent over https only".into());
    }
    let ip = match url.host()? {
        url::Host::Ipv4(ip) => IpAddr::V4(ip),
        url::Host::Ipv6(ip) => IpAddr::V6(ip),
        url::Host::Domain(_) => return None,
    };
    non_public_reason(ip)
        .map(|reason| format!("{ip} is {reason}: webhooks go to public addresses only"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        SocketAddr::new(text.parse().unwrap(), 0)
    }

    #[test]
    fn only_public_addresses_are_kept() {
        let found = [addr("127.0.0.1"), addr("93.184.215.14"), addr("::1")];
        assert_eq!(
            permitted("mixed.example", &found, false).unwrap(),
            [addr("93.184.215.14")]
        );
        let refused = permitted("rebound.example", &[addr("169.254.169.254")], false);
        assert!(refused.unwrap_err().contains("169.254.169.254"));
        assert_eq!(permitted("any", &found, true).unwrap().len(), 3);
    }

    #[tokio::test]
    async fn names_that_resolve_to_loopback_are_refused() {
        for url in [
            "https://localhost/hook",
            "https://localhost.:8443/hook",
            "https://api.LOCALHOST/hook",
        ] {
            let error = check_url(url, false).await.unwrap_err();
            assert!(error.to_string().contains("public"), "{url}: {error}");
        }
        assert!(check_url("https://localhost/hook", true).await.is_ok());
    }

    #[tokio::test]
    async fn documentation_names_are_never_asked_about_or_sent_to() {
        for host in [
            "crm.example.com",
            "EXAMPLE.org.",
            "hooks.example",
            "a.invalid",
            "x.test",
        ] {
            assert!(is_reserved_name(host), "{host}");
            let url = format!("https://{host}/hook");
            assert!(check_url(&url, false).await.is_err(), "{url}");
            let url = reqwest::Url::parse(&url).unwrap();
            assert!(refusal_before_sending(&url, true).is_some(), "{url}");
        }
        for host in ["example.co", "myexample.com", "testing.io"] {
            assert!(!is_reserved_name(host), "{host}");
        }
    }

    #[test]
    fn literal_private_addresses_are_refused_before_sending() {
        for url in [
            "https://127.0.0.1/",
            "https://[::ffff:7f00:1]/",
            "https://0.0.0.0/",
            "http://93.184.215.14/",
        ] {
            let url = reqwest::Url::parse(url).unwrap();
            assert!(refusal_before_sending(&url, false).is_some(), "{url}");
            assert!(refusal_before_sending(&url, true).is_none(), "{url}");
        }
        let public = reqwest::Url::parse("https://93.184.215.14/").unwrap();
        assert!(refusal_before_sending(&public, false).is_none());
    }
}
