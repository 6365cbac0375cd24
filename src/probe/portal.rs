//! TLS portal probe (SSL VPN gateways): TCP connect, TLS handshake with the certificate chain as
//! evidence, then `GET path` and the HTTP status line. One deadline is shared by every phase,
//! and the phase that failed is named.

use crate::duration::Human;
use crate::probe::tcp::{connect, millis, ConnectError};
use crate::probe::tls::{TlsEvidence, Trust, TrustError};
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout_at;
use tokio_rustls::TlsConnector;

/// The status line and headers are read up to this many bytes; a portal's are far smaller.
const MAX_HEAD: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Connect,
    Tls,
    Request,
    Read,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Connect => "connect",
            Phase::Tls => "TLS handshake",
            Phase::Request => "HTTP request",
            Phase::Read => "HTTP response",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error("TCP {port} {source}", port = .address.port())]
    Connect {
        address: SocketAddr,
        source: ConnectError,
    },
    #[error("TLS handshake failed: {message}")]
    Tls {
        message: String,
        /// The chain the server showed, when it got that far.
        evidence: Option<Box<TlsEvidence>>,
    },
    #[error("no {phase} within {} (the connection was accepted)", Human(*.waited))]
    Silent { phase: Phase, waited: Duration },
    #[error("{phase} failed: {reason}")]
    Io { phase: Phase, reason: String },
    #[error("the answer is not HTTP: {0}")]
    NotHttp(String),
    #[error("{0}")]
    Trust(#[from] TrustError),
}

impl PortalError {
    pub fn phase(&self) -> Phase {
        match self {
            PortalError::Connect { .. } => Phase::Connect,
            PortalError::Tls { .. } | PortalError::Trust(_) => Phase::Tls,
            PortalError::Silent { phase, .. } | PortalError::Io { phase, .. } => *phase,
            PortalError::NotHttp(_) => Phase::Read,
        }
    }
}

/// What the portal showed.
#[derive(Debug, Clone, Serialize)]
pub struct PortalEvidence {
    pub address: SocketAddr,
    pub url: String,
    pub connect_ms: f64,
    pub tls_ms: f64,
    /// "TLSv1_3" or "TLSv1_2".
    pub tls_version: Option<String>,
    pub tls: Option<TlsEvidence>,
    /// From sending the request to the end of the headers.
    pub response_ms: f64,
    pub status: u16,
    pub status_line: String,
    pub server: Option<String>,
    pub location: Option<String>,
}

pub struct PortalRequest<'a> {
    pub address: SocketAddr,
    /// The name the certificate must carry and the Host header names.
    pub host: &'a str,
    pub path: &'a str,
    pub trust: &'a Trust,
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
pub fn parse_head(head: &[u8]) -> Result<Head, PortalError> {
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
            return Err(PortalError::NotHttp(format!("status line `{shown}`")));
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

fn url(host: &str, port: u16, path: &str) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    let authority = if port == 443 {
        host
    } else {
        format!("{host}:{port}")
    };
    format!("https://{authority}{path}")
}

pub async fn probe(
    request: PortalRequest<'_>,
    deadline: Instant,
) -> Result<PortalEvidence, PortalError> {
    let PortalRequest {
        address,
        host,
        path,
        trust,
    } = request;
    let (tcp, connected) = connect(address, deadline)
        .await
        .map_err(|source| PortalError::Connect { address, source })?;
    let exchange = exchange(tcp, host, address.port(), path, trust, deadline).await?;
    Ok(PortalEvidence {
        address,
        url: exchange.url,
        connect_ms: connected.connect_ms,
        tls_ms: exchange.tls_ms,
        tls_version: exchange.tls_version,
        tls: exchange.tls,
        response_ms: exchange.response_ms,
        status: exchange.head.status,
        status_line: exchange.head.status_line,
        server: exchange.head.server,
        location: exchange.head.location,
    })
}

/// What a TLS handshake and one `GET` on an open connection showed.
#[derive(Debug)]
pub struct Exchange {
    pub url: String,
    pub tls_ms: f64,
    pub tls_version: Option<String>,
    pub tls: Option<TlsEvidence>,
    /// The certificates the server sent, leaf first, for checks that judge the chain further.
    pub chain: Vec<CertificateDer<'static>>,
    pub response_ms: f64,
    pub head: Head,
    /// The whole response head as received, for headers `Head` does not keep.
    pub raw_head: Vec<u8>,
}

