//! WPAD as Windows does it through DNS: `wpad.<suffix>` with devolution (one label dropped at
//! a time, never below two labels), then `GET http://wpad.<suffix>/wpad.dat`, read with a size
//! cap and within the deadline.

use crate::probe::http::{self, HttpError};
use crate::probe::tcp::{connect, millis, ConnectError};
use crate::wire::http::{header, Method, NotHttp, Request};
use crate::wire::wpad::option_252;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The MIME type a PAC file should be served with.
pub const PAC_MIME: &str = "application/x-ns-proxy-autoconfig";

/// Where Linux DHCP clients keep their leases; option 252 (the PAC URL) is read from them.
pub const LEASE_PLACES: &[&str] = &[
    "/var/lib/dhcp",
    "/var/lib/dhclient",
    "/var/lib/NetworkManager",
    "/run/systemd/netif/leases",
];

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

#[derive(Debug, Clone, Serialize, PartialEq, Deserialize, schemars::JsonSchema)]
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
    let request = Request {
        method: Method::Get,
        target: path,
        host,
        proxy_credentials: None,
    };
    let response = match http::fetch(&mut stream, &request, limit, deadline).await {
        Ok(response) => response,
        Err(HttpError::Silent { .. }) => {
            return Err(WpadError::Silent(
                deadline.saturating_duration_since(started),
            ))
        }
        Err(HttpError::Io { reason, .. }) => return Err(WpadError::Io(reason)),
        Err(HttpError::Unterminated(reason)) => return Err(WpadError::NotHttp(reason)),
        Err(HttpError::NotHttp(NotHttp(reason))) => return Err(WpadError::NotHttp(reason)),
        Err(HttpError::TooLarge { .. }) => return Err(WpadError::TooLarge { limit }),
        Err(error @ HttpError::BadChunks) => return Err(WpadError::Io(error.to_string())),
    };
    let head = String::from_utf8_lossy(&response.raw_head);
    let body = response.body;
    Ok(WpadFetch {
        url: format!("http://{host}{path}"),
        address,
        connect_ms: connected.connect_ms,
        status: response.head.status,
        status_line: response.head.status_line,
        content_type: header(&head, "content-type").map(|v| v.chars().take(100).collect()),
        bytes: body.len(),
        ms: millis(started.elapsed()),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn dhcp_option_252_from_lease_files() {
        let dhclient = "lease {\n  interface \"eth0\";\n  option wpad \"http://old.corp/wpad.dat\";\n}\nlease {\n  option unknown-252 \"http://wpad.corp.jr.test/proxy.pac\";\n}\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dhclient.eth0.leases"), dhclient).unwrap();
        std::fs::write(dir.path().join("other"), "nothing").unwrap();
        let place = dir.path().display().to_string();
        let found = dhcp_wpad_urls(&[place.as_str(), "/nonexistent/leases"]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "http://wpad.corp.jr.test/proxy.pac");
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

    #[tokio::test]
    async fn a_server_that_does_not_speak_http_is_named_once() {
        let address = serve(b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec()).await;
        let error = fetch(
            address,
            "wpad",
            1024,
            Instant::now() + Duration::from_secs(2),
        )
        .await
        .unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, WpadError::NotHttp(_)), "{text}");
        assert_eq!(text.matches("the answer is not HTTP").count(), 1, "{text}");
    }
}
