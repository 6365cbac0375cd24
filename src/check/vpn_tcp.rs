//! `vpn.tcp`: the TCP port of a VPN gateway of kind "tcp" (OpenVPN over TCP, a vendor
//! protocol).

use super::context::CheckContext;
use super::gateway::{address_of, named};
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::resolve::Resolved;
use crate::probe::tcp::connect;
use crate::profile::VpnGateway;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "vpn.tcp",
    fan_out: FanOut::VpnGateway,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "a TCP connect to a VPN gateway of kind \"tcp\"",
};

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "VpnTcpEvidence")]
pub struct Evidence {
    pub gateway: String,
    pub port: u16,
    pub resolved: Option<Resolved>,
    pub address: Option<SocketAddr>,
    pub reach: Reach,
    pub connect_ms: Option<f64>,
    pub error: Option<String>,
}

pub async fn observe(
    _params: &Params,
    gateway: &VpnGateway,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let Some(port) = gateway.port else {
        return Err(NotObserved::Error(format!(
            "[[vpn]] {} of kind \"tcp\" has no port: add `port = 1194` (the gateway's TCP port) to that [[vpn]] entry",
            gateway.host
        )));
    };
    let mut evidence = Evidence {
        gateway: gateway.host.clone(),
        port,
        resolved: None,
        address: None,
        reach: Reach::Unreachable,
        connect_ms: None,
        error: None,
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
    match connect(address, deadline).await {
        Ok((_, connected)) => {
            evidence.reach = Reach::Open;
            evidence.connect_ms = Some(connected.connect_ms);
        }
        Err(error) => {
            evidence.reach = super::tcp::reach_of(&error);
            evidence.error = Some(error.to_string());
        }
    }
    Ok(evidence)
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let port = evidence.port;
    let error = evidence.error.as_deref().unwrap_or("no answer");
    let Some(address) = evidence.address else {
        return Judgement::fail(error);
    };
    let who = named(&evidence.gateway, address);
    if evidence.reach == Reach::Open {
        return Judgement::pass(format!(
            "TCP {port} open on {who} ({} ms)",
            evidence.connect_ms.unwrap_or_default()
        ));
    }
    Judgement::fail(format!(
        "TCP {port} on {who} {error}: the VPN client cannot reach the gateway"
    ))
}
