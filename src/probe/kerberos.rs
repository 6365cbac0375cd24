//! Kerberos probe: an unauthenticated AS-REQ on UDP 88. Any KDC answers it with a KRB-ERROR
//! (client unknown, pre-authentication required), which proves the KDC alive and carries the
//! KDC's clock (stime/susec, RFC 4120 5.9.1) — without any credentials.

use crate::probe::datagram::{self, Failure, Sending, Verdict};
use crate::wire::kerberos::{decode_krb_error, encode_as_req, KerberosError, KrbError};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A principal no directory has, so the KDC answers without touching a real account.
const PROBE_PRINCIPAL: &str = "joinready-probe";

#[derive(Debug, thiserror::Error)]
pub enum KerberosProbeError {
    #[error("no answer on UDP {port} within {waited}", port = .1, waited = crate::duration::Human(*.0))]
    Silent(Duration, u16),
    #[error("UDP {0} is closed (ICMP port unreachable)")]
    Refused(u16),
    #[error("network error: {0}")]
    Io(String),
    #[error("the KDC's answer is unusable: {0}")]
    Malformed(#[from] KerberosError),
}

pub struct KdcAnswer {
    pub error: KrbError,
    pub rtt: Duration,
    /// The KDC's clock minus this device's, at the middle of the exchange, in milliseconds.
    pub offset_ms: f64,
}

fn unix_micros(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_micros()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

pub async fn as_req(
    address: SocketAddr,
    realm: &str,
    deadline: Instant,
) -> Result<KdcAnswer, KerberosProbeError> {
    let port = address.port();
    let sent_at = SystemTime::now();
    let request = encode_as_req(
        realm,
        PROBE_PRINCIPAL,
        rand::random(),
        unix_micros(sent_at) / 1_000_000,
    );
    let classify = |datagram: &[u8]| match decode_krb_error(datagram) {
        Ok(error) => Verdict::Accept(error),
        Err(error) => Verdict::Malformed(error),
    };
    let reply = match datagram::exchange(address, &request, Sending::ONCE, deadline, classify).await
    {
        Ok(reply) => reply,
        Err(Failure::Refused { .. }) => return Err(KerberosProbeError::Refused(port)),
        Err(Failure::Io { error, .. }) => return Err(KerberosProbeError::Io(error.to_string())),
        // A KDC that answered garbage is not a silent one: name the garbage.
        Err(Failure::NoReply {
            malformed: Some(error),
            ..
        }) => return Err(KerberosProbeError::Malformed(error)),
        Err(Failure::NoReply { waited, .. }) => {
            return Err(KerberosProbeError::Silent(waited, port))
        }
    };
    let received_at = SystemTime::now();
    let middle = (unix_micros(sent_at) + unix_micros(received_at)) / 2;
    let offset_ms = (reply.value.stime_unix_micros() - middle) as f64 / 1_000.0;
    Ok(KdcAnswer {
        error: reply.value,
        rtt: reply.rtt,
        offset_ms,
    })
}

/// This device's clock now, in unix microseconds (what faketime shifts in tests).
pub fn local_unix_micros() -> i64 {
    unix_micros(SystemTime::now())
}
