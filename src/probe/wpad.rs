//! WPAD as Windows does it through DNS: `wpad.<suffix>` with devolution (one label dropped at
//! a time, never below two labels), then `GET http://wpad.<suffix>/wpad.dat`, read with a size
//! cap and within the deadline.

use crate::probe::portal::parse_head;
use crate::probe::tcp::{connect, millis, ConnectError};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout_at;

/// The MIME type a PAC file should be served with.
pub const PAC_MIME: &str = "application/x-ns-proxy-autoconfig";

/// The names Windows asks, in order: `corp.example.com` → wpad.corp.example.com,
/// wpad.example.com (a two-label suffix is the last one tried).
pub fn candidates(suffix: &str) -> Vec<String> {
    let labels: Vec<&str> = suffix
        .trim()
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
        .collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| format!("wpad.{}", labels[i..].join(".")))
        .collect()
}

/// Where Linux DHCP clients keep their leases; option 252 (the PAC URL) is read from them.
pub const LEASE_PLACES: &[&str] = &[
    "/var/lib/dhcp",
    "/var/lib/dhclient",
    "/var/lib/NetworkManager",
    "/run/systemd/netif/leases",
];

/// The PAC URL of DHCP option 252 in one lease file's text, if it has one: dhclient writes
/// `option wpad "URL";` (when declared) or `option unknown-252 "URL";` / hex bytes, the last
/// lease last; systemd-networkd writes private options as `OPTION_252=<hex>`.
pub fn option_252(text: &str) -> Option<String> {
    let mut found = None;
    for line in text.lines().map(str::trim) {
        let value = if let Some(rest) = line
            .strip_prefix("option wpad ")
            .or_else(|| line.strip_prefix("option unknown-252 "))
            .or_else(|| line.strip_prefix("option wpad-url "))
        {
            let rest = rest.trim_end_matches(';').trim();
            if let Some(quoted) = rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                Some(quoted.to_string())
            } else {
                hex_text(&rest.replace(':', ""))
            }
        } else if let Some(hex) = line.strip_prefix("OPTION_252=") {
            hex_text(hex.trim())
        } else {
            None
        };
        if let Some(url) = value.map(|v| v.trim_end_matches('\0').trim().to_string()) {
            if url.starts_with("http://") || url.starts_with("https://") {
                found = Some(url);
            }
        }
    }
    found
}

