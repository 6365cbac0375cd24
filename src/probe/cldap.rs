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

/// Datagrams sent back to back before a short pause: a burst of thousands would overflow the
/// queues between here and the DCs (a veth, a router, a DC's socket) and lose pings.
const BURST: usize = 32;
const PAUSE: Duration = Duration::from_millis(1);
/// Unanswered DCs get their ping once more after this: one lost datagram must not make a live
/// DC look silent.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// One LDAP ping to each of `targets`, all from one socket per address family, paced in short
/// bursts and sent once more to the DCs that have not answered after a moment: a domain with
/// thousands of DCs costs one socket and a datagram or two each, not a socket and a task each.
/// Replies are matched by source address and message id. The round ends when every target
/// answered, when `enough` returns true for an answer, or at `deadline`; the number of
/// datagrams read is bounded by the number of targets.
pub async fn ping_many(
    targets: &[SocketAddr],
    domain: &str,
    deadline: Instant,
    mut enough: impl FnMut(usize, &Pong) -> bool,
) -> Vec<PingOutcome> {
    use std::collections::HashMap;
    use std::sync::{Mutex, MutexGuard};
    use tokio::net::UdpSocket;
    if targets.is_empty() {
        return Vec::new();
    }
    // Shared by the sending and the receiving half of the round, never across an await.
    let outcomes: Mutex<Vec<PingOutcome>> =
        Mutex::new(targets.iter().map(|_| PingOutcome::Silent).collect());
    fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
    for (index, target) in targets.iter().enumerate() {
        by_address.entry(*target).or_default().push(index);
    }
    let started = Instant::now();
    let sent_at: Mutex<Vec<Instant>> = Mutex::new(vec![started; targets.len()]);
    let end = tokio::time::Instant::from_std(deadline);

    // Sends every ping in bursts, then once more to those still silent.
    let sending = async {
        for pass in 0..2 {
            if pass == 1 {
                tokio::time::sleep_until(
                    tokio::time::Instant::from_std(started + RETRY_AFTER).min(end),
                )
                .await;
            }
            let mut in_burst = 0;
            for (index, target) in targets.iter().enumerate() {
                if !matches!(lock(&outcomes).get(index), Some(PingOutcome::Silent)) {
                    continue;
                }
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
                    Ok(()) if pass == 0 => {
                        if let Some(at) = lock(&sent_at).get_mut(index) {
                            *at = Instant::now();
                        }
                    }
                    Ok(()) => {}
                    Err(why) => {
                        if let Some(outcome) = lock(&outcomes).get_mut(index) {
                            *outcome = PingOutcome::Unsent(why);
                        }
                    }
                }
                in_burst += 1;
                if in_burst == BURST {
                    in_burst = 0;
                    tokio::time::sleep(PAUSE).await;
                }
            }
        }
    };

    let receiving = async {
        let mut buffer_v4 = vec![0u8; datagram::DEFAULT_MAX_DATAGRAM];
        let mut buffer_v6 = vec![0u8; datagram::DEFAULT_MAX_DATAGRAM];
        // Every target may answer each of its two pings, and a few strays may come.
        let budget = 3 * targets.len() + datagram::MAX_STRAY_DATAGRAMS;
        let waiting = |outcomes: &[PingOutcome]| {
            outcomes
                .iter()
                .any(|o| matches!(o, PingOutcome::Silent | PingOutcome::Malformed(_)))
        };
        for _ in 0..budget {
            if !waiting(&lock(&outcomes)) {
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
                        let since = lock(&sent_at).get(index).copied().unwrap_or(started);
                        let mut outcomes = lock(&outcomes);
                        let Some(outcome) = outcomes.get_mut(index) else {
                            continue;
                        };
                        if matches!(outcome, PingOutcome::Answered(_)) {
                            continue;
                        }
                        let pong = Pong {
                            response: response.clone(),
                            rtt: since.elapsed(),
                        };
                        done |= enough(index, &pong);
                        *outcome = PingOutcome::Answered(Box::new(pong));
                    }
                    if done {
                        break;
                    }
                }
                Err(CldapError::MessageIdMismatch { .. }) => {}
                Err(error) => {
                    let mut outcomes = lock(&outcomes);
                    for &index in indexes {
                        if let Some(outcome @ PingOutcome::Silent) = outcomes.get_mut(index) {
                            *outcome = PingOutcome::Malformed(error.clone());
                        }
                    }
                }
            }
        }
    };
    {
        tokio::pin!(sending, receiving);
        // The round is over when the receiving is; the sending may still be waiting to retry.
        tokio::select! {
            biased;
            _ = &mut receiving => {}
            _ = &mut sending => receiving.await,
        }
    }
    outcomes
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
