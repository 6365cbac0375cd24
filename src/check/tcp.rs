//! `tcp`: a TCP port of a DC. Open, refused or silent, and what a closed port breaks.

use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::tcp::{connect, ConnectError};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "tcp",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "a TCP connect to a port of a DC",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub port: u16,
    /// What breaks when this port is closed, named in the finding.
    #[serde(default)]
    pub consequence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "TcpEvidence")]
pub struct Evidence {
    pub address: SocketAddr,
    pub reach: Reach,
    pub connect_ms: Option<f64>,
    pub error: Option<String>,
}

pub fn reach_of(error: &ConnectError) -> Reach {
    match error {
        ConnectError::Refused => Reach::Refused,
        ConnectError::Silent(_) => Reach::Silent,
        ConnectError::Unreachable(_) => Reach::Unreachable,
    }
}

pub async fn observe(
    params: &Params,
    address: IpAddr,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let socket = SocketAddr::new(address, params.port);
    Ok(match connect(socket, deadline).await {
        Ok((_, connected)) => Evidence {
            address: socket,
            reach: Reach::Open,
            connect_ms: Some(connected.connect_ms),
            error: None,
        },
        Err(error) => Evidence {
            address: socket,
            reach: reach_of(&error),
            connect_ms: None,
            error: Some(error.to_string()),
        },
    })
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    if evidence.reach == Reach::Open {
        return Judgement::pass(format!(
            "TCP {} open ({} ms)",
            params.port,
            evidence.connect_ms.unwrap_or_default()
        ));
    }
    let consequence = if params.consequence.is_empty() {
        String::new()
    } else {
        format!(": {}", params.consequence)
    };
    Judgement::fail(format!(
        "TCP {} {}{consequence}",
        params.port,
        evidence.error.as_deref().unwrap_or("closed")
    ))
}