fn hex_text(hex: &str) -> Option<String> {
    if !hex.len().is_multiple_of(2) || hex.is_empty() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// The option-252 URLs of the lease files under `places`, with the file each came from.
pub fn dhcp_wpad_urls(places: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for place in places {
        let Ok(entries) = std::fs::read_dir(place) else {
            continue;
        };
        // Bounded: at most 64 files per place, each read only up to 256 KiB.
        for entry in entries.filter_map(Result::ok).take(64) {
            let path = entry.path();
            if !path.is_file() {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let text = String::from_utf8_lossy(bytes.get(..256 * 1024).unwrap_or(&bytes));
            if let Some(url) = option_252(&text) {
                found.push((path.display().to_string(), url));
            }
        }
    }
    found.sort();
    found
}

/// DHCP option 252, as (where it came from, the URL): from the lease files under
/// `lease_places` when given (any OS), else where this OS keeps it: on Windows from the DHCP
/// client through WinHTTP, elsewhere from the usual lease files. An error says why it could not
/// be read; WPAD then goes on to DNS, as Windows does.
pub async fn dhcp_option_252(
    lease_places: Option<Vec<String>>,
    budget: Duration,
) -> Result<Vec<(String, String)>, String> {
    let ask = move || match lease_places {
        Some(places) => {
            let places: Vec<&str> = places.iter().map(String::as_str).collect();
            Ok(dhcp_wpad_urls(&places))
        }
        None => system_option_252(),
    };
    match tokio::time::timeout(budget, tokio::task::spawn_blocking(ask)).await {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => Err(format!("reading DHCP option 252 failed: {error}")),
        Err(_) => Err(format!(
            "DHCP option 252: no answer within {}",
            crate::duration::Human(budget)
        )),
    }
}

/// Blocking: option 252 from the Windows DHCP client.
#[cfg(windows)]
fn system_option_252() -> Result<Vec<(String, String)>, String> {
    let url = super::dhcp_windows::option_252_url()?;
    let source = "the DHCP server's answer (asked through WinHTTP)";
    Ok(url
        .map(|url| (source.to_string(), url))
        .into_iter()
        .collect())
}

/// Blocking: option 252 from the lease files of the usual DHCP clients.
#[cfg(not(windows))]
fn system_option_252() -> Result<Vec<(String, String)>, String> {
    Ok(dhcp_wpad_urls(LEASE_PLACES))
}

#[derive(Debug, thiserror::Error)]
pub enum WpadError {
    #[error("TCP 80 {0}")]
    Connect(ConnectError),
    #[error("no complete answer within {}", crate::duration::Human(*.0))]
    Silent(Duration),
    #[error("{0}")]
    Io(String),
    #[error("the answer is not HTTP: {0}")]
    NotHttp(String),
    #[error("the file is larger than the {limit} bytes a PAC file may have")]
    TooLarge { limit: usize },
}

#[derive(Debug, Clone, Serialize)]
pub struct WpadFetch {
    pub url: String,
    pub address: SocketAddr,
    pub connect_ms: f64,
    pub status: u16,
    pub status_line: String,
    pub content_type: Option<String>,
    pub bytes: usize,
    pub ms: f64,
    #[serde(skip)]
    pub body: String,
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Decodes a chunked body; None when it is malformed or incomplete.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
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

/// `GET /wpad.dat` from `address` with `Host: host`; at most `limit` bytes of body.
pub async fn fetch(
    address: SocketAddr,
    host: &str,
    limit: usize,
    deadline: Instant,
) -> Result<WpadFetch, WpadError> {
    fetch_path(address, host, "/wpad.dat", limit, deadline).await
}

/// `GET path` from `address` with `Host: host` (the URL DHCP option 252 names).
pub async fn fetch_path(
    address: SocketAddr,
    host: &str,
    path: &str,
    limit: usize,
    deadline: Instant,
) -> Result<WpadFetch, WpadError> {
    let started = Instant::now();
    let (mut stream, connected) = connect(address, deadline)
        .await
        .map_err(WpadError::Connect)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: joinready/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let tokio_deadline = tokio::time::Instant::from_std(deadline);
    let silent = || WpadError::Silent(deadline.saturating_duration_since(started));
    timeout_at(tokio_deadline, stream.write_all(request.as_bytes()))
        .await
        .map_err(|_| silent())?
        .map_err(|e| WpadError::Io(e.to_string()))?;
    let cap = limit + 16 * 1024;
    let mut received = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    // Bounded by the byte cap and the deadline.
    loop {
        let read = timeout_at(tokio_deadline, stream.read(&mut chunk))
            .await
            .map_err(|_| silent())?
            .map_err(|e| WpadError::Io(e.to_string()))?;
        if read == 0 {
            break;
        }
        received.extend_from_slice(chunk.get(..read).unwrap_or_default());
        if received.len() > cap {
            return Err(WpadError::TooLarge { limit });
        }
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(received.get(..end).unwrap_or_default());
            if let Some(length) =
                header(&head, "content-length").and_then(|v| v.parse::<usize>().ok())
            {
                if length > limit {
                    return Err(WpadError::TooLarge { limit });
                }
                if received.len() >= end + 4 + length {
                    break;
                }
            }
        }
    }
    let end = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| WpadError::NotHttp("no end of the headers".to_string()))?;
    let head_bytes = received.get(..end).unwrap_or_default();
    let parsed = parse_head(head_bytes).map_err(|e| WpadError::NotHttp(e.to_string()))?;
    let head = String::from_utf8_lossy(head_bytes).into_owned();
    let mut body = received.get(end + 4..).unwrap_or_default().to_vec();
    if header(&head, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body).ok_or_else(|| WpadError::Io("malformed chunked body".to_string()))?;
    }
    if let Some(length) = header(&head, "content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.truncate(length);
    }
    if body.len() > limit {
        return Err(WpadError::TooLarge { limit });
    }
    Ok(WpadFetch {
        url: format!("http://{host}{path}"),
        address,
        connect_ms: connected.connect_ms,
        status: parsed.status,
        status_line: parsed.status_line,
        content_type: header(&head, "content-type").map(|v| v.chars().take(100).collect()),
        bytes: body.len(),
        ms: millis(started.elapsed()),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devolution_stops_at_two_labels() {
        assert_eq!(
            candidates("corp.jr.test"),
            vec!["wpad.corp.jr.test", "wpad.jr.test"]
        );
        assert_eq!(
            candidates("a.b.corp.example.com."),
            vec![
                "wpad.a.b.corp.example.com",
                "wpad.b.corp.example.com",
                "wpad.corp.example.com",
                "wpad.example.com"
            ]
        );
        assert_eq!(candidates("example.com"), vec!["wpad.example.com"]);
        assert!(candidates("localdomain").is_empty());
        assert!(candidates("").is_empty());
    }

    #[test]
    fn dhcp_option_252_from_lease_files() {
        let dhclient = "lease {\n  interface \"eth0\";\n  option wpad \"http://old.corp/wpad.dat\";\n}\nlease {\n  option unknown-252 \"http://wpad.corp.jr.test/proxy.pac\";\n}\n";
        assert_eq!(
            option_252(dhclient).as_deref(),
            Some("http://wpad.corp.jr.test/proxy.pac")
        );
        // "http://a/p.pac" as dhclient prints bytes it cannot name, and as networkd stores them.
        assert_eq!(
            option_252("  option unknown-252 68:74:74:70:3a:2f:2f:61:2f:70:2e:70:61:63:00;")
                .as_deref(),
            Some("http://a/p.pac")
        );
        assert_eq!(
            option_252("ADDRESS=10.0.0.5\nOPTION_252=687474703a2f2f612f702e706163\n").as_deref(),
            Some("http://a/p.pac")
        );
        assert_eq!(option_252("option wpad \"not a url\";"), None);
        assert_eq!(option_252("OPTION_252=zz"), None);
        assert_eq!(option_252(""), None);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dhclient.eth0.leases"), dhclient).unwrap();
        std::fs::write(dir.path().join("other"), "nothing").unwrap();
        let place = dir.path().display().to_string();
        let found = dhcp_wpad_urls(&[place.as_str(), "/nonexistent/leases"]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "http://wpad.corp.jr.test/proxy.pac");
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

    async fn serve(reply: Vec<u8>) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            if let Ok(Ok((mut stream, _))) =
                tokio::time::timeout(Duration::from_secs(3), listener.accept()).await
            {
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(&reply).await;
            }
        });
        address
    }

    #[tokio::test]
    async fn a_pac_file_with_its_type() {
        let body = "function FindProxyForURL(u, h) { return 'DIRECT'; }";
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {PAC_MIME}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let address = serve(reply.into_bytes()).await;
        let fetched = fetch(
            address,
            "wpad.corp.jr.test",
            1024,
            Instant::now() + Duration::from_secs(2),
        )
        .await
        .unwrap();
        assert_eq!(fetched.status, 200);
        assert_eq!(fetched.content_type.as_deref(), Some(PAC_MIME));
        assert_eq!(fetched.body, body);
        assert_eq!(fetched.url, "http://wpad.corp.jr.test/wpad.dat");
    }

    #[tokio::test]
    async fn a_huge_file_is_refused_at_the_cap() {
        let mut reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".to_vec();
        reply.extend(std::iter::repeat_n(b'x', 200_000));
        let address = serve(reply).await;
        let error = fetch(
            address,
            "wpad",
            64 * 1024,
            Instant::now() + Duration::from_secs(2),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(error, WpadError::TooLarge { limit: 65536 }),
            "{error}"
        );
        let declared =
            serve(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\nxx".to_vec()).await;
        let error = fetch(
            declared,
            "wpad",
            64 * 1024,
            Instant::now() + Duration::from_secs(2),
        )
        .await
        .unwrap_err();
        assert!(matches!(error, WpadError::TooLarge { .. }), "{error}");
    }
}
