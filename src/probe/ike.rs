//! IKEv2 probe: one IKE_SA_INIT to a VPN gateway over UDP 500 (or 4500 with the non-ESP
//! marker), retransmitted a bounded number of times, and what the gateway answered.
//!
//! The probe never authenticates: any reply that echoes our initiator SPI with the response
//! flag proves an IKE responder alive (FACTS §8). A connected UDP socket turns an ICMP port
//! unreachable into ECONNREFUSED, so "refused" (host up, nothing listens) and "silent" (dropped
//! or down) are different answers.

use crate::duration::Human;
use crate::probe::datagram::{self, Failure, Sending, Verdict};
use crate::probe::tcp::millis;
use crate::wire::ike::{decode_reply, encode_sa_init, IkeReply, NotifyType, Outcome};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// ECP-256: the group Windows' built-in IKEv2 client and strongSwan both offer by default.
const DH_GROUP: u16 = 19;
/// Requests sent at most (the first plus retransmissions of the same bytes, RFC 7296 §2.1).
const MAX_SENDS: u32 = 4;
/// Wait before each retransmission, doubling as RFC 7296 §2.4 suggests.
const FIRST_RETRANSMIT: Duration = Duration::from_millis(500);
/// An IKE_SA_INIT response with certificate requests and vendor IDs fits easily; larger
/// datagrams are cut and then fail the length check, which still proves the responder alive.
const MAX_DATAGRAM: usize = 8192;

/// What the gateway answered, as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IkeAnswer {
    /// It chose one of our proposals.
    Accepted { proposal: String },
    /// It wants the key exchange in another Diffie-Hellman group.
    InvalidKe { group: String, group_id: u16 },
    /// None of our proposals is acceptable.
    NoProposalChosen,
    /// It is under load (or always asks) and wants a cookie round trip.
    Cookie,
    /// Another error notify.
    OtherNotify { notify: String, code: u16 },
    /// A response with neither an SA payload nor an error notify.
    MissingSa,
    /// It echoed our SPI as a response, but the rest could not be decoded.
    Malformed { error: String },
}

impl IkeAnswer {
    fn from_outcome(outcome: Outcome) -> IkeAnswer {
        match outcome {
            Outcome::Accepted { proposal } => IkeAnswer::Accepted {
                proposal: proposal.to_string(),
            },
            Outcome::InvalidKe { group } => IkeAnswer::InvalidKe {
                group: group.to_string(),
                group_id: group.code(),
            },
            Outcome::NoProposalChosen => IkeAnswer::NoProposalChosen,
            Outcome::Cookie => IkeAnswer::Cookie,
            Outcome::OtherNotify(code) => IkeAnswer::OtherNotify {
                notify: NotifyType::from_code(code).to_string(),
                code,
            },
            Outcome::MissingSa => IkeAnswer::MissingSa,
        }
    }
}

impl std::fmt::Display for IkeAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IkeAnswer::Accepted { proposal } => write!(f, "proposal accepted: {proposal}"),
            IkeAnswer::InvalidKe { group, group_id } => {
                write!(f, "INVALID_KE_PAYLOAD, wants DH group {group} ({group_id})")
            }
            IkeAnswer::NoProposalChosen => f.write_str("NO_PROPOSAL_CHOSEN"),
            IkeAnswer::Cookie => f.write_str("COOKIE (asks for a cookie round trip)"),
            IkeAnswer::OtherNotify { notify, code } => write!(f, "error notify {notify} ({code})"),
            IkeAnswer::MissingSa => f.write_str("a response without SA payload or error notify"),
            IkeAnswer::Malformed { error } => write!(f, "a response we could not decode: {error}"),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Deserialize, schemars::JsonSchema)]
