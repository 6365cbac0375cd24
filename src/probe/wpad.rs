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
    let started = Instant::now();
    let (mut stream, connected) = connect(address, deadline)
        .await
        .map_err(WpadError::Connect)?;
    let request = format!(
        "GET /wpad.dat HTTP/1.1\r\nHost: {host}\r\nUser-Agent: joinready/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
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
        url: format!("http://{host}/wpad.dat"),
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
