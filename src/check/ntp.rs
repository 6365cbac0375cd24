//! `ntp`: the time service of a DC on UDP 123, asked in SNTP; its answer also gives the DC's
//! clock (the exchange is shared with `clock`, see `shared_probes`).

use super::context::CheckContext;
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::tcp::millis;
use crate::wire::ntp::{Leap, NtpResponse};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "ntp",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "an SNTP request to a DC's time service",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default = "default_port")]
    pub port: u16,
    /// What breaks when the service does not answer, named in the finding.
    #[serde(default)]
    pub consequence: String,
}

fn default_port() -> u16 {
    123
}

/// What an SNTP server said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NtpAnswer {
    pub stratum: u8,
    /// The server's clock minus this device's.
    pub offset_ms: f64,
    pub delay_ms: f64,
    pub reference: String,
    /// False when the server says its own clock is not synchronized (leap indicator 3, or
    /// stratum 0 or 16): Windows' time client does not take time from such a server.
    pub synchronized: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "NtpEvidence")]
pub struct Evidence {
    pub address: SocketAddr,
    pub reach: Reach,
    pub error: Option<String>,
    pub rtt_ms: Option<f64>,
    pub answer: Option<NtpAnswer>,
}

pub fn answer_of(response: &NtpResponse) -> NtpAnswer {
    NtpAnswer {
        stratum: response.stratum,
        offset_ms: response.offset_ms,
        delay_ms: response.delay_ms,
        reference: response.reference.clone(),
        synchronized: response.leap != Leap::Unsynchronized && (1..=15).contains(&response.stratum),
    }
}

pub async fn observe(
    params: &Params,
    address: IpAddr,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let target = SocketAddr::new(address, params.port);
    Ok(match context.probes.ntp(target, deadline).await {
        Ok((response, rtt)) => Evidence {
            address: target,
            reach: Reach::Open,
            error: None,
            rtt_ms: Some(millis(rtt)),
            answer: Some(answer_of(&response)),
        },
        Err((reach, error)) => Evidence {
            address: target,
            reach,
            error: Some(error),
            rtt_ms: None,
            answer: None,
        },
    })
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    let consequence = if params.consequence.is_empty() {
        String::new()
    } else {
        format!(": {}", params.consequence)
    };
    match &evidence.answer {
        Some(answer) if !answer.synchronized => Judgement::warn(format!(
            "NTP answers on UDP {}, but the DC's own clock is not synchronized (stratum {}): Windows does not take time from it; sync the PDC emulator with a reliable source",
            params.port, answer.stratum
        )),
        Some(answer) => Judgement::pass(format!(
            "NTP answers on UDP {}: stratum {}, offset {:+.1} ms",
            params.port, answer.stratum, answer.offset_ms
        )),
        None if evidence.reach == Reach::Malformed => {
            Judgement::fail(evidence.error.clone().unwrap_or_default())
        }
        None => Judgement::fail(format!(
            "{}{consequence}",
            evidence.error.as_deref().unwrap_or("no answer")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(leap: Leap, stratum: u8) -> NtpResponse {
        NtpResponse {
            leap,
            version: 4,
            stratum,
            poll: 6,
            precision: -20,
            root_delay_ms: 0.0,
            root_dispersion_ms: 0.0,
            reference_id: [0; 4],
            reference: "LOCL".into(),
            server_time_unix_nanos: 0,
            offset_ms: 1.0,
            delay_ms: 1.0,
        }
    }

    #[test]
    fn a_server_is_synchronized_only_with_a_real_stratum_and_no_alarm() {
        assert!(answer_of(&response(Leap::NoWarning, 3)).synchronized);
        assert!(answer_of(&response(Leap::AddSecond, 1)).synchronized);
        assert!(!answer_of(&response(Leap::Unsynchronized, 3)).synchronized);
        assert!(!answer_of(&response(Leap::NoWarning, 16)).synchronized);
        assert!(!answer_of(&response(Leap::NoWarning, 0)).synchronized);
    }
}
