//! One request/reply exchange on a connected UDP socket, shared by every UDP probe.
//!
//! A connected socket hears only its peer, and an ICMP port unreachable comes back as
//! ECONNREFUSED, so "refused" (host up, nothing listens) and "silent" (dropped or down) are
//! different answers. Datagrams the caller's classifier does not accept are skipped, up to one
//! bound for every probe, and remembered: a peer that answered garbage is not a silent one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::time::timeout_at;

/// Datagrams that are not the reply (another id, another SPI, garbage) before giving up.
pub const MAX_STRAY_DATAGRAMS: usize = 16;

/// Receive buffer when the caller has no reason to choose another: every reply the
/// single-datagram probes expect fits, and a longer one is cut and then fails to decode.
pub const DEFAULT_MAX_DATAGRAM: usize = 4096;

/// What one received datagram means to the caller.
pub enum Verdict<T, E> {
    /// The reply: the exchange ends with it.
    Accept(T),
    /// Not for this request (another id, a keepalive): keep listening, remember why.
    Stray(String),
    /// Meant as the reply but unusable: keep listening, report it if nothing better comes.
    Malformed(E),
}

/// How the request is sent and how much of a reply is read.
#[derive(Debug, Clone, Copy)]
pub struct Sending {
    /// Requests sent at most: the first plus retransmissions of the same bytes.
    pub max_sends: u32,
    /// Wait before the first retransmission; each later one waits twice as long.
    pub first_retransmit: Duration,
    /// Receive buffer size; longer datagrams are cut to it.
    pub max_datagram: usize,
}

impl Sending {
    /// One request, no retransmission, the default buffer.
    pub const ONCE: Sending = Sending {
        max_sends: 1,
        first_retransmit: Duration::ZERO,
        max_datagram: DEFAULT_MAX_DATAGRAM,
    };
}

/// The accepted reply and how the exchange went.
#[derive(Debug)]
pub struct Reply<T> {
    pub value: T,
    /// From the first request to the reply.
    pub rtt: Duration,
    /// Requests sent before the reply came (1 = no retransmission).
    pub sent: u32,
    /// Datagrams skipped before the reply (strays and malformed ones).
    pub skipped: usize,
}

