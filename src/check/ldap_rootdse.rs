//! `ldap.rootdse`: the anonymous rootDSE read over LDAP that proves a DC serves LDAP on TCP.

use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::ldap::{read_rootdse, LdapError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "ldap.rootdse",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "an anonymous rootDSE read over LDAP (TCP)",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default = "default_port")]
    pub port: u16,
}

pub fn default_port() -> u16 {
    389
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "LdapRootDseEvidence")]
pub struct Evidence {
    pub address: SocketAddr,
    pub reach: Reach,
    pub error: Option<String>,
    pub connect_ms: Option<f64>,
    pub answer_ms: Option<f64>,
    /// The rootDSE's attributes; empty when it could not be read.
    pub attributes: HashMap<String, Vec<String>>,
}

impl Evidence {
    fn first(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }
}

/// How the DC's LDAP service answered, whatever phase failed.
pub fn reach_of(error: &LdapError) -> Reach {
    match error {
        LdapError::Connect { source, .. } => super::tcp::reach_of(source),
        LdapError::Silent { .. } => Reach::Silent,
        LdapError::Tls(..) | LdapError::Result { .. } => Reach::Open,
        LdapError::Protocol { .. } => Reach::Malformed,
        LdapError::Trust(_) => Reach::Error,
    }
}

/// msDS-Behavior-Version values as Windows Server names them.
fn functional_level(value: &str) -> String {
    let name = match value {
        "0" => "2000",
        "1" => "2003 interim",
        "2" => "2003",
        "3" => "2008",
        "4" => "2008 R2",
        "5" => "2012",
        "6" => "2012 R2",
        "7" => "2016",
        "10" => "2025",
        _ => return format!("level {value}"),
    };
    format!("{name} ({value})")
}

pub async fn observe(
    params: &Params,
    address: IpAddr,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let target = SocketAddr::new(address, params.port);
    Ok(match read_rootdse(target, deadline).await {
        Ok(rootdse) => Evidence {
            address: target,
            reach: Reach::Open,
            error: None,
            connect_ms: Some(rootdse.connect_ms),
            answer_ms: Some(rootdse.answer_ms),
            attributes: rootdse.attributes,
        },
        Err(error) => Evidence {
            address: target,
            reach: reach_of(&error),
            error: Some(error.to_string()),
            connect_ms: None,
            answer_ms: None,
            attributes: HashMap::new(),
        },
    })
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    if let Some(error) = &evidence.error {
        return Judgement::fail(error.clone());
    }
    let naming_context = evidence.first("defaultNamingContext").unwrap_or("?");
    let host = evidence.first("dnsHostName").unwrap_or("?");
    let level = evidence
        .first("domainFunctionality")
        .map(functional_level)
        .unwrap_or_else(|| "?".into());
    Judgement::pass(format!(
        "{host} answers: {naming_context}, domain functional level {level}, {} ms",
        evidence.answer_ms.unwrap_or_default()
    ))
}
