//! SNTP probe (RFC 4330): one client request on UDP, the server's time, offset and delay.
//!
//! Replies whose origin timestamp does not echo our request are someone else's (or stale) and
//! are skipped; a kiss-of-death is the server's final word, so it ends the exchange at once.

use crate::probe::datagram::{self, Failure, Sending, Verdict};
use crate::wire::ntp::{decode_response, encode_request, NtpError, NtpResponse};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum NtpProbeError {
    #[error("UDP {0} is closed (ICMP port unreachable)")]
    Refused(u16),
    #[error("no NTP answer on UDP {port} within {waited}", waited = crate::duration::Human(*.waited))]
    Silent { port: u16, waited: Duration },
    #[error("the server answered but the reply is unusable: {0}")]
    Malformed(#[from] NtpError),
    #[error("network error: {0}")]
    Io(String),
}

/// A decoded server reply and how long the exchange took.
#[derive(Debug, Clone)]
pub struct NtpReply {
    pub response: NtpResponse,
    pub rtt: Duration,
}

fn since_epoch() -> Duration {
    // A clock before 1970 is itself a finding of the clock check, not a reason to fail here.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Asks the NTP server at `address` for the time before `deadline`.
pub async fn query(address: SocketAddr, deadline: Instant) -> Result<NtpReply, NtpProbeError> {
    let port = address.port();
    let t1 = since_epoch();
    let request = encode_request(t1);
    let classify = |datagram: &[u8]| match decode_response(datagram, t1, since_epoch()) {
        Ok(response) => Verdict::Accept(Ok(response)),
        Err(error @ NtpError::OriginMismatch) => Verdict::Stray(error.to_string()),
        Err(error @ NtpError::KissOfDeath { .. }) => Verdict::Accept(Err(error)),
        Err(error) => Verdict::Malformed(error),
    };
    match datagram::exchange(address, &request, Sending::ONCE, deadline, classify).await {
        Ok(reply) => Ok(NtpReply {
            response: reply.value?,
            rtt: reply.rtt,
        }),
        Err(Failure::Refused { .. }) => Err(NtpProbeError::Refused(port)),
        Err(Failure::Io { error, .. }) => Err(NtpProbeError::Io(error.to_string())),
        Err(Failure::NoReply {
            malformed: Some(error),
            ..
        }) => Err(NtpProbeError::Malformed(error)),
        Err(Failure::NoReply { waited, .. }) => Err(NtpProbeError::Silent { port, waited }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ntp::{NtpTimestamp, PACKET_LEN};

    /// A stratum-2 server reply echoing `origin`, its clock equal to ours.
    fn server_reply(origin: [u8; 8], stratum: u8) -> Vec<u8> {
        let mut reply = vec![0u8; PACKET_LEN];
        reply[0] = 0x24; // LI 0, VN 4, mode 4
        reply[1] = stratum;
        reply[12..16].copy_from_slice(b"RATE");
        reply[24..32].copy_from_slice(&origin);
        let now = NtpTimestamp::from_unix(since_epoch()).to_bytes();
        reply[32..40].copy_from_slice(&now);
        reply[40..48].copy_from_slice(&now);
        reply
    }

    async fn server(answer: impl Fn([u8; 8]) -> Vec<Vec<u8>> + Send + 'static) -> SocketAddr {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let address = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buffer = [0u8; 128];
            let (length, peer) = socket.recv_from(&mut buffer).await.unwrap();
            assert_eq!(length, PACKET_LEN);
            let transmit: [u8; 8] = buffer[40..48].try_into().unwrap();
            for datagram in answer(transmit) {
                socket.send_to(&datagram, peer).await.unwrap();
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        address
    }

    #[tokio::test]
    async fn a_stale_reply_is_skipped_and_ours_decoded() {
        let address = server(|t| vec![server_reply([9; 8], 2), server_reply(t, 2)]).await;
        let reply = query(address, Instant::now() + Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(reply.response.stratum, 2);
        assert!(reply.response.offset_ms.abs() < 1_000.0);
    }

    #[tokio::test]
    async fn a_kiss_of_death_ends_the_exchange_at_once() {
        let address = server(|t| vec![server_reply(t, 0)]).await;
        let started = Instant::now();
        let error = query(address, started + Duration::from_secs(3))
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            error.to_string().contains("kiss-of-death \"RATE\""),
            "{error}"
        );
    }

    #[tokio::test]
    async fn garbage_is_malformed_not_silent() {
        let address = server(|_| vec![vec![0x24; 10]]).await;
        let error = query(address, Instant::now() + Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(
            matches!(error, NtpProbeError::Malformed(NtpError::Short { len: 10 })),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_refused() {
        let free = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = free.local_addr().unwrap();
        drop(free);
        let error = query(address, Instant::now() + Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(matches!(error, NtpProbeError::Refused(_)), "{error}");
    }
}
