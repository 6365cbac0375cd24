//! HTTP/1.1 as joinready speaks it, without I/O: the requests it sends (GET, CONNECT), the
//! response head it reads (status line and the headers checks look at), chunked bodies, and the
//! schemes a proxy's 407 offers. The client in `probe::http` moves these bytes.

/// Why a response is not HTTP/1.x; the text names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the answer is not HTTP: {0}")]
pub struct NotHttp(pub String);

/// The request methods joinready sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A one-shot fetch; the connection is closed after the answer.
    Get,
    /// A tunnel request to a forward proxy; the connection stays open on 2xx.
    Connect,
}

/// One request: `target` is a path (origin form), an absolute URL (through a proxy) or
/// `host:port` (CONNECT); `host` is the Host header.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: Method,
    pub target: &'a str,
    pub host: &'a str,
    /// Basic credentials for the proxy, as (user, password).
    pub proxy_credentials: Option<(&'a str, &'a str)>,
}

impl Request<'_> {
    /// The request bytes, headers in a fixed order and no body.
    pub fn encode(&self) -> Vec<u8> {
        let method = match self.method {
            Method::Get => "GET",
            Method::Connect => "CONNECT",
        };
        let mut text = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: joinready/{}\r\n",
            self.target,
            self.host,
            env!("CARGO_PKG_VERSION")
        );
        if self.method == Method::Get {
            text.push_str("Accept: */*\r\nConnection: close\r\n");
        }
        if let Some((user, password)) = self.proxy_credentials {
            text.push_str(&format!(
                "Proxy-Authorization: Basic {}\r\n",
                basic(user, password)
            ));
        }
        text.push_str("\r\n");
        text.into_bytes()
    }
}

/// The Basic credentials token of RFC 7617: base64 of `user:password`.
pub fn basic(user: &str, password: &str) -> String {
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

/// The status line and two headers of an HTTP/1.x response head.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub status_line: String,
    pub server: Option<String>,
    pub location: Option<String>,
}

/// Parses the head (everything before the blank line); the body is never read.
pub fn parse_head(head: &[u8]) -> Result<Head, NotHttp> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default().trim().to_string();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let status = match (version.starts_with("HTTP/1."), code.parse::<u16>()) {
        (true, Ok(status)) if (100..=599).contains(&status) && code.len() == 3 => status,
        _ => {
            let shown: String = status_line.chars().take(60).collect();
            return Err(NotHttp(format!("status line `{shown}`")));
        }
    };
    let mut server = None;
    let mut location = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value: String = value.trim().chars().take(200).collect();
        if name.eq_ignore_ascii_case("server") {
            server = Some(value);
        } else if name.eq_ignore_ascii_case("location") {
            location = Some(value);
        }
    }
    Ok(Head {
        status,
        status_line,
        server,
        location,
    })
}

/// Offset of the blank line that ends a response head, if it has arrived.
pub fn head_end(received: &[u8]) -> Option<usize> {
    received.windows(4).position(|w| w == b"\r\n\r\n")
}

/// The value of the first header called `name` (any case) in a head's text.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Decodes a chunked body; None when it is malformed or incomplete.
pub fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    // Bounded: each pass consumes at least the size line.
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(body.get(..line_end)?).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = body.get(line_end + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_and_headers() {
        let head = parse_head(
            b"HTTP/1.1 302 Found\r\nServer: nginx\r\nlocation: https://vpn/login\r\nX: y",
        )
        .unwrap();
        assert_eq!(
            head,
            Head {
                status: 302,
                status_line: "HTTP/1.1 302 Found".into(),
                server: Some("nginx".into()),
                location: Some("https://vpn/login".into()),
            }
        );
        assert_eq!(parse_head(b"HTTP/1.0 200").unwrap().status, 200);
    }

    #[test]
    fn what_is_not_http_is_said_so() {
        for bad in [
            &b""[..],
            b"SSH-2.0-OpenSSH_9.2",
            b"HTTP/1.1 abc OK",
            b"HTTP/1.1 2000 OK",
            b"HTTP/2 200",
            b"\xff\xfe\x00",
        ] {
            assert!(parse_head(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn requests_carry_host_and_proxy_credentials() {
        let get = Request {
            method: Method::Get,
            target: "/wpad.dat",
            host: "wpad.corp",
            proxy_credentials: None,
        };
        assert_eq!(
            String::from_utf8(get.encode()).unwrap(),
            format!(
                "GET /wpad.dat HTTP/1.1\r\nHost: wpad.corp\r\nUser-Agent: joinready/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        let connect = Request {
            method: Method::Connect,
            target: "a:443",
            host: "a:443",
            proxy_credentials: Some(("a", "b")),
        };
        assert_eq!(
            String::from_utf8(connect.encode()).unwrap(),
            format!(
                "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nUser-Agent: joinready/{}\r\nProxy-Authorization: Basic YTpi\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn headers_by_name() {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-type: text/plain";
        assert_eq!(header(head, "content-length"), Some("5"));
        assert_eq!(header(head, "Content-Type"), Some("text/plain"));
        assert_eq!(header(head, "location"), None);
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r\nbody"), Some(15));
    }

    #[test]
    fn chunked_bodies() {
        assert_eq!(
            dechunk(b"4\r\nabcd\r\n2;x=y\r\nef\r\n0\r\n\r\n").unwrap(),
            b"abcdef"
        );
        assert!(dechunk(b"4\r\nab").is_none());
        assert!(dechunk(b"zz\r\n").is_none());
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
