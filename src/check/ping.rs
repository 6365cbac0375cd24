//! ICMP echo to a DC.

use crate::catalog::IcmpParams;
use crate::model::Outcome;
use crate::probe::icmp::{ping, IcmpError};
use std::net::IpAddr;
use std::time::Instant;

pub async fn run(params: &IcmpParams, address: IpAddr, deadline: Instant) -> Outcome {
    match ping(address, params.count, deadline).await {
        Err(IcmpError::NeedsPrivilege) => Outcome::error(IcmpError::NeedsPrivilege.to_string()),
        Err(error) => Outcome::error(error.to_string()),
        Ok(evidence) => {
            let value = serde_json::to_value(&evidence).unwrap_or_default();
            let mut rtts = evidence.rtt_ms.clone();
            rtts.sort_by(f64::total_cmp);
            let median = rtts.get(rtts.len() / 2).copied().unwrap_or_default();
            let errors = if evidence.errors.is_empty() {
                String::new()
            } else {
                format!(" ({})", evidence.errors.join("; "))
            };
            match evidence.received {
                0 => Outcome::fail(
                    format!(
                        "no reply to {} ICMP echo requests to {address}{errors}",
                        evidence.sent
                    ),
                    value,
                ),
                received if received < evidence.sent => Outcome::warn(
                    format!(
                        "{received}/{} ICMP echo replies from {address}, median {median} ms: packet loss",
                        evidence.sent
                    ),
                    value,
                ),
                received => Outcome::pass(
                    format!("{received}/{} ICMP echo replies from {address}, median {median} ms", evidence.sent),
                    value,
                ),
            }
        }
    }
}
