//! `dns.srv`: SRV records asked of every DNS server separately, with the addresses of each
//! target asked of the same server. The check that provides the DC list is one of these.

use super::context::CheckContext;
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use crate::facts::DomainController;
use crate::model::Reach;
use crate::probe::dns::{query, DnsAnswer, DnsError, Rcode, SrvRecord};
use crate::probe::tcp::millis;
use crate::srv_order::{random_pick, rfc2782_order};
use hickory_proto::rr::RecordType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "dns.srv",
    fan_out: FanOut::Once,
    needs: &[],
    can_provide: &[Fact::Dcs],
    needs_password: false,
    summary: "an SRV lookup against every DNS server, with the A/AAAA records of each target",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The SRV owner name; `{domain}`, `{forest}` and `{site}` are filled from the profile.
    pub name: String,
}

/// What one server's SRV answer was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SrvAnswer {
    Records,
    /// The name exists without SRV records.
    NoData,
    Nxdomain,
    Servfail,
    Refused,
    /// Another response code.
    Rcode,
    /// No usable answer (see `reach`).
    None,
}

/// What one server said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServerAnswer {
    pub server: SocketAddr,
    pub reach: Reach,
    pub result: SrvAnswer,
    pub detail: String,
    pub rtt_ms: Option<f64>,
    pub authoritative: Option<bool>,
    pub over_tcp: Option<bool>,
    pub records: Vec<SrvRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "DnsSrvEvidence")]
pub struct Evidence {
    pub name: String,
    /// Whether this lookup is the one that lists the domain's DCs.
    pub lists_dcs: bool,
    /// Whether the targets' addresses were asked. A lookup that does not list the DCs skips
    /// them for a long list: the same DCs are resolved once, by the one that does.
    pub addresses_looked_up: bool,
    pub servers: Vec<ServerAnswer>,
    /// The union of every server's targets, in RFC 2782 order.
    pub targets: Vec<DomainController>,
}

impl ServerAnswer {
    fn from_result(server: SocketAddr, result: &Result<DnsAnswer, DnsError>) -> ServerAnswer {
        match result {
            Ok(answer) => {
                let records: Vec<SrvRecord> = answer.srv.clone();
                let (result, detail) = match answer.rcode {
                    Rcode::NoError if !records.is_empty() => {
                        (SrvAnswer::Records, format!("{} records", records.len()))
                    }
                    Rcode::NoError => (
                        SrvAnswer::NoData,
                        "no data (the name exists without SRV records)".to_string(),
                    ),
                    Rcode::NxDomain => (SrvAnswer::Nxdomain, "NXDOMAIN".to_string()),
                    Rcode::ServFail => (SrvAnswer::Servfail, "SERVFAIL".to_string()),
                    Rcode::Refused => (SrvAnswer::Refused, "REFUSED".to_string()),
                    other => (SrvAnswer::Rcode, other.label()),
                };
                ServerAnswer {
                    server,
                    reach: Reach::Open,
                    result,
                    detail,
                    rtt_ms: Some(millis(answer.rtt)),
                    authoritative: Some(answer.authoritative),
                    over_tcp: Some(answer.over_tcp),
                    records,
                }
            }
            Err(error) => ServerAnswer {
                server,
                reach: match error {
                    DnsError::Timeout(_) => Reach::Silent,
                    DnsError::Refused { .. } => Reach::Refused,
                    DnsError::Malformed(_) => Reach::Malformed,
                    DnsError::Io(_) | DnsError::TcpFallback(_) => Reach::Unreachable,
                    DnsError::BadName(_) => Reach::Error,
                },
                result: SrvAnswer::None,
                detail: error.to_string(),
                rtt_ms: None,
                authoritative: None,
                over_tcp: None,
                records: Vec::new(),
            },
        }
    }
}

