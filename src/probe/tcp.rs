//! TCP connect probe: refused and silent are different answers.

use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// RST: the host is up, nothing listens or a firewall rejects.
    #[error("refused")]
    Refused,
    /// No answer at all: a firewall drops, or the host is down.
    #[error("no answer within {}", crate::duration::Human(*.0))]
    Silent(Duration),
    #[error("{0}")]
    Unreachable(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Connected {
    pub address: SocketAddr,
    pub connect_ms: f64,
}

pub async fn connect(
    address: SocketAddr,
    deadline: Instant,
) -> Result<(TcpStream, Connected), ConnectError> {
    let started = Instant::now();
    let wait = deadline.saturating_duration_since(started);
    match tokio::time::timeout(wait, TcpStream::connect(address)).await {
        Err(_) => Err(ConnectError::Silent(wait)),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(ConnectError::Refused)
        }
        Ok(Err(error)) => Err(ConnectError::Unreachable(error.to_string())),
        Ok(Ok(stream)) => Ok((
            stream,
            Connected {
                address,
                connect_ms: millis(started.elapsed()),
            },
        )),
    }
}

pub fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1_000.0
}
