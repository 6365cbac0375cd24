//! UDP exchange probe: one request, the first datagram back. On a connected socket an ICMP
//! port unreachable surfaces as ECONNREFUSED, so closed and silent are different answers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

#[derive(Debug, thiserror::Error)]
pub enum UdpError {
    #[error("UDP {0} is closed (ICMP port unreachable)")]
    Refused(u16),
    #[error("no answer on UDP {port} within {waited}", waited = crate::duration::Human(*.waited))]
    Silent { port: u16, waited: Duration },
    #[error("network error: {0}")]
    Io(String),
}

/// A UDP socket bound to the unspecified address of `address`'s family and connected to
/// `address`: it hears only that peer, and an ICMP port unreachable comes back as
/// ECONNREFUSED, which tells a closed port from a silent one.
pub async fn connected_socket(address: SocketAddr) -> std::io::Result<UdpSocket> {
    let local: SocketAddr = if address.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(address).await?;
    Ok(socket)
}

pub struct UdpReply {
    pub bytes: Vec<u8>,
    pub rtt: Duration,
}

pub async fn exchange(
    address: SocketAddr,
    request: &[u8],
    deadline: Instant,
) -> Result<UdpReply, UdpError> {
    let port = address.port();
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::ConnectionRefused {
            UdpError::Refused(port)
        } else {
            UdpError::Io(e.to_string())
        }
    };
    let socket = connected_socket(address).await.map_err(io)?;
    let started = Instant::now();
    let waited = deadline.saturating_duration_since(started);
    let exchange = async {
        socket.send(request).await.map_err(io)?;
        let mut buffer = vec![0u8; 4096];
        let length = socket.recv(&mut buffer).await.map_err(io)?;
        buffer.truncate(length);
        Ok(buffer)
    };
    let bytes = tokio::time::timeout(waited, exchange)
        .await
        .map_err(|_| UdpError::Silent { port, waited })??;
    Ok(UdpReply {
        bytes,
        rtt: started.elapsed(),
    })
}
