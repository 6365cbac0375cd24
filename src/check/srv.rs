//! SRV records asked of every DNS server separately; the check that provides the DC list.

use super::{expand, CheckContext, CheckOutput};
use crate::catalog::DnsSrvParams;
use crate::facts::DomainController;
use crate::model::Outcome;
use crate::probe::dns::{query, DnsAnswer, DnsError, Rcode, SrvRecord};
use crate::probe::tcp::millis;
use crate::srv_order::{random_pick, rfc2782_order};
use hickory_proto::rr::RecordType;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// What one server said, as evidence.
#[derive(Debug, Clone, Serialize)]
struct ServerAnswer {
    server: SocketAddr,
    /// "records", "no_data", "nxdomain", "servfail", "refused", "rcode", "timeout", "error".
    result: &'static str,
    detail: String,
    rtt_ms: Option<f64>,
    authoritative: Option<bool>,
    over_tcp: Option<bool>,
    records: Vec<SrvRecord>,
}

impl ServerAnswer {
    fn from_result(server: SocketAddr, result: &Result<DnsAnswer, DnsError>) -> ServerAnswer {
        match result {
            Ok(answer) => {
                let records: Vec<SrvRecord> = answer.srv.clone();
                let (result, detail) = match answer.rcode {
                    Rcode::NoError if !records.is_empty() => {
                        ("records", format!("{} records", records.len()))
                    }
                    Rcode::NoError => (
                        "no_data",
                        "no data (the name exists without SRV records)".to_string(),
                    ),
                    Rcode::NxDomain => ("nxdomain", "NXDOMAIN".to_string()),
                    Rcode::ServFail => ("servfail", "SERVFAIL".to_string()),
                    Rcode::Refused => ("refused", "REFUSED".to_string()),
                    other => ("rcode", other.label()),
                };
                ServerAnswer {
                    server,
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
                result: if matches!(error, DnsError::Timeout(_)) {
                    "timeout"
                } else {
                    "error"
                },
                detail: error.to_string(),
                rtt_ms: None,
                authoritative: None,
                over_tcp: None,
                records: Vec::new(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct SrvEvidence<'a> {
    name: &'a str,
    servers: Vec<ServerAnswer>,
    targets: &'a [DomainController],
}

pub async fn run(
    params: &DnsSrvParams,
    provides_dcs: bool,
    context: &CheckContext,
    deadline: Instant,
) -> CheckOutput {
    let Some(name) = expand(&params.name, &context.settings) else {
        return Outcome::skip("no site expected: set `site = \"<site name>\"` in the profile to check the site's records").into();
    };
    let servers = match &context.dns_servers {
        Ok(servers) => servers.clone(),
        Err(reason) => return Outcome::error(reason.clone()).into(),
    };
    let results = futures::future::join_all(servers.iter().map(|server| {
        let name = &name;
        async move { (*server, ask_server(*server, name, deadline).await) }
    }))
    .await;
    let answers: Vec<ServerAnswer> = results
        .iter()
        .map(|(server, (result, _))| ServerAnswer::from_result(*server, result))
        .collect();
    let targets = merge_targets(&results);

    let evidence = |targets: &[DomainController]| {
        serde_json::to_value(SrvEvidence {
            name: &name,
            servers: answers.clone(),
            targets,
        })
        .unwrap_or_default()
    };
    let failing: Vec<String> = answers
        .iter()
        .filter(|a| a.result != "records")
        .map(|a| format!("{} from {}", a.detail, a.server.ip()))
        .collect();

    if targets.is_empty() {
        let what = if provides_dcs {
            "no domain controller found: "
        } else {
            ""
        };
        return Outcome::fail(
            format!("{what}SRV {name} → {}", failing.join("; ")),
            evidence(&[]),
        )
        .into();
    }
    let listing: Vec<String> = targets
        .iter()
        .map(|dc| match dc.address() {
            Some(address) => format!("{} ({address})", dc.hostname),
            None => format!("{} (no address)", dc.hostname),
        })
        .collect();
    let unresolved: Vec<&str> = targets
        .iter()
        .filter(|dc| dc.addresses.is_empty())
        .map(|dc| dc.hostname.as_str())
        .collect();
    let noun = if provides_dcs { "DC" } else { "target" };
    let summary = format!(
        "{} {noun}{}: {}",
        targets.len(),
        if targets.len() == 1 { "" } else { "s" },
        listing.join(", ")
    );
    let value = evidence(&targets);
    let dcs = provides_dcs.then(|| targets.clone());
    let outcome = if unresolved.len() == targets.len() {
        Outcome::fail(
            format!("{summary}: none of the targets has an A/AAAA record"),
            value,
        )
    } else if !failing.is_empty() {
        Outcome::warn(
            format!(
                "{summary}; but {}: a device using that server finds nothing",
                failing.join("; ")
            ),
            value,
        )
    } else if !unresolved.is_empty() {
        Outcome::warn(
            format!(
                "{summary}; {} has no address (a stale record?)",
                unresolved.join(", ")
            ),
            value,
        )
    } else {
        Outcome::pass(summary, value)
    };
    CheckOutput {
        outcome,
        dcs,
        chosen_dc: None,
    }
}

/// A server's SRV answer and, per target, the addresses the same server gave.
type ServerResult = (Result<DnsAnswer, DnsError>, Vec<(String, Vec<IpAddr>)>);

/// One server's SRV answer with the addresses of its targets, asked of the same server right
/// after its answer, so a slow server never holds up a fast one.
async fn ask_server(server: SocketAddr, name: &str, deadline: Instant) -> ServerResult {
    let answer = query(server, name, RecordType::SRV, deadline).await;
    let Ok(srv) = &answer else {
        return (answer, Vec::new());
    };
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
            let (v4, v6) = tokio::join!(
                query(server, &record.target, RecordType::A, deadline),
                query(server, &record.target, RecordType::AAAA, deadline)
            );
            let addresses = [v4, v6]
                .into_iter()
                .filter_map(Result::ok)
                .flat_map(|answer| answer.addresses)
                .collect();
            (record.target.clone(), addresses)
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