pub async fn observe(
    params: &Params,
    lists_dcs: bool,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let Some(name) = context.settings.expand(&params.name) else {
        return Err(NotObserved::Skip(
            "no site expected: set `site = \"<site name>\"` in the profile to check the site's records"
                .to_string(),
        ));
    };
    let servers = context.dns_servers.clone().map_err(NotObserved::Error)?;
    let look_up_at_most = if lists_dcs {
        usize::MAX
    } else {
        LOOKUPS_FOR_OTHER_LISTS
    };
    let results = futures::future::join_all(servers.iter().map(|server| {
        let name = &name;
        async move {
            (
                *server,
                ask_server(*server, name, look_up_at_most, deadline).await,
            )
        }
    }))
    .await;
    let addresses_looked_up = results.iter().all(|(_, (answer, _))| {
        answer
            .as_ref()
            .map_or(true, |a| a.srv.len() <= look_up_at_most)
    });
    Ok(Evidence {
        addresses_looked_up,
        servers: results
            .iter()
            .map(|(server, (result, _))| ServerAnswer::from_result(*server, result))
            .collect(),
        targets: merge_targets(&results),
        name,
        lists_dcs,
    })
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let name = &evidence.name;
    let targets = &evidence.targets;
    let failing: Vec<String> = evidence
        .servers
        .iter()
        .filter(|a| a.result != SrvAnswer::Records)
        .map(|a| format!("{} from {}", a.detail, a.server.ip()))
        .collect();
    if targets.is_empty() {
        if let Some(dead) = dead_servers(evidence) {
            return dead;
        }
        let what = if evidence.lists_dcs {
            "no domain controller found: "
        } else {
            ""
        };
        return Judgement::fail(format!("{what}SRV {name} → {}", failing.join("; ")));
    }
    // A large domain lists hundreds: name the first few, count the rest (the JSON has all).
    let mut listing: Vec<String> = targets
        .iter()
        .take(LISTED)
        .map(|dc| match dc.address() {
            Some(address) => format!("{} ({address})", dc.hostname),
            None => format!("{} (no address)", dc.hostname),
        })
        .collect();
    if targets.len() > LISTED {
        listing.push(format!("and {} more", targets.len() - LISTED));
    }
    let unresolved: Vec<&str> = targets
        .iter()
        .filter(|dc| dc.addresses.is_empty())
        .map(|dc| dc.hostname.as_str())
        .collect();
    let unresolved_named = if unresolved.len() > LISTED {
        format!(
            "{} and {} more",
            unresolved[..LISTED].join(", "),
            unresolved.len() - LISTED
        )
    } else {
        unresolved.join(", ")
    };
    let noun = if evidence.lists_dcs { "DC" } else { "target" };
    let summary = format!(
        "{} {noun}{}: {}",
        targets.len(),
        if targets.len() == 1 { "" } else { "s" },
        listing.join(", ")
    );
    if !evidence.addresses_looked_up {
        let names: Vec<&str> = targets
            .iter()
            .take(LISTED)
            .map(|t| t.hostname.as_str())
            .collect();
        let more = targets.len().saturating_sub(LISTED);
        let more = if more > 0 {
            format!(", and {more} more")
        } else {
            String::new()
        };
        let summary = format!(
            "{} {noun}s: {}{more} (addresses not asked for so long a list)",
            targets.len(),
            names.join(", ")
        );
        return if failing.is_empty() {
            Judgement::pass(summary)
        } else {
            Judgement::warn(format!(
                "{summary}; but {}: a device using that server finds nothing",
                failing.join("; ")
            ))
        };
    }
    if unresolved.len() == targets.len() {
        Judgement::fail(format!(
            "{summary}: none of the targets has an A/AAAA record"
        ))
    } else if !failing.is_empty() {
        Judgement::warn(format!(
            "{summary}; but {}: a device using that server finds nothing",
            failing.join("; ")
        ))
    } else if !unresolved.is_empty() {
        Judgement::warn(format!(
            "{summary}; {unresolved_named} {} no address (a stale record?)",
            if unresolved.len() == 1 { "has" } else { "have" }
        ))
    } else {
        Judgement::pass(summary)
    }
}

