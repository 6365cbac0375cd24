//! Kerberos probe: an unauthenticated AS-REQ on UDP 88. Any KDC answers it with a KRB-ERROR
//! (client unknown, pre-authentication required), which proves the KDC alive and carries the
//! KDC's clock (stime/susec, RFC 4120 5.9.1) — without any credentials.

use crate::wire::kerberos::{decode_krb_error, encode_as_req, KerberosError, KrbError};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A principal no directory has, so the KDC answers without touching a real account.
const PROBE_PRINCIPAL: &str = "joinready-probe";
/// Datagrams that are not a KRB-ERROR for us before giving up.
const MAX_STRAY_DATAGRAMS: usize = 16;

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
    let io = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::ConnectionRefused {
            KerberosProbeError::Refused(port)
        } else {
            KerberosProbeError::Io(e.to_string())
        }
    };
    let socket = crate::probe::udp::connected_socket(address)
        .await
        .map_err(io)?;
    let sent_at = SystemTime::now();
    let started = Instant::now();
    let request = encode_as_req(
        realm,
        PROBE_PRINCIPAL,
        rand::random(),
        unix_micros(sent_at) / 1_000_000,
    );
    let wait = deadline.saturating_duration_since(started);
    let end = tokio::time::Instant::from_std(deadline);
    let exchange = async {
        socket.send(&request).await.map_err(io)?;
        let mut buffer = vec![0u8; 4096];
        let mut last = None;
        for _ in 0..MAX_STRAY_DATAGRAMS {
            // A KDC that answered garbage is not a silent one: name the garbage at the deadline.
            let length = match tokio::time::timeout_at(end, socket.recv(&mut buffer)).await {
                Ok(received) => received.map_err(io)?,
                Err(_) => break,
            };
            match decode_krb_error(buffer.get(..length).unwrap_or_default()) {
                Ok(error) => return Ok(error),
                Err(error) => last = Some(error),
            }
        }
        Err(last.map_or(
            KerberosProbeError::Silent(wait, port),
            KerberosProbeError::Malformed,
        ))
    };
    let error = tokio::time::timeout(wait, exchange)
        .await
        .map_err(|_| KerberosProbeError::Silent(wait, port))??;
    let received_at = SystemTime::now();
    let middle = (unix_micros(sent_at) + unix_micros(received_at)) / 2;
    let offset_ms = (error.stime_unix_micros() - middle) as f64 / 1_000.0;
    Ok(KdcAnswer {
        error,
        rtt: started.elapsed(),
        offset_ms,
    })
}

/// This device's clock now, in unix microseconds (what faketime shifts in tests).
pub fn local_unix_micros() -> i64 {
    unix_micros(SystemTime::now())
}