/// Why no reply was accepted.
#[derive(Debug)]
pub enum Failure<E> {
    /// ECONNREFUSED: an ICMP port unreachable came back.
    Refused { sent: u32 },
    /// Any other socket error.
    Io { error: std::io::Error, sent: u32 },
    /// The deadline passed, or the stray bound was reached, without an accepted reply.
    NoReply {
        sent: u32,
        /// From the first request to the deadline.
        waited: Duration,
        /// True when the stray bound, not the deadline, ended the exchange.
        exhausted: bool,
        strays: usize,
        last_stray: Option<String>,
        /// The last datagram classified as malformed, if any.
        malformed: Option<E>,
    },
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

fn failed<E>(error: std::io::Error, sent: u32) -> Failure<E> {
    if error.kind() == std::io::ErrorKind::ConnectionRefused {
        Failure::Refused { sent }
    } else {
        Failure::Io { error, sent }
    }
}

/// Sends `request` to `address` (retransmitting as `sending` says) and reads datagrams until
/// `classify` accepts one, the stray bound is reached, or `deadline` passes.
pub async fn exchange<T, E>(
    address: SocketAddr,
    request: &[u8],
    sending: Sending,
    deadline: Instant,
    mut classify: impl FnMut(&[u8]) -> Verdict<T, E>,
) -> Result<Reply<T>, Failure<E>> {
    let socket = connected_socket(address)
        .await
        .map_err(|error| failed(error, 0))?;
    let started = Instant::now();
    let end = tokio::time::Instant::from_std(deadline);
    let max_sends = sending.max_sends.max(1);
    let mut buffer = vec![0u8; sending.max_datagram];
    let mut sent: u32 = 0;
    let mut next_send = tokio::time::Instant::now();
    let mut interval = sending.first_retransmit;
    let mut strays = 0usize;
    let mut last_stray = None;
    let mut malformed = None;
    let mut skipped = 0usize;
    let mut exhausted = false;
    // Each pass sends, times out towards the next send or the deadline, or reads one datagram;
    // sends and skipped datagrams are capped, so this bound is never the one that ends it.
    for _ in 0..2 * (max_sends as usize + MAX_STRAY_DATAGRAMS) {
        let now = tokio::time::Instant::now();
        if now >= end {
            break;
        }
        if sent < max_sends && now >= next_send {
            match timeout_at(end, socket.send(request)).await {
                Err(_) => break,
                Ok(Err(error)) => return Err(failed(error, sent)),
                Ok(Ok(_)) => {}
            }
            sent += 1;
            next_send = now + interval;
            interval = interval.saturating_mul(2);
        }
        let wake = if sent < max_sends {
            next_send.min(end)
        } else {
            end
        };
        let length = match timeout_at(wake, socket.recv(&mut buffer)).await {
            Err(_) => continue,
            Ok(Err(error)) => return Err(failed(error, sent)),
            Ok(Ok(length)) => length,
        };
        match classify(buffer.get(..length).unwrap_or_default()) {
            Verdict::Accept(value) => {
                return Ok(Reply {
                    value,
                    rtt: started.elapsed(),
                    sent,
                    skipped,
                })
            }
            Verdict::Stray(reason) => {
                strays += 1;
                last_stray = Some(reason);
            }
            Verdict::Malformed(error) => malformed = Some(error),
        }
        skipped += 1;
        if skipped >= MAX_STRAY_DATAGRAMS {
            exhausted = true;
            break;
        }
    }
    Err(Failure::NoReply {
        sent,
        waited: deadline.saturating_duration_since(started),
        exhausted,
        strays,
        last_stray,
        malformed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept_ok(datagram: &[u8]) -> Verdict<Vec<u8>, String> {
        match datagram {
            b"ok" => Verdict::Accept(datagram.to_vec()),
            b"stray" => Verdict::Stray("stray".into()),
            other => Verdict::Malformed(format!("{} bytes", other.len())),
        }
    }

    async fn responder(answers: Vec<&'static [u8]>) -> SocketAddr {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let address = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buffer = [0u8; 64];
            let (_, peer) = socket.recv_from(&mut buffer).await.unwrap();
            for answer in answers {
                socket.send_to(answer, peer).await.unwrap();
            }
            // Keep the port open (and silent) until the test ends.
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        address
    }

    #[tokio::test]
    async fn strays_and_garbage_are_skipped_until_the_reply() {
        let address = responder(vec![b"stray", b"junk", b"ok"]).await;
        let deadline = Instant::now() + Duration::from_secs(2);
        let reply = exchange(address, b"q", Sending::ONCE, deadline, accept_ok)
            .await
            .unwrap();
        assert_eq!(reply.value, b"ok");
        assert_eq!((reply.sent, reply.skipped), (1, 2));
    }

    #[tokio::test]
    async fn garbage_then_silence_names_the_garbage_at_the_deadline() {
        let address = responder(vec![b"stray", b"junk"]).await;
        let deadline = Instant::now() + Duration::from_millis(300);
        match exchange(address, b"q", Sending::ONCE, deadline, accept_ok).await {
            Err(Failure::NoReply {
                exhausted: false,
                strays: 1,
                malformed: Some(error),
                ..
            }) => assert_eq!(error, "4 bytes"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn the_stray_bound_ends_a_flood_before_the_deadline() {
        let address = responder(vec![b"stray"; MAX_STRAY_DATAGRAMS + 4]).await;
        let started = Instant::now();
        let deadline = started + Duration::from_secs(3);
        match exchange(address, b"q", Sending::ONCE, deadline, accept_ok).await {
            Err(Failure::NoReply {
                exhausted: true,
                strays: MAX_STRAY_DATAGRAMS,
                malformed: None,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let free = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = free.local_addr().unwrap();
        drop(free);
        let deadline = Instant::now() + Duration::from_secs(2);
        let result = exchange(address, b"q", Sending::ONCE, deadline, accept_ok).await;
        assert!(matches!(result, Err(Failure::Refused { .. })), "{result:?}");
    }
}
