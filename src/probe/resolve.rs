//! A host name to addresses, asked of the run's DNS servers so the evidence says who answered.
//!
//! Used by the per-gateway probes: the VPN gateway's name must resolve from where the device is
//! before the tunnel exists, so every server is asked and the first one with addresses wins.

use crate::probe::dns::{query, DnsError, Rcode};
use crate::probe::tcp::millis;
use futures::stream::{FuturesUnordered, StreamExt};
use hickory_proto::rr::RecordType;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Where an address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResolvedVia {
    /// The name was an IP address.
    Literal,
    /// The run's DNS servers.
    Dns,
    /// The system resolver.
    System,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Resolved {
    pub host: String,
    pub addresses: Vec<IpAddr>,
    /// The DNS server that gave the addresses; None for an IP literal or the system resolver.
    pub server: Option<SocketAddr>,
    pub via: ResolvedVia,
    pub rtt_ms: f64,
}

impl Resolved {
    /// The address a probe connects to: IPv4 first, as Windows tries it when IPv6 has no route.
    pub fn first(&self) -> Option<IpAddr> {
        self.addresses
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| self.addresses.first())
            .copied()
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    /// Every server answered or failed, none with an address; one entry per server.
    #[error("cannot resolve {host}: {}", .answers.join("; "))]
    NoAddress { host: String, answers: Vec<String> },
    #[error("cannot resolve {host}: {reason}")]
    System { host: String, reason: String },
}

/// Resolves `host` with `servers` (each asked A and AAAA at once), or with the system resolver
/// when the run has no DNS servers. An IP literal is returned as it is.
pub async fn resolve(
    host: &str,
    servers: &Result<Vec<SocketAddr>, String>,
    deadline: Instant,
) -> Result<Resolved, ResolveError> {
    let started = Instant::now();
    let host = host.trim().trim_end_matches('.');
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(Resolved {
            host: host.to_string(),
            addresses: vec![ip],
            server: None,
            via: ResolvedVia::Literal,
            rtt_ms: 0.0,
        });
    }
    match servers {
        Ok(servers) if !servers.is_empty() => ask_servers(host, servers, deadline).await,
        _ => system(host, started, deadline).await,
    }
}

async fn ask_servers(
    host: &str,
    servers: &[SocketAddr],
    deadline: Instant,
) -> Result<Resolved, ResolveError> {
    let started = Instant::now();
    let mut pending: FuturesUnordered<_> = servers
        .iter()
        .map(|server| async move {
            let (v4, v6) = tokio::join!(
                query(*server, host, RecordType::A, deadline),
                query(*server, host, RecordType::AAAA, deadline)
            );
            (*server, v4, v6)
        })
        .collect();
    let mut answers = Vec::new();
    // Bounded: one item per server, and every query ends by the deadline.
    while let Some((server, v4, v6)) = pending.next().await {
        let addresses: Vec<IpAddr> = [&v4, &v6]
            .into_iter()
            .filter_map(|r| r.as_ref().ok())
            .flat_map(|answer| answer.addresses.iter().copied())
            .collect();
        if !addresses.is_empty() {
            return Ok(Resolved {
                host: host.to_string(),
                addresses,
                server: Some(server),
                via: ResolvedVia::Dns,
                rtt_ms: millis(started.elapsed()),
            });
        }
        answers.push(format!("{} from {}", describe(&v4), server.ip()));
    }
    Err(ResolveError::NoAddress {
        host: host.to_string(),
        answers,
    })
}

/// The A answer in the words of dc.srv's findings (NXDOMAIN, no data, no answer within …).
fn describe(result: &Result<crate::probe::dns::DnsAnswer, DnsError>) -> String {
    match result {
        Ok(answer) => match answer.rcode {
            Rcode::NoError => "no address (no data)".to_string(),
            other => other.label(),
        },
        Err(error) => error.to_string(),
    }
}

async fn system(host: &str, started: Instant, deadline: Instant) -> Result<Resolved, ResolveError> {
    let wait = deadline.saturating_duration_since(started);
    let fail = |reason: String| ResolveError::System {
        host: host.to_string(),
        reason,
    };
    let found = tokio::time::timeout(wait, tokio::net::lookup_host((host, 0)))
        .await
        .map_err(|_| {
            fail(format!(
                "the system resolver gave no answer within {wait:?}"
            ))
        })?
        .map_err(|e| fail(e.to_string()))?;
    let mut addresses: Vec<IpAddr> = Vec::new();
    for address in found.map(|a| a.ip()) {
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    if addresses.is_empty() {
        return Err(fail("the system resolver returned no address".to_string()));
    }
    Ok(Resolved {
        host: host.to_string(),
        addresses,
        server: None,
        via: ResolvedVia::System,
        rtt_ms: millis(started.elapsed()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn ip_literals_need_no_lookup() {
        let deadline = Instant::now() + Duration::from_millis(10);
        let none: Result<Vec<SocketAddr>, String> = Err("no servers".into());
        let v4 = resolve("192.0.2.7", &none, deadline).await.unwrap();
        assert_eq!(v4.addresses, vec!["192.0.2.7".parse::<IpAddr>().unwrap()]);
        assert_eq!(v4.via, ResolvedVia::Literal);
        let v6 = resolve("[2001:db8::1]", &none, deadline).await.unwrap();
        assert_eq!(v6.first(), Some("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn ipv4_is_preferred() {
        let resolved = Resolved {
            host: "vpn".into(),
            addresses: vec!["2001:db8::1".parse().unwrap(), "192.0.2.1".parse().unwrap()],
            server: None,
            via: ResolvedVia::Dns,
            rtt_ms: 1.0,
        };
        assert_eq!(resolved.first(), Some("192.0.2.1".parse().unwrap()));
    }
}
