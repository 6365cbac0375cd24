//! Web and proxy URLs as profiles, the environment and DHCP write them, host-name syntax,
//! NO_PROXY matching and password redaction: text in, parts out, no I/O.

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

/// `host[:port]` with `default_port` when none is written; IPv6 literals keep their colons.
pub fn split_host_port(authority: &str, default_port: u16) -> Result<(String, u16), String> {
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
}
