//! Forward proxies: where they come from (profile, environment, PAC), how their strings are
//! written, and the HTTP CONNECT handshake with what a 407 offered.
//!
//! Parsing is pure and unit-tested; `connect_tunnel` and `get_via` do the I/O with one deadline
//! shared by their phases.

use crate::probe::portal::{parse_head, read_head, PortalError};
use crate::probe::tcp::millis;
use crate::secret::Secret;
use serde::Serialize;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout_at;

/// Whether `host` is a DNS name as an endpoint or proxy may be written (LDH labels, `_`).
pub fn valid_host_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
        })
}

/// `https://host[:port]/path` or `http://…` split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    pub https: bool,
    pub host: String,
    pub port: u16,
    pub path: String,
}

pub fn parse_web_url(text: &str) -> Result<WebUrl, String> {
    let text = text.trim();
    let (https, rest) = if let Some(rest) = text.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(format!(
            "`{text}` is not an http:// or https:// URL, e.g. https://sts.corp.example.com/adfs/ls/"
        ));
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let (host, port) = split_host_port(authority, if https { 443 } else { 80 })
        .map_err(|m| format!("`{text}`: {m}"))?;
    Ok(WebUrl {
        https,
        host,
        port,
        path: path.to_string(),
    })
}

fn split_host_port(authority: &str, default_port: u16) -> Result<(String, u16), String> {
    if authority.contains('@') {
        return Err("credentials do not belong in this URL".to_string());
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (
            host,
            port.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("invalid port `{port}`"))?,
        ),
        _ => (authority, default_port),
    };
    let host = host.to_ascii_lowercase();
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    if !is_ip && (!valid_host_name(&host) || host.contains('*')) {
        return Err(format!("invalid host name `{host}`"));
    }
    Ok((host, port))
}

/// A forward proxy: host, port and the Basic credentials its URL carried, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyServer {
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for ProxyServer {
    // The password never reaches a log or a report.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyServer({}:{})", self.host, self.port)
    }
}

impl std::fmt::Display for ProxyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Parses a proxy as HTTP_PROXY and `[proxy] url` write it: `http://[user[:password]@]host:port`,
/// or a bare `host:port`. Only HTTP proxies (the CONNECT kind) are supported.
pub fn parse_proxy_url(text: &str) -> Result<ProxyServer, String> {
    let text = text.trim();
    let rest = if let Some(rest) = text.strip_prefix("http://") {
        rest
    } else if text.contains("://") {
        return Err(format!(
            "proxy `{}`: only http:// proxies are supported (the kind Windows' WinHTTP uses), e.g. http://proxy.corp.example.com:8080",
            redact(text)
        ));
    } else {
        text
    };
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        return Err(format!(
            "proxy `{}`: write only scheme, host and port, e.g. http://proxy:3128",
            redact(text)
        ));
    }
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => (Some(userinfo), hostport),
        None => (None, authority),
    };
    let (host, port) =
        split_host_port(hostport, 80).map_err(|m| format!("proxy `{}`: {m}", redact(text)))?;
    let (user, password) = match userinfo.map(|u| u.split_once(':').unwrap_or((u, ""))) {
        Some((user, password)) => (
            Some(percent_decode(user)),
            Some(percent_decode(password)).filter(|p| !p.is_empty()),
        ),
        None => (None, None),
    };
    Ok(ProxyServer {
        host,
        port,
        user,
        password,
    })
}

/// The URL with any password replaced, for messages.
pub fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &text[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &text[..scheme + 3], &text[at..])
        }
        _ => text.to_string(),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], text.get(i + 1..i + 3)) {
            (b'%', Some(hex)) if u8::from_str_radix(hex, 16).is_ok() => {
                out.push(u8::from_str_radix(hex, 16).unwrap_or_default());
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether NO_PROXY (comma-separated names, `.suffix`, `*`, IPs) exempts `host`.
pub fn no_proxy_matches(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    no_proxy
        .split([',', ' '])
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            let entry = entry.split(':').next().unwrap_or_default().to_string();
            if entry == "*" {
                return true;
            }
            let bare = entry.trim_start_matches("*.").trim_start_matches('.');
            host == bare || host.ends_with(&format!(".{bare}"))
        })
}

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