/// TLS handshake as `host`, then `GET path` and the response head, on a connection that is
/// already open (directly, or a tunnel through a proxy). `port` only shapes the URL and Host.
pub async fn exchange<S>(
    stream: S,
    host: &str,
    port: u16,
    path: &str,
    trust: &Trust,
    deadline: Instant,
) -> Result<Exchange, PortalError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let tokio_deadline = tokio::time::Instant::from_std(deadline);
    let (config, verifier) = trust.recording_config()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let server_name = ServerName::try_from(bare.to_string()).map_err(|e| PortalError::Tls {
        message: format!("`{host}` is not a valid TLS server name: {e}"),
        evidence: None,
    })?;
    let started = Instant::now();
    let handshake = TlsConnector::from(config).connect(server_name, stream);
    let mut tls = match timeout_at(tokio_deadline, handshake).await {
        Err(_) => {
            return Err(PortalError::Silent {
                phase: Phase::Tls,
                waited: deadline.saturating_duration_since(started),
            })
        }
        Ok(Err(error)) => {
            return Err(PortalError::Tls {
                message: error.to_string(),
                evidence: verifier.evidence().map(Box::new),
            })
        }
        Ok(Ok(stream)) => stream,
    };
    let tls_ms = millis(started.elapsed());
    let tls_version = tls.get_ref().1.protocol_version().map(|v| format!("{v:?}"));
    let certificate = verifier.evidence();

    let url = url(host, port, path);
    let host_header = url
        .trim_start_matches("https://")
        .split('/')
        .next()
        .unwrap_or(host)
        .to_string();
    let message = format!(
        "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: joinready/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let sent = Instant::now();
    match timeout_at(tokio_deadline, tls.write_all(message.as_bytes())).await {
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
    let raw_head = read_head(&mut tls, sent, deadline).await?;
    let response_ms = millis(sent.elapsed());
    let head = parse_head(&raw_head)?;
    Ok(Exchange {
        url,
        tls_ms,
        tls_version,
        tls: certificate,
        chain: verifier.chain(),
        response_ms,
        head,
        raw_head,
    })
}

/// Reads an HTTP response head (up to the blank line, which is not returned) from `stream`.
/// A read may take a little of the body with it; the body is never used.
pub async fn read_head<S>(
    stream: &mut S,
    sent: Instant,
    deadline: Instant,
) -> Result<Vec<u8>, PortalError>
where
    S: AsyncRead + Unpin,
{
    let tokio_deadline = tokio::time::Instant::from_std(deadline);
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    // Bounded: each pass adds at least one byte or ends, and MAX_HEAD caps the total.
    let end = loop {
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if head.len() >= MAX_HEAD {
            return Err(PortalError::NotHttp(format!(
                "no end of the headers within {MAX_HEAD} bytes"
            )));
        }
        let read = match timeout_at(tokio_deadline, stream.read(&mut chunk)).await {
            Err(_) => {
                return Err(PortalError::Silent {
                    phase: Phase::Read,
                    waited: deadline.saturating_duration_since(sent),
                })
            }
            Ok(result) => result.map_err(|e| PortalError::Io {
                phase: Phase::Read,
                reason: e.to_string(),
            })?,
        };
        if read == 0 {
            // Closed early: whatever came is all there is; a bare status line still counts.
            if head.is_empty() {
                return Err(PortalError::Io {
                    phase: Phase::Read,
                    reason: "the server closed the connection without answering".to_string(),
                });
            }
            break head.len();
        }
        head.extend_from_slice(chunk.get(..read).unwrap_or_default());
    };
    head.truncate(end);
    Ok(head)
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
            assert!(
                matches!(parse_head(bad), Err(PortalError::NotHttp(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn urls_name_the_port_only_when_it_is_not_443() {
        assert_eq!(url("vpn.example", 443, "/"), "https://vpn.example/");
        assert_eq!(url("vpn.example", 8443, "/x"), "https://vpn.example:8443/x");
        assert_eq!(url("2001:db8::1", 443, "/"), "https://[2001:db8::1]/");
    }
}
