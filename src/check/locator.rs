//! `dc.locator`: the DC locator as Windows runs it (MS-ADTS 6.3.6.1). DCs of the client's site
//! first, an LDAP ping to each, the first to answer wins; if that DC names another site as the
//! client's, ask again for that site; fall back to any DC. Reports the chosen DC and why.

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use crate::facts::DomainController;
use crate::probe::cldap::{ping, Pong};
use crate::probe::dns::query;
use crate::probe::tcp::millis;
use futures::stream::{FuturesUnordered, StreamExt};
use hickory_proto::rr::RecordType;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "dc.locator",
    fan_out: FanOut::Once,
    needs: &[Fact::Dcs],
    can_provide: &[Fact::ChosenDc],
    needs_password: false,
    summary: "the DC locator: site-aware LDAP pings over the DC list, the first answer wins",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The DCs' CLDAP port.
    #[serde(default = "default_port")]
    pub port: u16,
}

fn default_port() -> u16 {
    389
}

/// One round of LDAP pings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Step {
    pub step: String,
    pub candidates: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "LocatorEvidence")]
pub struct Evidence {
    pub domain: String,
    pub expected_site: Option<String>,
    pub tried: Vec<Step>,
    /// The chosen DC's host name; None when no DC answered.
    pub chosen: Option<String>,
    pub address: Option<IpAddr>,
    pub reason: Option<String>,
    pub dc_site: Option<String>,
    pub client_site: Option<String>,
    pub closest: Option<bool>,
    pub rtt_ms: Option<f64>,
}

/// The first DC of `candidates` to answer the LDAP ping, with its answer.
async fn first_answer(
    candidates: &[DomainController],
    domain: &str,
    port: u16,
    deadline: Instant,
) -> Option<(DomainController, Pong)> {
    let mut pings: FuturesUnordered<_> = candidates
        .iter()
        .filter_map(|dc| Some((dc, dc.address()?)))
        .map(|(dc, address)| async move {
            (
                dc,
                ping(SocketAddr::new(address, port), domain, deadline).await,
            )
        })
        .collect();
    while let Some((dc, result)) = pings.next().await {
        if let Ok(pong) = result {
            return Some((dc.clone(), pong));
        }
    }
    None
}

/// The DCs of `site` as DNS lists them, taken from the known DC list.
async fn site_dcs(
    site: &str,
    dcs: &[DomainController],
    context: &CheckContext,
    deadline: Instant,
) -> Vec<DomainController> {
    let name = format!(
        "_ldap._tcp.{site}._sites.dc._msdcs.{}",
        context.settings.domain
    );
    let Ok(servers) = &context.dns_servers else {
        return Vec::new();
    };
    for server in servers {
        if let Ok(answer) = query(*server, &name, RecordType::SRV, deadline).await {
            let hosts: Vec<String> = answer.srv.iter().map(|r| r.target.clone()).collect();
            return dcs
                .iter()
                .filter(|dc| hosts.contains(&dc.hostname))
                .cloned()
                .collect();
        }
    }
    Vec::new()
}

/// The evidence, and the chosen DC for the board.
pub async fn observe(
    params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<(Evidence, Option<DomainController>), NotObserved> {
    let domain = &context.settings.domain;
    let dcs = &inputs.dcs;
    let mut tried = Vec::new();
    let expected_site = context.settings.site.clone();
    let mut chosen = None;
    if let Some(site) = &expected_site {
        let candidates = site_dcs(site, dcs, context, deadline).await;
        tried.push(Step {
            step: format!("DCs of the profile's site {site}"),
            candidates: candidates.len(),
        });
        if let Some((dc, pong)) = first_answer(&candidates, domain, params.port, deadline).await {
            chosen = Some((
                dc,
                pong,
                format!(
                    "first to answer of the {} DC(s) in the profile's site {site}",
                    candidates.len()
                ),
            ));
        }
    }
    if chosen.is_none() {
        tried.push(Step {
            step: "any DC of the domain".to_string(),
            candidates: dcs.len(),
        });
        if let Some((dc, pong)) = first_answer(dcs, domain, params.port, deadline).await {
            let client_site = pong.response.client_site.clone();
            let dc_site = pong.response.dc_site.clone();
            chosen = Some((dc, pong, "first DC of the domain to answer".to_string()));
            // The answer names this device's site; Windows asks again for a DC there.
            if !client_site.is_empty() && !client_site.eq_ignore_ascii_case(&dc_site) {
                let candidates = site_dcs(&client_site, dcs, context, deadline).await;
                tried.push(Step {
                    step: format!("DCs of the site the DC named, {client_site}"),
                    candidates: candidates.len(),
                });
                if let Some((dc, pong)) =
                    first_answer(&candidates, domain, params.port, deadline).await
                {
                    chosen = Some((
                        dc,
                        pong,
                        format!("in site {client_site}, which the first DC to answer named as this device's site"),
                    ));
                }
            }
        }
    }
    let mut evidence = Evidence {
        domain: domain.clone(),
        expected_site,
        tried,
        chosen: None,
        address: None,
        reason: None,
        dc_site: None,
        client_site: None,
        closest: None,
        rtt_ms: None,
    };
    let Some((dc, pong, reason)) = chosen else {
        return Ok((evidence, None));
    };
    let response = &pong.response;
    evidence.chosen = Some(dc.hostname.clone());
    evidence.address = dc.address();
    evidence.reason = Some(reason);
    evidence.dc_site = Some(response.dc_site.clone());
    evidence.client_site = Some(response.client_site.clone());
    evidence.closest = Some(response.flags.is_closest());
    evidence.rtt_ms = Some(millis(pong.rtt));
    Ok((evidence, Some(dc)))
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let Some(chosen) = &evidence.chosen else {
        return Judgement::fail(format!(
            "no DC of {} answered the LDAP ping (CLDAP, UDP 389): Windows reports 0x80070774, domain controller not found",
            evidence.domain
        ));
    };
    let dc_site = evidence.dc_site.as_deref().unwrap_or_default();
    let client_site = evidence.client_site.as_deref().unwrap_or_default();
    let reason = evidence.reason.as_deref().unwrap_or_default();
    let finding = format!("{chosen} (site {dc_site}): {reason}");
    match &evidence.expected_site {
        Some(site) if !client_site.eq_ignore_ascii_case(site) => Judgement::warn(format!(
            "{finding}; the profile expects site {site} but the DC puts this device in {}",
            if client_site.is_empty() {
                "no site"
            } else {
                client_site
            }
        )),
        _ => Judgement::pass(finding),
    }
}