/// The authentication schemes of `Proxy-Authenticate` headers ("Basic", "Negotiate", "NTLM").
pub fn auth_schemes(raw_head: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw_head);
    let mut schemes: Vec<String> = Vec::new();
    for line in text.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if !name.trim().eq_ignore_ascii_case("proxy-authenticate") {
            continue;
        }
        // "Basic realm=\"x\", Negotiate" lists schemes separated by commas between challenges.
        for part in split_outside_quotes(value) {
            let word = part.split_whitespace().next().unwrap_or_default();
            if !word.is_empty() && !word.contains('=') && !schemes.iter().any(|s| s == word) {
                schemes.push(word.chars().take(40).collect());
            }
        }
    }
    schemes
}

/// `value` split at commas that are not inside double quotes.
fn split_outside_quotes(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (at, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&value[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// What the proxy said to CONNECT.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectAnswer {
    pub status: u16,
    pub status_line: String,
    /// The schemes of Proxy-Authenticate on a 407.
    pub auth_schemes: Vec<String>,
    /// Whether this answer came to a request with Basic credentials.
    pub authenticated: bool,
    pub ms: f64,
}

fn basic(user: &str, password: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Sends `CONNECT host:port` on an open connection to a proxy and reads its answer head.
/// On 2xx the stream is a tunnel to the target.
pub async fn connect_tunnel(
    stream: &mut TcpStream,
    host: &str,
    port: u16,
    credentials: Option<(&str, &Secret)>,
    deadline: Instant,
) -> Result<ConnectAnswer, PortalError> {
    let authority = format!("{host}:{port}");
    let auth = credentials
        .map(|(user, password)| {
            format!(
                "Proxy-Authorization: Basic {}\r\n",
                basic(user, password.expose())
            )
        })
        .unwrap_or_default();
    let request = format!(
        "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: joinready/{}\r\n{auth}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let (head, ms) = send_and_read(stream, request.as_bytes(), deadline).await?;
    let parsed = parse_head(&head)?;
    Ok(ConnectAnswer {
        status: parsed.status,
        status_line: parsed.status_line,
        auth_schemes: auth_schemes(&head),
        authenticated: credentials.is_some(),
        ms,
    })
}

/// A plain-HTTP `GET` of `url` through a proxy (absolute form), or directly when `absolute` is
/// false (origin form, Host header from the URL).
pub async fn http_get(
    stream: &mut TcpStream,
    url: &WebUrl,
    absolute: bool,
    credentials: Option<(&str, &Secret)>,
    deadline: Instant,
) -> Result<(ConnectAnswer, Vec<u8>), PortalError> {
    let authority = if url.port == 80 {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let target = if absolute {
        format!("http://{authority}{}", url.path)
    } else {
        url.path.clone()
    };
    let auth = credentials
        .map(|(user, password)| {
            format!(
                "Proxy-Authorization: Basic {}\r\n",
                basic(user, password.expose())
            )
        })
        .unwrap_or_default();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: joinready/{}\r\nAccept: */*\r\nConnection: close\r\n{auth}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let (head, ms) = send_and_read(stream, request.as_bytes(), deadline).await?;
    let parsed = parse_head(&head)?;
    Ok((
        ConnectAnswer {
            status: parsed.status,
            status_line: parsed.status_line,
            auth_schemes: auth_schemes(&head),
            authenticated: credentials.is_some(),
            ms,
        },
        head,
    ))
}

async fn send_and_read(
    stream: &mut TcpStream,
    request: &[u8],
    deadline: Instant,
) -> Result<(Vec<u8>, f64), PortalError> {
    use crate::probe::portal::Phase;
    let sent = Instant::now();
    match timeout_at(
        tokio::time::Instant::from_std(deadline),
        stream.write_all(request),
    )
    .await
    {
        Err(_) => {
            return Err(PortalError::Silent {
                phase: Phase::Request,
                waited: deadline.saturating_duration_since(sent),
            })
        }
        Ok(result) => result.map_err(|e| PortalError::Io {
            phase: Phase::Request,
            reason: e.to_string(),
        })?,
    }
    let head = read_head(stream, sent, deadline).await?;
    Ok((head, millis(sent.elapsed())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls() {
        let cases = [
            ("http://proxy.corp:3128", "proxy.corp", 3128, None, None),
            ("proxy.corp:8080", "proxy.corp", 8080, None, None),
            ("http://10.77.0.30:3129/", "10.77.0.30", 3129, None, None),
            ("http://u%40d:p%3Ass@p:1", "p", 1, Some("u@d"), Some("p:ss")),
            ("http://svc@p:1", "p", 1, Some("svc"), None),
            ("http://PROXY", "proxy", 80, None, None),
        ];
        for (text, host, port, user, password) in cases {
            let proxy = parse_proxy_url(text).unwrap();
            assert_eq!(proxy.host, host, "{text}");
            assert_eq!(proxy.port, port, "{text}");
            assert_eq!(proxy.user.as_deref(), user, "{text}");
            assert_eq!(proxy.password.as_deref(), password, "{text}");
        }
        for bad in [
            "socks5://p:1080",
            "http://p:0",
            "http://p:99999",
            "http://p/x",
            "http://bad host:1",
        ] {
            assert!(parse_proxy_url(bad).is_err(), "{bad}");
        }
        let error = parse_proxy_url("https://u:secret@p:1").unwrap_err();
        assert!(!error.contains("secret"), "{error}");
        assert!(
            !format!("{:?}", parse_proxy_url("http://u:secret@p:1").unwrap()).contains("secret")
        );
    }

    #[test]
    fn web_urls() {
        assert_eq!(
            parse_web_url("https://sts.corp.example/adfs/ls/").unwrap(),
            WebUrl {
                https: true,
                host: "sts.corp.example".into(),
                port: 443,
                path: "/adfs/ls/".into()
            }
        );
        assert_eq!(parse_web_url("http://a.b:8080").unwrap().port, 8080);
        assert_eq!(parse_web_url("http://a.b:8080").unwrap().path, "/");
        for bad in ["ftp://a.b/", "a.b", "https://*.a.b/", "https://u:p@a.b/"] {
            assert!(parse_web_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_proxy_rules() {
        let list = "localhost, .corp.jr.test,10.77.0.30,*.internal";
        assert!(no_proxy_matches(list, "corp.jr.test"));
        assert!(no_proxy_matches(list, "a.corp.jr.test"));
        assert!(no_proxy_matches(list, "10.77.0.30"));
        assert!(no_proxy_matches(list, "x.internal"));
        assert!(!no_proxy_matches(list, "notcorp.jr.test"));
        assert!(!no_proxy_matches(list, "login.microsoftonline.com"));
        assert!(no_proxy_matches("*", "anything"));
        assert!(!no_proxy_matches("", "anything"));
    }

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

    #[test]
    fn proxy_authenticate_schemes() {
        let head = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nproxy-authenticate: NTLM\r\nProxy-Authenticate: Basic realm=\"x, y\", Digest realm=\"z\"";
        assert_eq!(
            auth_schemes(head),
            vec!["Negotiate", "NTLM", "Basic", "Digest"]
        );
    }

    #[test]
    fn basic_credentials_encode_as_rfc7617() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic("a", "b"), "YTpi");
        assert_eq!(basic("ab", "c"), "YWI6Yw==");
    }
}