pub struct IkeEvidence {
    pub address: SocketAddr,
    pub nat_t: bool,
    /// From the first request to the reply.
    pub rtt_ms: f64,
    /// Requests sent before the reply came (1 = no retransmission was needed).
    pub sent: u32,
    pub answer: IkeAnswer,
    /// The responder's SPI as hex (zero in a notify-only reply).
    pub responder_spi: Option<String>,
    /// Notify types in message order, by name.
    pub notifies: Vec<String>,
    /// Vendor ID payloads as hex.
    pub vendor_ids: Vec<String>,
    /// Datagrams received that were not a reply to this request.
    pub ignored_datagrams: usize,
    /// The CAs the gateway names in its CERTREQ payloads, as SHA-1 of each CA's
    /// SubjectPublicKeyInfo in hex: the CAs a machine certificate must chain to when the
    /// gateway authenticates devices by certificate. Empty when it sent no CERTREQ (PSK, EAP).
    #[serde(default)]
    pub certificate_authorities: Vec<String>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum IkeProbeError {
    /// ICMP port unreachable: the host is up, nothing listens on the port (or a firewall rejects).
    #[error("refused: ICMP port unreachable from {address} (nothing listens on UDP {port})", port = .address.port())]
    Refused { address: SocketAddr, sent: u32 },
    /// Nothing came back: a firewall drops UDP, or the host is down.
    #[error("no answer to {sent} IKE_SA_INIT requests within {}{}", Human(*.waited), ignored_note(*.ignored, .last_ignored))]
    Silent {
        address: SocketAddr,
        sent: u32,
        waited: Duration,
        ignored: usize,
        last_ignored: Option<String>,
    },
    /// Datagrams kept coming, none of them a reply to our request.
    #[error("{count} datagrams from {address}, none a reply to our IKE_SA_INIT (last: {last})")]
    Strays {
        address: SocketAddr,
        count: usize,
        last: String,
    },
    #[error("network error towards {address}: {reason}")]
    Io { address: SocketAddr, reason: String },
    #[error("cannot build the IKE_SA_INIT request: {0}")]
    Build(String),
}

fn ignored_note(ignored: usize, last: &Option<String>) -> String {
    match (ignored, last) {
        (0, _) | (_, None) => String::new(),
        (n, Some(last)) => format!(" ({n} other datagrams ignored, last: {last})"),
    }
}

/// The secret is thrown away: the probe never completes the exchange, but a gateway that checks
/// the point (RFC 7296 §2.7 lets it) must see a valid one, so it answers as it would a client.
fn ecp256_public_key() -> Result<Vec<u8>, IkeProbeError> {
    let key = rustls::crypto::ring::kx_group::SECP256R1
        .start()
        .map_err(|e| IkeProbeError::Build(format!("cannot make an ECP-256 key: {e}")))?;
    // rustls gives the SEC1 uncompressed point 0x04 | x | y; IKE carries x | y (RFC 5903 §7).
    match key.pub_key().split_first() {
        Some((0x04, xy)) if xy.len() == 64 => Ok(xy.to_vec()),
        _ => Err(IkeProbeError::Build(
            "unexpected ECP-256 public key encoding".to_string(),
        )),
    }
}

fn random_spi() -> [u8; 8] {
    loop {
        let spi: [u8; 8] = rand::random();
        // An all-zero SPI is invalid (RFC 7296 §3.1); the chance is 2^-64, the loop ends.
        if spi != [0; 8] {
            return spi;
        }
    }
}

/// What one received datagram means for this request.
#[derive(Debug, PartialEq)]
pub enum Classified {
    Reply(IkeAnswer, Option<Box<IkeReply>>),
    /// Not ours (another SPI, a keepalive, no marker on 4500): keep listening.
    Ignore(String),
}

/// Decodes one datagram; a reply that echoes our SPI but fails to decode still proves the
/// responder alive (IkeError::is_from_responder).
pub fn classify(datagram: &[u8], spi_i: [u8; 8], nat_t: bool) -> Classified {
    match decode_reply(datagram, spi_i, nat_t) {
        Ok(reply) => Classified::Reply(
            IkeAnswer::from_outcome(reply.outcome()),
            Some(Box::new(reply)),
        ),
        Err(error) if error.is_from_responder() => Classified::Reply(
            IkeAnswer::Malformed {
                error: error.to_string(),
            },
            None,
        ),
        Err(error) => Classified::Ignore(error.to_string()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends an IKE_SA_INIT to `address` and waits for the reply until `deadline`.
pub async fn probe(
    address: SocketAddr,
    nat_t: bool,
    deadline: Instant,
) -> Result<IkeEvidence, IkeProbeError> {
    let spi_i = random_spi();
    let nonce: [u8; 32] = rand::random();
    let ke = ecp256_public_key()?;
    let request = encode_sa_init(spi_i, &nonce, &ke, DH_GROUP, nat_t);

    let sending = Sending {
        max_sends: MAX_SENDS,
        first_retransmit: FIRST_RETRANSMIT,
        max_datagram: MAX_DATAGRAM,
    };
    let classify = |datagram: &[u8]| match classify(datagram, spi_i, nat_t) {
        Classified::Reply(answer, reply) => Verdict::<_, Infallible>::Accept((answer, reply)),
        Classified::Ignore(reason) => Verdict::Stray(reason),
    };
    let reply = match datagram::exchange(address, &request, sending, deadline, classify).await {
        Ok(reply) => reply,
        Err(Failure::Refused { sent }) => return Err(IkeProbeError::Refused { address, sent }),
        Err(Failure::Io { error, .. }) => {
            return Err(IkeProbeError::Io {
                address,
                reason: error.to_string(),
            })
        }
        Err(Failure::NoReply {
            exhausted: true,
            strays,
            last_stray,
            ..
        }) => {
            return Err(IkeProbeError::Strays {
                address,
                count: strays,
                last: last_stray.unwrap_or_default(),
            })
        }
        Err(Failure::NoReply {
            sent,
            waited,
            strays,
            last_stray,
            ..
        }) => {
            return Err(IkeProbeError::Silent {
                address,
                sent,
                waited,
                ignored: strays,
                last_ignored: last_stray,
            })
        }
    };
    let (answer, decoded) = reply.value;
    Ok(IkeEvidence {
        address,
        nat_t,
        rtt_ms: millis(reply.rtt),
        sent: reply.sent,
        answer,
        responder_spi: decoded.as_ref().map(|r| hex(&r.spi_r)),
        notifies: decoded
            .as_ref()
            .map(|r| r.notify_types().iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        vendor_ids: decoded
            .as_ref()
            .map(|r| r.vendor_ids.clone())
            .unwrap_or_default(),
        certificate_authorities: decoded
            .map(|r| {
                r.cert_requests
                    .iter()
                    .flat_map(|c| c.authority_hex())
                    .collect()
            })
            .unwrap_or_default(),
        ignored_datagrams: reply.skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ike::NON_ESP_MARKER;

    const SPI: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    /// A notify-only IKE_SA_INIT response (RFC 7296 §1.3): header + one Notify payload.
    fn notify_reply(spi_i: [u8; 8], notify: u16, data: &[u8], nat_t: bool) -> Vec<u8> {
        let payload_len = 8 + data.len();
        let total = 28 + payload_len;
        let mut out = Vec::new();
        if nat_t {
            out.extend_from_slice(&NON_ESP_MARKER);
        }
        out.extend_from_slice(&spi_i);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&[41, 0x20, 34, 0x20]);
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&(total as u32).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(payload_len as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&notify.to_be_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn invalid_ke_names_the_group() {
        let reply = notify_reply(SPI, 17, &14u16.to_be_bytes(), false);
        match classify(&reply, SPI, false) {
            Classified::Reply(answer, Some(decoded)) => {
                assert_eq!(
                    answer,
                    IkeAnswer::InvalidKe {
                        group: "MODP_2048".into(),
                        group_id: 14
                    }
                );
                assert_eq!(decoded.notify_types().len(), 1);
                assert_eq!(
                    answer.to_string(),
                    "INVALID_KE_PAYLOAD, wants DH group MODP_2048 (14)"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_proposal_and_cookie_are_replies() {
        let reply = notify_reply(SPI, 14, &[], false);
        assert!(matches!(
            classify(&reply, SPI, false),
            Classified::Reply(IkeAnswer::NoProposalChosen, _)
        ));
        let reply = notify_reply(SPI, 16390, &[7; 16], true);
        assert!(matches!(
            classify(&reply, SPI, true),
            Classified::Reply(IkeAnswer::Cookie, _)
        ));
    }

    #[test]
    fn someone_elses_spi_and_keepalives_are_ignored() {
        let reply = notify_reply([9; 8], 14, &[], false);
        assert!(matches!(
            classify(&reply, SPI, false),
            Classified::Ignore(reason) if reason.contains("not for our request")
        ));
        assert!(matches!(
            classify(&[0xff], SPI, true),
            Classified::Ignore(_)
        ));
        // A 4500 reply without the non-ESP marker is not read as IKE.
        let reply = notify_reply(SPI, 14, &[], false);
        assert!(matches!(classify(&reply, SPI, true), Classified::Ignore(_)));
    }

    #[test]
    fn a_broken_reply_with_our_spi_still_proves_the_responder_alive() {
        let mut reply = notify_reply(SPI, 14, &[], false);
        // Declared length no longer matches what arrived.
        reply.push(0);
        match classify(&reply, SPI, false) {
            Classified::Reply(IkeAnswer::Malformed { error }, None) => {
                assert!(error.contains("header length"), "{error}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hostile_datagrams_never_panic() {
        let base = notify_reply(SPI, 17, &19u16.to_be_bytes(), false);
        for cut in 0..base.len() {
            let _ = classify(&base[..cut], SPI, false);
            let _ = classify(&base[..cut], SPI, true);
        }
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut bytes = base.clone();
            for _ in 0..4 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state as usize) % bytes.len();
                bytes[at] = (state >> 32) as u8;
            }
            let _ = classify(&bytes, SPI, false);
        }
    }

    #[test]
    fn the_key_exchange_value_is_a_64_byte_point() {
        let key = ecp256_public_key().unwrap();
        assert_eq!(key.len(), 64);
        assert_ne!(key, ecp256_public_key().unwrap());
    }

    #[tokio::test]
    async fn a_closed_local_port_is_refused_not_silent() {
        // Loopback only: bind a socket to learn a free port, close it, probe it.
        let free = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = free.local_addr().unwrap();
        drop(free);
        let deadline = Instant::now() + Duration::from_secs(2);
        let error = probe(address, false, deadline).await.unwrap_err();
        assert!(matches!(error, IkeProbeError::Refused { .. }), "{error}");
    }

    #[tokio::test]
    async fn a_silent_local_port_ends_at_the_deadline_after_retransmitting() {
        let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = silent.local_addr().unwrap();
        let started = Instant::now();
        let error = probe(address, false, started + Duration::from_millis(1200))
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
        match error {
            IkeProbeError::Silent { sent, .. } => assert_eq!(sent, 2),
            other => panic!("{other}"),
        }
        // Both requests carried the same SPI (a retransmission, not a new exchange).
        let mut first = [0u8; 2048];
        let mut second = [0u8; 2048];
        silent.set_nonblocking(true).unwrap();
        let a = silent.recv(&mut first).unwrap();
        let b = silent.recv(&mut second).unwrap();
        assert_eq!(first[..a], second[..b]);
    }

    #[tokio::test]
    async fn a_local_responder_answer_is_decoded() {
        let responder = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let address = responder.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut buffer = [0u8; 2048];
            let (length, peer) = responder.recv_from(&mut buffer).await.unwrap();
            let spi: [u8; 8] = buffer[..8].try_into().unwrap();
            assert!(length > 28);
            // A stray first, then the real answer.
            responder
                .send_to(&notify_reply([0xee; 8], 14, &[], false), peer)
                .await
                .unwrap();
            responder
                .send_to(&notify_reply(spi, 17, &14u16.to_be_bytes(), false), peer)
                .await
                .unwrap();
        });
        let evidence = probe(address, false, Instant::now() + Duration::from_secs(2))
            .await
            .unwrap();
        server.await.unwrap();
        assert_eq!(evidence.sent, 1);
        assert_eq!(evidence.ignored_datagrams, 1);
        assert_eq!(evidence.notifies, vec!["INVALID_KE_PAYLOAD".to_string()]);
        assert!(matches!(
            evidence.answer,
            IkeAnswer::InvalidKe { group_id: 14, .. }
        ));
    }

    #[tokio::test]
    async fn the_cas_a_gateway_names_in_certreq_reach_the_evidence() {
        let responder = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let address = responder.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut buffer = [0u8; 2048];
            let (_, peer) = responder.recv_from(&mut buffer).await.unwrap();
            let spi: [u8; 8] = buffer[..8].try_into().unwrap();
            // Header, then one CERTREQ (type 38): encoding 4 and two SHA-1 hashes.
            let payload_len = 4 + 1 + 40;
            let mut reply = spi.to_vec();
            reply.extend_from_slice(&[0; 8]);
            reply.extend_from_slice(&[38, 0x20, 34, 0x20]);
            reply.extend_from_slice(&0u32.to_be_bytes());
            reply.extend_from_slice(&((28 + payload_len) as u32).to_be_bytes());
            reply.extend_from_slice(&[0, 0]);
            reply.extend_from_slice(&(payload_len as u16).to_be_bytes());
            reply.push(4);
            reply.extend_from_slice(&[0xab; 20]);
            reply.extend_from_slice(&[0x01; 20]);
            responder.send_to(&reply, peer).await.unwrap();
        });
        let evidence = probe(address, false, Instant::now() + Duration::from_secs(2))
            .await
            .unwrap();
        server.await.unwrap();
        assert_eq!(
            evidence.certificate_authorities,
            ["ab".repeat(20), "01".repeat(20)]
        );
    }
}
