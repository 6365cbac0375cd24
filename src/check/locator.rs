//! `dc.locator`: the DC locator as Windows runs it (MS-ADTS 6.3.6.1). Every DC gets one LDAP
//! ping, all in flight at once; the first of the client's site to answer wins, else the first of
//! the domain; if that DC names another site as the client's, ask again for that site; fall back to
//! any DC. Reports the chosen DC and why, and provides the DCs this device will use: the
//! chosen one, then the others of its site, capped by `[dc] max_checked`, plus `[dc]
//! always_check`. Only those get the deep per-DC checks, so a domain of hundreds of DCs costs
//! what the device itself would touch.

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use super::shared_probes::{PingAnswer, PingResult, Round};
use crate::facts::DomainController;
use crate::probe::dns::query;
use hickory_proto::rr::RecordType;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub const SPEC: KindSpec = KindSpec {
    name: "dc.locator",
    fan_out: FanOut::Once,
    needs: &[Fact::Dcs],
    can_provide: &[Fact::ChosenDc, Fact::CheckedDcs],
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
#[schemars(rename = "LocatorStep")]
pub struct Step {
    pub step: String,
    pub candidates: usize,
    /// How many of them answered before the round ended (the first answer ends it).
    pub answered: usize,
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
    /// The DCs that get every per-DC check, and why those.
    pub checked: Vec<String>,
    pub checked_because: String,
    /// How many DCs the domain lists in all, and how many answered while the locator waited
    /// (the census has the whole round).
    pub listed: usize,
    pub answered: usize,
}

/// What `observe` found: the evidence and the facts.
pub struct Located {
    pub evidence: Evidence,
    pub chosen: Option<DomainController>,
    pub checked: Vec<DomainController>,
}

/// The share of the check's time the locator waits for answers: the rest is for the site's DNS
/// query after it.
const WAIT_SHARE: (u32, u32) = (2, 3);
/// After the first answer, how long other DCs may still answer and count: at least this, or
/// three of the first answer's round trips. It costs nothing when every DC answers (the round
/// ends then), and a busy DC that answers a little late still counts as one the device uses.
const SETTLE: Duration = Duration::from_millis(500);

/// The LDAP pings as they stand once every DC answered, or a short while after the first answer
/// (a DC that answers later is not one the device would settle on), or at `end`.
async fn wait_for_answers(mut round: watch::Receiver<Round>, end: Instant) -> Vec<PingResult> {
    let mut first: Option<Instant> = None;
    let mut settle = SETTLE;
    // Each pass waits for a change or the time: at most one pass per DC plus the wake-ups.
    loop {
        {
            let now = round.borrow_and_update();
            if now.done {
                break;
            }
            if first.is_none() {
                if let Some(fastest) = now
                    .pings
                    .iter()
                    .filter(|p| p.answer == PingAnswer::Answered)
                    .map(|p| p.rtt_ms)
                    .min_by(f64::total_cmp)
                {
                    first = Some(Instant::now());
                    settle = settle.max(Duration::from_secs_f64(3.0 * fastest / 1_000.0));
                }
            }
        }
        let wake = match first {
            Some(at) => (at + settle).min(end),
            None => end,
        };
        if Instant::now() >= wake {
            break;
        }
        tokio::select! {
            changed = round.changed() => if changed.is_err() { break },
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => break,
        }
    }
    let pings = round.borrow().pings.clone();
    pings
}

/// The DCs of `site` as DNS lists them, in the known DC list's (RFC 2782) order.
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
            let hosts: Vec<String> = answer
                .srv
                .iter()
                .map(|r| r.target.to_ascii_lowercase())
                .collect();
            return dcs
                .iter()
                .filter(|dc| hosts.contains(&dc.hostname.to_ascii_lowercase()))
                .cloned()
                .collect();
        }
    }
    Vec::new()
}

/// The DC of `candidates` whose answer came first.
fn first_of<'a>(
    candidates: &[DomainController],
    replies: &Replies<'a>,
) -> Option<(DomainController, &'a PingResult)> {
    candidates
        .iter()
        .filter_map(|dc| Some((dc.clone(), *replies.get(dc.hostname.as_str())?)))
        .min_by(|a, b| a.1.rtt_ms.total_cmp(&b.1.rtt_ms))
}

