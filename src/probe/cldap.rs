//! CLDAP "LDAP ping" (MS-ADTS 6.3.3): the UDP 389 question Windows' DC locator asks each DC
//! it found in DNS. The first DC to answer wins; the answer names the DC's and the client's site.

use crate::wire::cldap::{
    decode_ping_reply, encode_ping, CldapError, NetlogonResponse, PingRequest,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Datagrams that are not our answer (wrong id, garbage) before giving up on a DC.
const MAX_STRAY_DATAGRAMS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum CldapProbeError {
    #[error("no CLDAP answer on UDP {port} within {waited}", port = .1, waited = crate::duration::Human(*.0))]
    Silent(Duration, u16),
    #[error("UDP {0} is closed (ICMP port unreachable)")]
    Refused(u16),
    #[error("network error: {0}")]
    Io(String),
    #[error("the DC answered but the reply is unusable: {0}")]
    Malformed(#[from] CldapError),
}

pub struct Pong {
    pub response: NetlogonResponse,
    pub rtt: Duration,
}

pub async fn ping(
    address: SocketAddr,
    domain: &str,
    deadline: Instant,
) -> Result<Pong, CldapProbeError> {
    let port = address.port();
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::ConnectionRefused {
            CldapProbeError::Refused(port)
        } else {
            CldapProbeError::Io(e.to_string())
        }
    };
    let socket = crate::probe::udp::connected_socket(address)
        .await
        .map_err(io)?;
    let message_id = rand::random::<u32>() & 0x7fff_ffff;
    let request = encode_ping(message_id, &PingRequest::new(domain));
    let started = Instant::now();
    let wait = deadline.saturating_duration_since(started);
    let end = tokio::time::Instant::from_std(deadline);
    let exchange = async {
        socket.send(&request).await.map_err(io)?;
        let mut buffer = vec![0u8; 4096];
        let mut last = None;
        for _ in 0..MAX_STRAY_DATAGRAMS {
            // A DC that answered garbage is not a silent one: name the garbage at the deadline.
            let length = match tokio::time::timeout_at(end, socket.recv(&mut buffer)).await {
                Ok(received) => received.map_err(io)?,
                Err(_) => break,
            };
            match decode_ping_reply(buffer.get(..length).unwrap_or_default(), message_id) {
                Ok(response) => return Ok(response),
                Err(CldapError::MessageIdMismatch { .. }) => continue,
                Err(error) => last = Some(error),
            }
        }
        Err(last.map_or(
            CldapProbeError::Silent(wait, port),
            CldapProbeError::Malformed,
        ))
    };
    let response = tokio::time::timeout(wait, exchange)
        .await
        .map_err(|_| CldapProbeError::Silent(wait, port))??;
    Ok(Pong {
        response,
        rtt: started.elapsed(),
    })
}
