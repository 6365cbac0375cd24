//! `cldap`: the LDAP ping to a DC. Is it a DC of this domain, which site is it in, which site
//! does it put this device in, and what roles does it hold.

use super::context::CheckContext;
use super::netlogon::NetlogonReply;
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::cldap::{ping, CldapProbeError};
use crate::probe::tcp::millis;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "cldap",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "the CLDAP \"LDAP ping\" on UDP 389 that Windows' DC locator sends each DC",
};

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The DC's CLDAP port.
    #[serde(default = "default_port")]
    pub port: u16,
}

fn default_port() -> u16 {
    389
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "CldapEvidence")]
pub struct Evidence {
    pub address: SocketAddr,
    /// The domain asked for.
    pub domain: String,
    /// The site the profile expects this device in.
    pub expected_site: Option<String>,
    pub reach: Reach,
    pub error: Option<String>,
    pub rtt_ms: Option<f64>,
    pub reply: Option<NetlogonReply>,
}

pub fn reach_of(error: &CldapProbeError) -> Reach {
    match error {
        CldapProbeError::Silent(..) => Reach::Silent,
        CldapProbeError::Refused(_) => Reach::Refused,
        CldapProbeError::Io(_) => Reach::Unreachable,
        CldapProbeError::Malformed(_) => Reach::Malformed,
    }
}

pub async fn observe(
    params: &Params,
    address: IpAddr,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let target = SocketAddr::new(address, params.port);
    let domain = context.settings.domain.clone();
    let answer = ping(target, &domain, deadline).await;
    let mut evidence = Evidence {
        address: target,
        domain,
        expected_site: context.settings.site.clone(),
        reach: Reach::Open,
        error: None,
        rtt_ms: None,
        reply: None,
    };
    match answer {
        Ok(pong) => {
            evidence.rtt_ms = Some(millis(pong.rtt));
            evidence.reply = Some(NetlogonReply::from_pong(&pong));
        }
        Err(error) => {
            evidence.reach = reach_of(&error);
            evidence.error = Some(error.to_string());
        }
    }
    Ok(evidence)
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let Some(r) = &evidence.reply else {
        let hint = match evidence.reach {
            Reach::Silent | Reach::Refused => {
                ": the DC locator cannot use this DC (join error 0x80070774 if no DC answers)"
            }
            _ => "",
        };
        return Judgement::fail(format!(
            "{}{hint}",
            evidence.error.as_deref().unwrap_or("no answer")
        ));
    };
    let domain = &evidence.domain;
    if r.paused {
        return Judgement::fail(format!("{}: the DC's Netlogon service is paused", r.host));
    }
    if !r.domain.eq_ignore_ascii_case(domain) {
        return Judgement::fail(format!(
            "{} answers for domain {}, not {domain}",
            r.host, r.domain
        ));
    }
    let client_site = if r.client_site.is_empty() {
        "no site (this device's subnet is mapped to no AD site)".to_string()
    } else {
        r.client_site.clone()
    };
    const ROLES: [&str; 7] = [
        "PDC",
        "GC",
        "KDC",
        "WRITABLE",
        "RODC",
        "CLOSEST",
        "GOOD_TIMESERV",
    ];
    let roles: Vec<&str> = r
        .flag_names
        .iter()
        .map(String::as_str)
        .filter(|name| ROLES.contains(name))
        .collect();
    let summary = format!(
        "{} in site {}, puts this device in {client_site}; {} ({} ms)",
        r.host,
        r.dc_site,
        roles.join(" "),
        evidence.rtt_ms.unwrap_or_default()
    );
    match &evidence.expected_site {
        Some(expected) if !r.client_site.eq_ignore_ascii_case(expected) => Judgement::warn(
            format!("{summary}: the profile expects site {expected}, the DC says {client_site}"),
        ),
        _ if !r.kdc => Judgement::warn(format!("{summary}: not a KDC")),
        _ => Judgement::pass(summary),
    }
}
