//! `kerberos`: the KDC on UDP 88 answers an unauthenticated AS-REQ with a KRB-ERROR, which
//! proves it alive without any credential.

use super::context::CheckContext;
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::tcp::millis;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "kerberos",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "an unauthenticated Kerberos AS-REQ; the KDC's KRB-ERROR proves it alive",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The KDC's UDP port.
    #[serde(default = "default_port")]
    pub port: u16,
}

fn default_port() -> u16 {
    88
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "KerberosEvidence")]
pub struct Evidence {
    pub address: SocketAddr,
    pub reach: Reach,
    pub error: Option<String>,
    pub rtt_ms: Option<f64>,
    /// The KRB-ERROR's error-code and its name.
    pub error_code: Option<i32>,
    pub error_name: Option<String>,
    /// The realm of the KDC that answered.
    pub realm: Option<String>,
    /// The KDC's clock minus this device's, in milliseconds.
    pub offset_ms: Option<f64>,
}

pub async fn observe(
    params: &Params,
    address: IpAddr,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let target = SocketAddr::new(address, params.port);
    let answer = context
        .probes
        .kdc(target, &context.settings.domain, deadline)
        .await;
    Ok(match answer {
        Ok(answer) => Evidence {
            address: target,
            reach: Reach::Open,
            error: None,
            rtt_ms: Some(millis(answer.rtt)),
            error_code: Some(answer.error_code),
            error_name: answer.error_name,
            realm: Some(answer.realm),
            offset_ms: Some(answer.offset_ms),
        },
        Err((reach, error)) => Evidence {
            address: target,
            reach,
            error: Some(error),
            rtt_ms: None,
            error_code: None,
            error_name: None,
            realm: None,
            offset_ms: None,
        },
    })
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let port = evidence.address.port();
    if evidence.reach == Reach::Open {
        let name = evidence.error_name.as_deref().unwrap_or("an unnamed error");
        return Judgement::pass(format!(
            "the KDC answers on UDP {port} ({name}, {} ms)",
            evidence.rtt_ms.unwrap_or_default()
        ));
    }
    let consequence = match evidence.reach {
        Reach::Silent | Reach::Refused => {
            ": Kerberos over UDP fails (clients fall back to TCP 88 only for large tickets); join error 0x40 when TCP 88 is closed too"
        }
        _ => "",
    };
    Judgement::fail(format!(
        "{}{consequence}",
        evidence.error.as_deref().unwrap_or("no answer")
    ))
}
