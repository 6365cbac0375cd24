//! UDP exchange probe: one request, the first datagram back. On a connected socket an ICMP
//! port unreachable surfaces as ECONNREFUSED, so closed and silent are different answers.

use crate::probe::datagram::{self, Failure, Sending, Verdict};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum UdpError {
    #[error("UDP {0} is closed (ICMP port unreachable)")]
    Refused(u16),
    #[error("no answer on UDP {port} within {waited}", waited = crate::duration::Human(*.waited))]
    Silent { port: u16, waited: Duration },
    #[error("network error: {0}")]
    Io(String),
}

pub struct UdpReply {
    pub bytes: Vec<u8>,
    pub rtt: Duration,
}

/// Sends `request` and returns the first datagram back, whatever it holds.
pub async fn exchange(
    address: SocketAddr,
    request: &[u8],
    deadline: Instant,
) -> Result<UdpReply, UdpError> {
    let port = address.port();
    let first = |datagram: &[u8]| Verdict::<_, Infallible>::Accept(datagram.to_vec());
    match datagram::exchange(address, request, Sending::ONCE, deadline, first).await {
        Ok(reply) => Ok(UdpReply {
            bytes: reply.value,
            rtt: reply.rtt,
        }),
        Err(Failure::Refused { .. }) => Err(UdpError::Refused(port)),
        Err(Failure::Io { error, .. }) => Err(UdpError::Io(error.to_string())),
        Err(Failure::NoReply { waited, .. }) => Err(UdpError::Silent { port, waited }),
    }
}
