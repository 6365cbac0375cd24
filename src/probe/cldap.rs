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

/// How one DC of a `ping_many` round answered.
pub enum PingOutcome {
    Answered(Box<Pong>),
    /// It answered, but the reply is unusable.
    Malformed(CldapError),
    /// The ping could not be sent (no route, no socket for its address family).
    Unsent(String),
    /// Nothing came back before the round ended.
    Silent,
}

/// One LDAP ping to each of `targets`, all from one socket per address family and all in flight
/// at once, in the order given: a domain with thousands of DCs costs one socket and one
/// datagram each, not a socket and a task each. Replies are matched by source address and
/// message id. The round ends when every target answered, when `enough` returns true for an
/// answer, or at `deadline`; the number of datagrams read is bounded by the number of targets.
pub async fn ping_many(
    targets: &[SocketAddr],
    domain: &str,
    deadline: Instant,
    mut enough: impl FnMut(usize, &Pong) -> bool,
) -> Vec<PingOutcome> {
    use std::collections::HashMap;
    use tokio::net::UdpSocket;
    let mut outcomes: Vec<PingOutcome> = targets.iter().map(|_| PingOutcome::Silent).collect();
    if targets.is_empty() {
        return outcomes;
    }
    let message_id = rand::random::<u32>() & 0x7fff_ffff;
    let request = encode_ping(message_id, &PingRequest::new(domain));
    let bind = |v6: bool| async move {
        let local: SocketAddr = if v6 {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        };
        UdpSocket::bind(local).await
    };
    let v4 = if targets.iter().any(SocketAddr::is_ipv4) {
        bind(false).await.map_err(|e| e.to_string())
    } else {
        Err("no IPv4 target".to_string())
    };
    let v6 = if targets.iter().any(SocketAddr::is_ipv6) {
        bind(true).await.map_err(|e| e.to_string())
    } else {
        Err("no IPv6 target".to_string())
    };
    let mut by_address: HashMap<SocketAddr, Vec<usize>> = HashMap::new();
    let mut sent_at: Vec<Instant> = Vec::with_capacity(targets.len());
    for (index, target) in targets.iter().enumerate() {
        sent_at.push(Instant::now());
        let socket = if target.is_ipv4() { &v4 } else { &v6 };
        let sent = match socket {
            Ok(socket) => socket
                .send_to(&request, target)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(why) => Err(why.clone()),
        };
        match sent {
            Ok(()) => by_address.entry(*target).or_default().push(index),
            Err(why) => outcomes[index] = PingOutcome::Unsent(why),
        }
    }
    let mut waiting = by_address.values().map(Vec::len).sum::<usize>();
    let end = tokio::time::Instant::from_std(deadline);
    let mut buffer_v4 = vec![0u8; datagram::DEFAULT_MAX_DATAGRAM];
    let mut buffer_v6 = vec![0u8; datagram::DEFAULT_MAX_DATAGRAM];
    // Every target may answer once and a few strays may come: no more datagrams than that.
    let budget = 2 * targets.len() + datagram::MAX_STRAY_DATAGRAMS;
    for _ in 0..budget {
        if waiting == 0 {
            break;
        }
        let received = async {
            match (&v4, &v6) {
                (Ok(a), Ok(b)) => tokio::select! {
                    r = a.recv_from(&mut buffer_v4) => r.map(|(n, from)| (buffer_v4.get(..n).unwrap_or_default().to_vec(), from)),
                    r = b.recv_from(&mut buffer_v6) => r.map(|(n, from)| (buffer_v6.get(..n).unwrap_or_default().to_vec(), from)),
                },
                (Ok(a), Err(_)) => a
                    .recv_from(&mut buffer_v4)
                    .await
                    .map(|(n, from)| (buffer_v4.get(..n).unwrap_or_default().to_vec(), from)),
                (Err(_), Ok(b)) => b
                    .recv_from(&mut buffer_v6)
                    .await
                    .map(|(n, from)| (buffer_v6.get(..n).unwrap_or_default().to_vec(), from)),
                (Err(_), Err(_)) => std::future::pending().await,
            }
        };
        let (bytes, from) = match tokio::time::timeout_at(end, received).await {
            Err(_) => break,
            // An ICMP error for one target must not end the round for the others.
            Ok(Err(_)) => continue,
            Ok(Ok(datagram)) => datagram,
        };
        let Some(indexes) = by_address.get(&from) else {
            continue;
        };
        match decode_ping_reply(&bytes, message_id) {
            Ok(response) => {
                let mut done = false;
                for &index in indexes {
                    if matches!(outcomes[index], PingOutcome::Answered(_)) {
                        continue;
                    }
                    let pong = Pong {
                        response: response.clone(),
                        rtt: sent_at[index].elapsed(),
                    };
                    done |= enough(index, &pong);
                    outcomes[index] = PingOutcome::Answered(Box::new(pong));
                    waiting = waiting.saturating_sub(1);
                }
                if done {
                    break;
                }
            }
            Err(CldapError::MessageIdMismatch { .. }) => {}
            Err(error) => {
                for &index in indexes {
                    if matches!(outcomes[index], PingOutcome::Silent) {
                        outcomes[index] = PingOutcome::Malformed(error.clone());
                    }
                }
            }
        }
    }
    outcomes
}
