//! ICMP echo probe. Tries an unprivileged datagram socket first (Linux ping_group_range,
//! macOS), then a raw socket; having neither is "needs privilege", not a network failure.

use crate::probe::tcp::millis;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use surge_ping::{Client, Config, PingIdentifier, PingSequence, SurgeError, ICMP};

/// Spacing between echo requests so one lost packet does not take its neighbours with it.
const SPACING: Duration = Duration::from_millis(20);

#[derive(Debug, thiserror::Error)]
pub enum IcmpError {
    #[error("needs privilege: run as root/Administrator, or allow unprivileged ICMP (Linux: sysctl net.ipv4.ping_group_range=\"0 2147483647\")")]
    NeedsPrivilege,
    #[error("cannot open an ICMP socket: {0}")]
    Socket(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PingEvidence {
    pub address: IpAddr,
    pub sent: u8,
    pub received: u8,
    pub rtt_ms: Vec<f64>,
    /// "datagram" (unprivileged) or "raw".
    pub socket: String,
    /// Per-request errors other than silence (e.g. host unreachable).
    pub errors: Vec<String>,
}

pub async fn ping(
    address: IpAddr,
    count: u8,
    deadline: Instant,
) -> Result<PingEvidence, IcmpError> {
    let kind = if address.is_ipv4() {
        ICMP::V4
    } else {
        ICMP::V6
    };
    let client = Client::new(&Config::builder().kind(kind).build()).map_err(|error| {
        if error.kind() == std::io::ErrorKind::PermissionDenied {
            IcmpError::NeedsPrivilege
        } else {
            IcmpError::Socket(error.to_string())
        }
    })?;
    let socket = if client.get_socket().get_type() == socket2::Type::RAW {
        "raw".to_string()
    } else {
        "datagram".to_string()
    };
    let identifier = PingIdentifier(rand::random());
    let payload = [0u8; 32];
    let attempts = (0..count.max(1)).map(|sequence| {
        let client = &client;
        async move {
            tokio::time::sleep(SPACING * u32::from(sequence)).await;
            let mut pinger = client.pinger(address, identifier).await;
            let remaining = deadline.saturating_duration_since(Instant::now());
            pinger.timeout(remaining.max(Duration::from_millis(1)));
            pinger
                .ping(PingSequence(u16::from(sequence)), &payload)
                .await
        }
    });
    let results = futures::future::join_all(attempts).await;
    let mut evidence = PingEvidence {
        address,
        sent: count.max(1),
        received: 0,
        rtt_ms: Vec::new(),
        socket,
        errors: Vec::new(),
    };
    for result in results {
        match result {
            Ok((_, rtt)) => {
                evidence.received += 1;
                evidence.rtt_ms.push(millis(rtt));
            }
            Err(SurgeError::Timeout { .. }) => {}
            Err(SurgeError::IOError(error))
                if error.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                return Err(IcmpError::NeedsPrivilege)
            }
            Err(error) => evidence.errors.push(error.to_string()),
        }
    }
    Ok(evidence)
}
