//! CLDAP "LDAP ping" (MS-ADTS 6.3.3): the UDP 389 question Windows' DC locator asks each DC
//! it found in DNS. The first DC to answer wins; the answer names the DC's and the client's site.

use crate::probe::datagram::{self, Failure, Sending, Verdict};
use crate::wire::cldap::{
    decode_ping_reply, encode_ping, CldapError, NetlogonResponse, PingRequest,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

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
    let message_id = rand::random::<u32>() & 0x7fff_ffff;
    let request = encode_ping(message_id, &PingRequest::new(domain));
    let classify = |datagram: &[u8]| match decode_ping_reply(datagram, message_id) {
        Ok(response) => Verdict::Accept(response),
        Err(error @ CldapError::MessageIdMismatch { .. }) => Verdict::Stray(error.to_string()),
        Err(error) => Verdict::Malformed(error),
    };
    match datagram::exchange(address, &request, Sending::ONCE, deadline, classify).await {
        Ok(reply) => Ok(Pong {
            response: reply.value,
            rtt: reply.rtt,
        }),
        Err(Failure::Refused { .. }) => Err(CldapProbeError::Refused(port)),
        Err(Failure::Io { error, .. }) => Err(CldapProbeError::Io(error.to_string())),
        // A DC that answered garbage is not a silent one: name the garbage.
        Err(Failure::NoReply {
            malformed: Some(error),
            ..
        }) => Err(CldapProbeError::Malformed(error)),
        Err(Failure::NoReply { waited, .. }) => Err(CldapProbeError::Silent(waited, port)),
    }
}
