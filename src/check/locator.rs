//! The DC locator as Windows runs it (MS-ADTS 6.3.6.1): DCs of the client's site first, an
//! LDAP ping to each, the first to answer wins; if that DC names another site as the client's,
//! ask again for that site; fall back to any DC. Reports the chosen DC and why.

use super::{CheckContext, CheckOutput};
use crate::facts::{DomainController, Facts};
use crate::model::Outcome;
use crate::probe::cldap::{ping, Pong};
use crate::probe::dns::query;
use crate::probe::tcp::millis;
use futures::stream::{FuturesUnordered, StreamExt};
use hickory_proto::rr::RecordType;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Instant;

/// The first DC of `candidates` to answer the LDAP ping, with its answer.
async fn first_answer(
    candidates: &[DomainController],
    domain: &str,
    deadline: Instant,
) -> Option<(DomainController, Pong)> {
    let mut pings: FuturesUnordered<_> = candidates
        .iter()
        .filter_map(|dc| Some((dc, dc.address()?)))
        .map(|(dc, address)| async move {
            (
                dc,
                ping(SocketAddr::new(address, 389), domain, deadline).await,
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
    facts: &Facts,
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
            return facts
                .dcs
                .iter()
                .filter(|dc| hosts.contains(&dc.hostname))
                .cloned()
                .collect();
        }
    }
    Vec::new()
}

pub async fn run(facts: &Facts, context: &CheckContext, deadline: Instant) -> CheckOutput {
    let domain = &context.settings.domain;
    let mut tried = Vec::new();
    let expected_site = context.settings.site.clone();
    let mut chosen = None;
    if let Some(site) = &expected_site {
        let candidates = site_dcs(site, facts, context, deadline).await;
        tried.push(json!({ "step": format!("DCs of the profile's site {site}"), "candidates": candidates.len() }));
        if let Some((dc, pong)) = first_answer(&candidates, domain, deadline).await {
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
        tried.push(json!({ "step": "any DC of the domain", "candidates": facts.dcs.len() }));
        if let Some((dc, pong)) = first_answer(&facts.dcs, domain, deadline).await {
            let client_site = pong.response.client_site.clone();
            let dc_site = pong.response.dc_site.clone();
            chosen = Some((dc, pong, "first DC of the domain to answer".to_string()));
            // The answer names this device's site; Windows asks again for a DC there.
            if !client_site.is_empty() && !client_site.eq_ignore_ascii_case(&dc_site) {
                let candidates = site_dcs(&client_site, facts, context, deadline).await;
                tried.push(json!({ "step": format!("DCs of the site the DC named, {client_site}"), "candidates": candidates.len() }));
                if let Some((dc, pong)) = first_answer(&candidates, domain, deadline).await {
                    chosen = Some((dc, pong, format!("in site {client_site}, which the first DC to answer named as this device's site")));
                }
            }
        }
    }
    let Some((dc, pong, reason)) = chosen else {
        return Outcome::fail(
            format!(
                "no DC of {domain} answered the LDAP ping (CLDAP, UDP 389): Windows reports 0x80070774, domain controller not found"
            ),
            json!({ "tried": tried }),
        )
        .into();
    };
    let response = &pong.response;
    let evidence = json!({
        "chosen": dc.hostname,
        "address": dc.address(),
        "reason": reason,
        "dc_site": response.dc_site,
        "client_site": response.client_site,
        "closest": response.flags.is_closest(),
        "rtt_ms": millis(pong.rtt),
        "tried": tried,
    });
    let finding = format!("{} (site {}): {reason}", dc.hostname, response.dc_site);
    let outcome =
        match &expected_site {
            Some(site) if !response.client_site.eq_ignore_ascii_case(site) => {
                Outcome::warn(
                    format!(
                "{finding}; the profile expects site {site} but the DC puts this device in {}",
                if response.client_site.is_empty() { "no site" } else { &response.client_site }
            ),
                    evidence,
                )
            }
            _ => Outcome::pass(finding, evidence),
        };
    CheckOutput {
        outcome,
        dcs: None,
        chosen_dc: Some(dc),
    }
}
