//! `kpasswd`: the Kerberos password-change service of a DC on UDP. It gets a malformed
//! password-change request, which a live kpasswd service answers with an error reply; only a
//! Kerberos answer counts, since a UDP echo service would also "answer".

use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::tcp::millis;
use crate::probe::udp::{exchange, UdpError};
use crate::wire::kerberos;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "kpasswd",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "the kpasswd service on UDP, asked in its own protocol (RFC 3244)",
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
    464
}

/// A kpasswd request (RFC 3244) with an empty AP-REQ: too short to change anything, long
/// enough for the service to answer with its error reply.
const KPASSWD_PROBE: [u8; 16] = [
    0x00, 0x10, 0xff, 0x80, 0x00, 0x00, 0x30, 0x03, 0x02, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
];

/// The result the kpasswd service put in the KRB-ERROR's e-data (RFC 3244 section 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KpasswdResult {
    pub code: u16,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "KpasswdEvidence")]
pub struct Evidence {
    pub address: SocketAddr,
    pub reach: Reach,
    pub error: Option<String>,
    pub rtt_ms: Option<f64>,
    pub reply_bytes: Option<usize>,
    /// The KRB-ERROR's name (or number) in the service's reply.
    pub krb_error: Option<String>,
    pub realm: Option<String>,
    pub kpasswd_result: Option<KpasswdResult>,
}

pub fn reach_of(error: &UdpError) -> Reach {
    match error {
        UdpError::Refused(_) => Reach::Refused,
        UdpError::Silent { .. } => Reach::Silent,
        UdpError::Io(_) => Reach::Unreachable,
    }
}

fn kpasswd_result(e_data: Option<&[u8]>) -> Option<KpasswdResult> {
    match e_data {
        Some([high, low, text @ ..]) => Some(KpasswdResult {
            code: u16::from_be_bytes([*high, *low]),
            text: String::from_utf8_lossy(text).trim().to_string(),
        }),
        _ => None,
    }
}

pub async fn observe(
    params: &Params,
    address: IpAddr,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let target = SocketAddr::new(address, params.port);
    let mut evidence = Evidence {
        address: target,
        reach: Reach::Open,
        error: None,
        rtt_ms: None,
        reply_bytes: None,
        krb_error: None,
        realm: None,
        kpasswd_result: None,
    };
    let reply = match exchange(target, &KPASSWD_PROBE, deadline).await {
        Ok(reply) => reply,
        Err(error) => {
            evidence.reach = reach_of(&error);
            evidence.error = Some(error.to_string());
            return Ok(evidence);
        }
    };
    evidence.rtt_ms = Some(millis(reply.rtt));
    evidence.reply_bytes = Some(reply.bytes.len());
    match kerberos::decode_kpasswd_error(&reply.bytes) {
        Ok(error) => {
            evidence.krb_error = Some(
                error
                    .error_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("error {}", error.error_code)),
            );
            evidence.realm = Some(error.realm.clone());
            evidence.kpasswd_result = kpasswd_result(error.e_data.as_deref());
        }
        Err(error) => {
            evidence.reach = Reach::Malformed;
            evidence.error = Some(error.to_string());
        }
    }
    Ok(evidence)
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    let port = params.port;
    let consequence = if params.consequence.is_empty() {
        String::new()
    } else {
        format!(": {}", params.consequence)
    };
    let error = evidence.error.as_deref().unwrap_or("no answer");
    match evidence.reach {
        Reach::Open => Judgement::pass(format!(
            "the kpasswd service answers on UDP {port} ({} ms, {} to the empty request)",
            evidence.rtt_ms.unwrap_or_default(),
            evidence.krb_error.as_deref().unwrap_or("an error")
        )),
        Reach::Malformed => Judgement::fail(format!(
            "UDP {port} answered, but not as kpasswd: {error}{consequence}"
        )),
        _ => Judgement::fail(format!("{error}{consequence}")),
    }
}