/// The DCs that answered, by host name: thousands of DCs are looked up in it many times.
type Replies<'a> = HashMap<&'a str, &'a PingResult>;

fn replies_of(pings: &[PingResult]) -> Replies<'_> {
    pings
        .iter()
        .filter(|p| p.reply.is_some())
        .map(|p| (p.host.as_str(), p))
        .collect()
}

pub async fn observe(
    params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Located, NotObserved> {
    let domain = &context.settings.domain;
    let dcs = &inputs.dcs;
    let expected_site = context.settings.site.clone();
    let profile_site_dcs = match &expected_site {
        Some(site) => site_dcs(site, dcs, context, deadline).await,
        None => Vec::new(),
    };
    // Every DC gets one ping, all at once, in a round the census shares.
    let round = context
        .probes
        .ldap_round(dcs, domain, params.port, deadline);
    let left = deadline.saturating_duration_since(Instant::now());
    let wait_end = Instant::now() + left * WAIT_SHARE.0 / WAIT_SHARE.1;
    let pings = wait_for_answers(round, wait_end).await;
    let replies = replies_of(&pings);
    let answered = replies.len();
    let mut tried = Vec::new();
    let mut chosen: Option<(DomainController, PingResult, String)> = None;
    let mut device_site_dcs: Vec<DomainController> = Vec::new();
    if let Some(site) = &expected_site {
        tried.push(Step {
            step: format!("DCs of the profile's site {site}"),
            candidates: profile_site_dcs.len(),
            answered: count_answered(&profile_site_dcs, &replies),
        });
        if let Some((dc, ping)) = first_of(&profile_site_dcs, &replies) {
            let reason = format!(
                "first to answer of the {} DC(s) in the profile's site {site}",
                profile_site_dcs.len()
            );
            chosen = Some((dc, ping.clone(), reason));
        }
        device_site_dcs = profile_site_dcs;
    }
    if chosen.is_none() {
        tried.push(Step {
            step: "any DC of the domain".to_string(),
            candidates: dcs.len(),
            answered,
        });
        if let Some((dc, ping)) = first_of(dcs, &replies) {
            chosen = Some((
                dc,
                ping.clone(),
                "first DC of the domain to answer".to_string(),
            ));
            let reply = ping.reply.clone().unwrap_or_default();
            // The answer names this device's site; Windows asks again for a DC there.
            if !reply.client_site.is_empty() {
                let site = reply.client_site.clone();
                let candidates = site_dcs(&site, dcs, context, deadline).await;
                if !site.eq_ignore_ascii_case(&reply.dc_site) {
                    tried.push(Step {
                        step: format!("DCs of the site the DC named, {site}"),
                        candidates: candidates.len(),
                        answered: count_answered(&candidates, &replies),
                    });
                    if let Some((dc, ping)) = first_of(&candidates, &replies) {
                        chosen = Some((
                            dc,
                            ping.clone(),
                            format!("in site {site}, which the first DC to answer named as this device's site"),
                        ));
                    }
                }
                if device_site_dcs.is_empty() {
                    device_site_dcs = candidates;
                }
            }
        }
    }
    let answering: Vec<DomainController> = dcs
        .iter()
        .filter(|dc| replies.contains_key(dc.hostname.as_str()))
        .cloned()
        .collect();
    let (checked, checked_because) = checked_dcs(
        chosen.as_ref().map(|(dc, _, _)| dc),
        &device_site_dcs,
        &answering,
        dcs,
        &context.settings.dc,
    );
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
        checked: checked.iter().map(|dc| dc.hostname.clone()).collect(),
        checked_because,
        listed: dcs.len(),
        answered,
    };
    if let Some((dc, ping, reason)) = &chosen {
        let reply = ping.reply.clone().unwrap_or_default();
        evidence.chosen = Some(dc.hostname.clone());
        evidence.address = dc.address();
        evidence.reason = Some(reason.clone());
        evidence.dc_site = Some(reply.dc_site.clone());
        evidence.client_site = Some(reply.client_site.clone());
        evidence.closest = Some(reply.closest);
        evidence.rtt_ms = Some(ping.rtt_ms);
    }
    Ok(Located {
        evidence,
        chosen: chosen.map(|(dc, _, _)| dc),
        checked,
    })
}

