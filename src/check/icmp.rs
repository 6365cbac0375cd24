//! `icmp`: ICMP echo to a DC.

use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::probe::icmp::{ping, PingEvidence};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "icmp",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "ICMP echo requests to a DC (unprivileged datagram socket first, then raw)",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Echo requests sent.
    #[serde(default = "default_count")]
    pub count: u8,
}

fn default_count() -> u8 {
    3
}

pub type Evidence = PingEvidence;

pub async fn observe(
    params: &Params,
    address: IpAddr,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    // No ICMP socket is the tool's limit, not the network's answer.
    ping(address, params.count, deadline)
        .await
        .map_err(|error| NotObserved::Error(error.to_string()))
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let address = evidence.address;
    let median = median_ms(evidence).unwrap_or_default();
    let errors = if evidence.errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", evidence.errors.join("; "))
    };
    match evidence.received {
        0 => Judgement::fail(format!(
            "no reply to {} ICMP echo requests to {address}{errors}",
            evidence.sent
        )),
        received if received < evidence.sent => Judgement::warn(format!(
            "{received}/{} ICMP echo replies from {address}, median {median} ms: packet loss",
            evidence.sent
        )),
        received => Judgement::pass(format!(
            "{received}/{} ICMP echo replies from {address}, median {median} ms",
            evidence.sent
        )),
    }
}

/// The median round trip, in milliseconds, of the replies that came.
pub fn median_ms(evidence: &Evidence) -> Option<f64> {
    let mut rtts = evidence.rtt_ms.clone();
    rtts.sort_by(f64::total_cmp);
    rtts.get(rtts.len() / 2).copied()
}