/// When no DNS server gave a usable answer at all, the servers are the root cause, not the
/// records: name each server, its port and what it did.
fn dead_servers(evidence: &Evidence) -> Option<Judgement> {
    let broken = |a: &ServerAnswer| {
        a.reach != Reach::Open || matches!(a.result, SrvAnswer::Servfail | SrvAnswer::Refused)
    };
    if evidence.servers.is_empty() || !evidence.servers.iter().all(broken) {
        return None;
    }
    let what = |a: &ServerAnswer| match (a.reach, a.result) {
        (Reach::Open, SrvAnswer::Servfail) => {
            format!(
                "answers SERVFAIL for {} (it cannot resolve the AD zone)",
                evidence.name
            )
        }
        (Reach::Open, _) => format!(
            "answers REFUSED for {} (it does not serve this client)",
            evidence.name
        ),
        (Reach::Silent, _) => format!("does not answer ({})", a.detail),
        (Reach::Refused, _) => "refuses the query: nothing listens on its DNS port".to_string(),
        _ => format!("cannot be asked: {}", a.detail),
    };
    let finding = match evidence.servers.as_slice() {
        [one] => format!(
            "the DNS server {} {}: this device can find no domain controller through it",
            one.server,
            what(one)
        ),
        many => format!(
            "no DNS server answers usably, so this device can find no domain controller: {}",
            many.iter()
                .map(|a| format!("{} {}", a.server, what(a)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    Some(Judgement::fail(finding).with_remedy(
        "Make the DNS server answer: check that it runs and that UDP and TCP 53 are open from this network to it, or give the device a DNS server that does (DHCP option 6, or `dns_servers` in the profile). A server that answers SERVFAIL or REFUSED must serve or forward the AD zone (conditional forwarder to the DCs) and allow this network to query it.",
    ))
}

/// Targets named in a finding; the evidence lists every one.
const LISTED: usize = 10;

/// A lookup that does not list the DCs (Kerberos, kpasswd, GC records) resolves its targets only
/// up to this many: in a domain of thousands of DCs, each such list would cost its DNS server
/// thousands of queries for addresses `dc.srv` already asks.
const LOOKUPS_FOR_OTHER_LISTS: usize = 50;

/// Address lookups in flight at once per DNS server: a domain of thousands of DCs must not
/// open thousands of sockets.
const LOOKUPS_IN_FLIGHT: usize = 32;

/// A server's SRV answer and, per target, the addresses the same server gave.
type ServerResult = (Result<DnsAnswer, DnsError>, Vec<(String, Vec<IpAddr>)>);

/// One server's SRV answer with the addresses of its targets, asked of the same server right
/// after its answer, so a slow server never holds up a fast one.
async fn ask_server(
    server: SocketAddr,
    name: &str,
    look_up_at_most: usize,
    deadline: Instant,
) -> ServerResult {
    let answer = query(server, name, RecordType::SRV, deadline).await;
    let Ok(srv) = &answer else {
        return (answer, Vec::new());
    };
    if srv.srv.len() > look_up_at_most {
        return (answer, Vec::new());
    }
    let semaphore = tokio::sync::Semaphore::new(LOOKUPS_IN_FLIGHT);
    let in_flight = &semaphore;
    let lookups = srv
        .srv
        .iter()
        // "." as target means "no service here" (RFC 2782).
        .filter(|record| !record.target.is_empty() && record.target != ".")
        .map(|record| async move {
            let glue: Vec<IpAddr> = srv
                .glue
                .iter()
                .filter(|(owner, _)| *owner == record.target)
                .map(|(_, address)| *address)
                .collect();
            if !glue.is_empty() {
                return (record.target.clone(), glue);
            }
            // Closed only when the semaphore is dropped, which cannot happen while we wait.
            let _permit = in_flight.acquire().await.ok();
            // DCs have IPv4 addresses; AAAA is asked only when there is none, which halves
            // the queries a domain of thousands of DCs costs its DNS server.
            let v4: Vec<IpAddr> = query(server, &record.target, RecordType::A, deadline)
                .await
                .map(|answer| answer.addresses)
                .unwrap_or_default();
            if !v4.is_empty() {
                return (record.target.clone(), v4);
            }
            let v6 = query(server, &record.target, RecordType::AAAA, deadline)
                .await
                .map(|answer| answer.addresses)
                .unwrap_or_default();
            (record.target.clone(), v6)
        });
    let addresses = futures::future::join_all(lookups).await;
    (answer, addresses)
}

/// The union of every server's SRV targets with their addresses, in RFC 2782 order.
fn merge_targets(results: &[(SocketAddr, ServerResult)]) -> Vec<DomainController> {
    let mut by_host: BTreeMap<String, (SrvRecord, Vec<String>, Vec<IpAddr>)> = BTreeMap::new();
    for (server, (result, addresses)) in results {
        let Ok(answer) = result else { continue };
        for record in &answer.srv {
            if record.target.is_empty() || record.target == "." {
                continue;
            }
            let entry = by_host
                .entry(record.target.clone())
                .or_insert_with(|| (record.clone(), Vec::new(), Vec::new()));
            entry.1.push(server.ip().to_string());
            for (host, found) in addresses {
                if *host == record.target {
                    for address in found {
                        if !entry.2.contains(address) {
                            entry.2.push(*address);
                        }
                    }
                }
            }
        }
    }
    let records = by_host
        .into_iter()
        .map(|(hostname, (record, listed_by, addresses))| {
            (
                record.priority,
                record.weight,
                DomainController {
                    hostname,
                    port: record.port,
                    priority: record.priority,
                    weight: record.weight,
                    addresses,
                    listed_by,
                },
            )
        })
        .collect();
    rfc2782_order(records, random_pick)
}