fn count_answered(candidates: &[DomainController], replies: &Replies<'_>) -> usize {
    candidates
        .iter()
        .filter(|dc| replies.contains_key(dc.hostname.as_str()))
        .count()
}

/// The DCs that get every per-DC check: the chosen one, then the others of this device's site
/// in DNS order, up to `max_checked`; with no answer at all, the first DCs the device would try.
/// The profile's `always_check` DCs come on top, beyond the cap.
fn checked_dcs(
    chosen: Option<&DomainController>,
    site: &[DomainController],
    answering: &[DomainController],
    all: &[DomainController],
    settings: &crate::profile::DcSettings,
) -> (Vec<DomainController>, String) {
    let mut checked: Vec<DomainController> = Vec::new();
    let push = |dc: &DomainController, list: &mut Vec<DomainController>| {
        if !list.iter().any(|c| c.hostname == dc.hostname) {
            list.push(dc.clone());
        }
    };
    let because = match chosen {
        Some(chosen) => {
            push(chosen, &mut checked);
            // Its site's DCs first, answering or not (the device will use them), then any other
            // that answers (where it can fail over), so a small domain is checked whole.
            for dc in site.iter().chain(answering.iter()) {
                if checked.len() >= settings.max_checked {
                    break;
                }
                push(dc, &mut checked);
            }
            format!(
                "the chosen DC, then the DCs of this device's site and the others that answer, at most {}",
                settings.max_checked
            )
        }
        None => {
            let order = if site.is_empty() { all } else { site };
            for dc in order.iter().take(settings.max_checked) {
                push(dc, &mut checked);
            }
            format!(
                "no DC answered: the first {} DCs this device would try",
                settings.max_checked
            )
        }
    };
    let mut always = 0;
    for dc in all {
        if settings
            .always_check
            .iter()
            .any(|name| name.eq_ignore_ascii_case(&dc.hostname))
        {
            push(dc, &mut checked);
            always += 1;
        }
    }
    let because = if always > 0 {
        format!("{because}, and the profile's [dc] always_check")
    } else {
        because
    };
    (checked, because)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::DcSettings;

    fn dc(name: &str) -> DomainController {
        DomainController {
            hostname: name.to_string(),
            port: 389,
            priority: 0,
            weight: 100,
            addresses: vec!["10.0.0.1".parse().unwrap()],
            listed_by: vec![],
        }
    }

    fn names(list: &[DomainController]) -> Vec<&str> {
        list.iter().map(|d| d.hostname.as_str()).collect()
    }

    #[test]
    fn the_chosen_dc_comes_first_then_its_site_up_to_the_cap_then_the_profiles_own() {
        let all: Vec<DomainController> = ["a", "b", "c", "d", "e", "f", "x"].map(dc).to_vec();
        let site: Vec<DomainController> = ["b", "c", "d"].map(dc).to_vec();
        let settings = DcSettings {
            max_checked: 3,
            always_check: vec!["x".to_string()],
        };
        let answering: Vec<DomainController> = ["a", "c", "d", "f"].map(dc).to_vec();
        let (checked, because) = checked_dcs(Some(&dc("c")), &site, &answering, &all, &settings);
        // b is of the site (silent, still checked); a answers from another site, but the cap
        // is reached first.
        assert_eq!(names(&checked), vec!["c", "b", "d", "x"]);
        assert!(because.contains("at most 3") && because.contains("always_check"));
        let (none, because) = checked_dcs(None, &[], &[], &all, &DcSettings::default());
        assert_eq!(names(&none), vec!["a", "b", "c", "d", "e"]);
        assert!(because.starts_with("no DC answered"), "{because}");
    }
}
