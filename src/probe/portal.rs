//! TLS portal probe (SSL VPN gateways): TCP connect, TLS handshake with the certificate chain as
//! evidence, then `GET path` and the HTTP status line. One deadline is shared by every phase,
//! and the phase that failed is named.

use crate::duration::Human;
use crate::probe::http::{self, HttpError, Step};
use crate::probe::tcp::{connect, millis, ConnectError};
use crate::probe::tls::{TlsEvidence, Trust, TrustError};
use crate::wire::http::{Head, Method, NotHttp, Request};
use rustls::pki_types::{CertificateDer, ServerName};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout_at;
use tokio_rustls::TlsConnector;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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

impl From<HttpError> for PortalError {
    fn from(error: HttpError) -> Self {
        let phase = |step| match step {
            Step::Request => Phase::Request,
            Step::Read => Phase::Read,
        };
        match error {
            HttpError::Silent { step, waited } => PortalError::Silent {
                phase: phase(step),
                waited,
            },
            HttpError::Io { step, reason } => PortalError::Io {
                phase: phase(step),
                reason,
            },
            HttpError::Unterminated(reason) => PortalError::NotHttp(reason),
            HttpError::NotHttp(NotHttp(reason)) => PortalError::NotHttp(reason),
            // Only whole-body reads produce these; a head read never does.
            error @ (HttpError::TooLarge { .. } | HttpError::BadChunks) => PortalError::Io {
                phase: Phase::Read,
                reason: error.to_string(),
            },
        }
    }
}

/// What the portal showed.
#[derive(Debug, Clone, Serialize, PartialEq, Deserialize, schemars::JsonSchema)]
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
    exchange_reading(stream, host, port, path, trust, None, deadline)
        .await
        .map(|(exchange, _)| exchange)
}

/// As `exchange`, and the whole body too (at most `body_limit` bytes), for checks that read
/// what the server answered, not only that it answered.
pub async fn exchange_with_body<S>(
    stream: S,
    host: &str,
    port: u16,
    path: &str,
    trust: &Trust,
    body_limit: usize,
    deadline: Instant,
) -> Result<(Exchange, Vec<u8>), PortalError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    exchange_reading(stream, host, port, path, trust, Some(body_limit), deadline).await
}

async fn exchange_reading<S>(
    stream: S,
    host: &str,
    port: u16,
    path: &str,
    trust: &Trust,
    body_limit: Option<usize>,
    deadline: Instant,
) -> Result<(Exchange, Vec<u8>), PortalError>
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
    let request = Request {
        method: Method::Get,
        target: path,
        host: &host_header,
        proxy_credentials: None,
    };
    let (answer, body) = match body_limit {
        None => (http::head(&mut tls, &request, deadline).await?, Vec::new()),
        Some(limit) => {
            let sent = Instant::now();
            let response = http::fetch(&mut tls, &request, limit, deadline).await?;
            let answer = http::Answer {
                head: response.head,
                raw_head: response.raw_head,
                ms: millis(sent.elapsed()),
            };
            (answer, response.body)
        }
    };
    Ok((
        Exchange {
            url,
            tls_ms,
            tls_version,
            tls: certificate,
            chain: verifier.chain(),
            response_ms: answer.ms,
            head: answer.head,
            raw_head: answer.raw_head,
        },
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_port_only_when_it_is_not_443() {
        assert_eq!(url("vpn.example", 443, "/"), "https://vpn.example/");
        assert_eq!(url("vpn.example", 8443, "/x"), "https://vpn.example:8443/x");
        assert_eq!(url("2001:db8::1", 443, "/"), "https://[2001:db8::1]/");
    }
}
