//! `ike`: an IKEv2 IKE_SA_INIT to a VPN gateway (UDP 500, or 4500 with the non-ESP marker).
//! Any reply that echoes our SPI proves a responder alive, whatever it says.

use super::context::CheckContext;
use super::gateway::{address_of, named};
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::ike::{probe as ike_probe, IkeAnswer, IkeEvidence, IkeProbeError};
use crate::probe::resolve::Resolved;
use crate::profile::VpnGateway;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "ike",
    fan_out: FanOut::VpnGateway,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "an IKEv2 IKE_SA_INIT to a VPN gateway (UDP 500, or 4500 with the non-ESP marker)",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Used when the gateway names no port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Prefix the 4 zero bytes of the non-ESP marker (RFC 3948), as on UDP 4500.
    #[serde(default)]
    pub nat_t: bool,
}

fn default_port() -> u16 {
    500
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "IkeGatewayEvidence")]
pub struct Evidence {
    pub gateway: String,
    pub port: u16,
    pub nat_t: bool,
    pub resolved: Option<Resolved>,
    pub address: Option<SocketAddr>,
    pub reach: Reach,
    pub error: Option<String>,
    /// The gateway's answer, when one came.
    pub ike: Option<IkeEvidence>,
}

pub fn reach_of(error: &IkeProbeError) -> Reach {
    match error {
        IkeProbeError::Refused { .. } => Reach::Refused,
        IkeProbeError::Silent { ignored: 0, .. } => Reach::Silent,
        // Datagrams came back, none an IKE reply to us: not silence.
        IkeProbeError::Silent { .. } | IkeProbeError::Strays { .. } => Reach::Malformed,
        IkeProbeError::Io { .. } => Reach::Unreachable,
        IkeProbeError::Build(_) => Reach::Error,
    }
}

pub async fn observe(
    params: &Params,
    gateway: &VpnGateway,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    // `[[vpn]] port` moves IKE itself; NAT-T keeps its own port, as the check names it.
    let port = if params.nat_t {
        params.port
    } else {
        gateway.port.unwrap_or(params.port)
    };
    let mut evidence = Evidence {
        gateway: gateway.host.clone(),
        port,
        nat_t: params.nat_t,
        resolved: None,
        address: None,
        reach: Reach::Unreachable,
        error: None,
        ike: None,
    };
    let (resolved, address) = match address_of(gateway, port, context, deadline).await {
        Ok(found) => found,
        Err(why) => {
            evidence.error = Some(why);
            return Ok(evidence);
        }
    };
    evidence.resolved = Some(resolved);
    evidence.address = Some(address);
    match ike_probe(address, params.nat_t, deadline).await {
        Ok(answer) => {
            evidence.reach = Reach::Open;
            evidence.ike = Some(answer);
        }
        Err(IkeProbeError::Build(why)) => {
            return Err(NotObserved::Error(format!(
                "cannot build the IKE_SA_INIT request: {why}"
            )))
        }
        Err(error) => {
            evidence.reach = reach_of(&error);
            evidence.error = Some(error.to_string());
        }
    }
    Ok(evidence)
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let port = evidence.port;
    let via = if evidence.nat_t {
        format!("UDP {port} (NAT-T)")
    } else {
        format!("UDP {port}")
    };
    let error = evidence.error.as_deref().unwrap_or("no answer");
    let Some(address) = evidence.address else {
        return Judgement::fail(error);
    };
    let who = named(&evidence.gateway, address);
    let Some(answer) = &evidence.ike else {
        return Judgement::fail(match evidence.reach {
            Reach::Refused => format!(
                "{via} on {who} refused (ICMP port unreachable): the host is up but no IKE service listens there"
            ),
            Reach::Silent => format!(
                "{via} on {who}: {error}: a firewall drops UDP {port} or the gateway is down"
            ),
            Reach::Malformed => format!(
                "{via} on {who}: {error}: something answers on UDP {port}, but not as an IKEv2 responder"
            ),
            _ => format!("{via} on {who}: {error}"),
        });
    };
    let retried = if answer.sent > 1 {
        format!(" after {} requests", answer.sent)
    } else {
        String::new()
    };
    let head = format!(
        "IKEv2 responder on {via} of {who} answered in {} ms{retried}",
        answer.rtt_ms
    );
    match &answer.answer {
        IkeAnswer::Accepted { .. } | IkeAnswer::Cookie | IkeAnswer::InvalidKe { .. } => {
            Judgement::pass(format!("{head}: {}", answer.answer))
        }
        IkeAnswer::Malformed { .. } => Judgement::pass(format!(
            "{head} (alive: it echoed our SPI): {}",
            answer.answer
        )),
        IkeAnswer::NoProposalChosen => Judgement::warn(format!(
            "{head} NO_PROPOSAL_CHOSEN: it is alive but accepts none of AES-CBC/AES-GCM with SHA-2 and ECP-256; make the client's IPsec settings match the gateway's"
        )),
        IkeAnswer::OtherNotify { .. } | IkeAnswer::MissingSa => {
            Judgement::warn(format!("{head} (alive) with {}", answer.answer))
        }
    }
}
