//! `dc.census`: how every DC the domain lists answered its one LDAP ping, summed up in one row. On a segmented network a device reaches only its own site's DCs; that is worth a
//! warning, not a row per DC.

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use super::shared_probes::PingAnswer;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "dc.census",
    fan_out: FanOut::Once,
    needs: &[Fact::Dcs],
    can_provide: &[],
    needs_password: false,
    summary: "one LDAP ping to every DC of the domain, shared with the DC locator, in one row",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The DCs' CLDAP port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// DCs named in the finding when many do not answer.
    #[serde(default = "default_named")]
    pub named: usize,
}

fn default_port() -> u16 {
    389
}

fn default_named() -> usize {
    10
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CensusEntry {
    pub host: String,
    pub address: Option<IpAddr>,
    pub answer: PingAnswer,
    pub rtt_ms: Option<f64>,
    /// The site the DC says it is in.
    pub site: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "CensusEvidence")]
pub struct Evidence {
    pub domain: String,
    pub listed: usize,
    pub answered: usize,
    /// Every DC, in the DC list's order.
    pub dcs: Vec<CensusEntry>,
}

/// The round of pings is shared with the DC locator, whichever starts it: no DC gets two.
pub async fn observe(
    params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let domain = context.settings.domain.clone();
    let mut round = context
        .probes
        .ldap_round(&inputs.dcs, &domain, params.port, deadline);
    let end = tokio::time::Instant::from_std(deadline);
    // Bounded: the round ends by its own deadline, and this wait by ours.
    while !round.borrow_and_update().done {
        match tokio::time::timeout_at(end, round.changed()).await {
            Ok(Ok(())) => {}
            _ => break,
        }
    }
    let dcs: Vec<CensusEntry> = round
        .borrow()
        .pings
        .iter()
        .map(|ping| CensusEntry {
            host: ping.host.clone(),
            address: ping.address,
            answer: ping.answer,
            rtt_ms: (ping.answer == PingAnswer::Answered).then_some(ping.rtt_ms),
            site: ping.reply.as_ref().map(|r| r.dc_site.clone()),
        })
        .collect();
    Ok(Evidence {
        domain,
        listed: dcs.len(),
        answered: dcs
            .iter()
            .filter(|e| e.answer == PingAnswer::Answered)
            .count(),
        dcs,
    })
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    let listed = evidence.listed;
    let answered = evidence.answered;
    let mut sites: Vec<&str> = evidence
        .dcs
        .iter()
        .filter_map(|e| e.site.as_deref())
        .collect();
    sites.sort_unstable();
    sites.dedup();
    let sites = if sites.is_empty() {
        String::new()
    } else {
        format!(
            " in site{} {}",
            if sites.len() == 1 { "" } else { "s" },
            sites.join(", ")
        )
    };
    if listed == 0 {
        return Judgement::fail("DNS lists no DC to ping");
    }
    if answered == listed {
        return Judgement::pass(format!(
            "all {listed} DC{} answer the LDAP ping{sites}",
            if listed == 1 { "" } else { "s" }
        ));
    }
    let silent: Vec<&str> = evidence
        .dcs
        .iter()
        .filter(|e| e.answer != PingAnswer::Answered)
        .map(|e| e.host.as_str())
        .collect();
    let first: Vec<&str> = silent.iter().take(params.named).copied().collect();
    let more = if silent.len() > first.len() {
        format!(", and {} more", silent.len() - first.len())
    } else {
        String::new()
    };
    let head = format!(
        "{} of {listed} DCs do not answer the LDAP ping from this network: {}{more}",
        silent.len(),
        first.join(", ")
    );
    if answered == 0 {
        return Judgement::fail(format!(
            "{head}; none answers, so the DC locator finds no DC (0x80070774)"
        ));
    }
    // The device uses the DCs that answer; the others matter only where it roams.
    Judgement::warn(if answered == 1 {
        format!("{head}; the one that answers is{sites}")
    } else {
        format!("{head}; the {answered} that answer are{sites}")
    })
}
