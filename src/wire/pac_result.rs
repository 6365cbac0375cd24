//! The string a PAC script's FindProxyForURL returns ("PROXY a:3128; DIRECT"), as hops.

use crate::wire::url::split_host_port;
use serde::Serialize;

/// One element of a PAC result, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PacHop {
    Direct,
    Proxy {
        host: String,
        port: u16,
    },
    /// SOCKS, HTTPS and anything else this tool does not speak: named, then skipped.
    Unsupported {
        text: String,
    },
}

impl std::fmt::Display for PacHop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacHop::Direct => f.write_str("DIRECT"),
            PacHop::Proxy { host, port } => write!(f, "PROXY {host}:{port}"),
            PacHop::Unsupported { text } => f.write_str(text),
        }
    }
}

/// Parses a FindProxyForURL result ("PROXY a:3128; DIRECT"): `;`-separated, types
/// case-insensitive, empty elements ignored. An empty result means DIRECT (as browsers do).
pub fn parse_pac_result(text: &str) -> Result<Vec<PacHop>, String> {
    let mut hops = Vec::new();
    for element in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let mut words = element.split_whitespace();
        let kind = words.next().unwrap_or_default().to_ascii_uppercase();
        let server = words.next();
        if words.next().is_some() {
            return Err(format!(
                "`{element}`: one type and one host:port per element"
            ));
        }
        let hop = match (kind.as_str(), server) {
            ("DIRECT", None) => PacHop::Direct,
            ("PROXY", Some(server)) => {
                let (host, port) =
                    split_host_port(server, 80).map_err(|m| format!("`{element}`: {m}"))?;
                PacHop::Proxy { host, port }
            }
            ("SOCKS" | "SOCKS4" | "SOCKS5" | "HTTPS" | "HTTP", Some(_)) => PacHop::Unsupported {
                text: element.to_string(),
            },
            _ => {
                return Err(format!(
                    "`{element}` is not DIRECT, PROXY host:port, SOCKS host:port or HTTPS host:port"
                ))
            }
        };
        hops.push(hop);
    }
    if hops.is_empty() {
        hops.push(PacHop::Direct);
    }
    Ok(hops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pac_results() {
        let proxy = |h: &str, p| PacHop::Proxy {
            host: h.into(),
            port: p,
        };
        assert_eq!(
            parse_pac_result("PROXY 10.77.9.9:3128; proxy web:8080 ;DIRECT").unwrap(),
            vec![proxy("10.77.9.9", 3128), proxy("web", 8080), PacHop::Direct]
        );
        assert_eq!(parse_pac_result("").unwrap(), vec![PacHop::Direct]);
        assert_eq!(parse_pac_result(" ; ").unwrap(), vec![PacHop::Direct]);
        assert_eq!(
            parse_pac_result("SOCKS5 s:1080; DIRECT").unwrap(),
            vec![
                PacHop::Unsupported {
                    text: "SOCKS5 s:1080".into()
                },
                PacHop::Direct
            ]
        );
        for bad in ["PROXY", "DIRECT x", "PRXY a:1", "PROXY a:b", "PROXY a:1 b"] {
            assert!(parse_pac_result(bad).is_err(), "{bad}");
        }
    }
}
