//! VPN gateways (the vpn scenario): the gateway the user starts the tunnel to from the sign-in
//! screen must resolve and answer from where the device is, before any DC is reachable.

use super::CheckContext;
use crate::catalog::{IkeParams, VpnTcpParams, VpnTlsParams};
use crate::model::Outcome;
use crate::probe::ike::{probe as ike_probe, IkeAnswer, IkeProbeError};
use crate::probe::portal::{probe as portal_probe, PortalError, PortalEvidence, PortalRequest};
use crate::probe::resolve::{resolve, Resolved};
use crate::probe::tcp::{connect, ConnectError};
use crate::probe::tls::{CertificateProblem, TlsEvidence};
use crate::profile::VpnGateway;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Instant;

/// A portal certificate that expires sooner than this is a warning: renewal is due.
const CERT_WARN_DAYS: i64 = 14;

/// The gateway's address, or the failed check that says why there is none.
async fn address_of(
    gateway: &VpnGateway,
    port: u16,
    context: &CheckContext,
    deadline: Instant,
) -> Result<(Resolved, SocketAddr), Outcome> {
    let resolved = resolve(&gateway.host, &context.dns_servers, deadline)
        .await
        .map_err(|error| {
            Outcome::fail(
                format!("{error}: the device cannot find the VPN gateway"),
                json!({ "gateway": gateway.host, "port": port, "state": "unresolved", "error": error.to_string() }),
            )
        })?;
    let Some(ip) = resolved.first() else {
        return Err(Outcome::fail(
            format!("{} resolved to no address", gateway.host),
            json!({ "gateway": gateway.host, "port": port, "state": "unresolved", "resolved": resolved }),
        ));
    };
    Ok((resolved, SocketAddr::new(ip, port)))
}

/// "vpn.corp.example (10.0.0.20)", or just the address when the profile gave one.
fn named(gateway: &VpnGateway, address: SocketAddr) -> String {
    let ip = address.ip().to_string();
    if gateway.host.trim_matches(['[', ']']) == ip {
        ip
    } else {
        format!("{} ({ip})", gateway.host)
    }
}

pub async fn ike(
    params: &IkeParams,
    gateway: &VpnGateway,
    context: &CheckContext,
    deadline: Instant,
) -> Outcome {
    // `[[vpn]] port` moves IKE itself; NAT-T keeps its own port, as the check names it.
    let port = if params.nat_t {
        params.port
    } else {
        gateway.port.unwrap_or(params.port)
    };
    let (resolved, address) = match address_of(gateway, port, context, deadline).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let who = named(gateway, address);
    let via = if params.nat_t {
        format!("UDP {port} (NAT-T)")
    } else {
        format!("UDP {port}")
    };
    match ike_probe(address, params.nat_t, deadline).await {
        Ok(evidence) => {
            let value = json!({
                "gateway": gateway.host,
                "resolved": resolved,
                "state": "answered",
                "ike": evidence,
            });
            let retried = if evidence.sent > 1 {
                format!(" after {} requests", evidence.sent)
            } else {
                String::new()
            };
            let head = format!(
                "IKEv2 responder on {via} of {who} answered in {} ms{retried}",
                evidence.rtt_ms
            );
            match &evidence.answer {
                IkeAnswer::Accepted { .. } | IkeAnswer::Cookie | IkeAnswer::InvalidKe { .. } => {
                    Outcome::pass(format!("{head}: {}", evidence.answer), value)
                }
                IkeAnswer::Malformed { .. } => Outcome::pass(
                    format!("{head} (alive: it echoed our SPI): {}", evidence.answer),
                    value,
                ),
                IkeAnswer::NoProposalChosen => Outcome::warn(
                    format!(
                        "{head} NO_PROPOSAL_CHOSEN: it is alive but accepts none of AES-CBC/AES-GCM with SHA-2 and ECP-256; make the client's IPsec settings match the gateway's"
                    ),
                    value,
                ),
                IkeAnswer::OtherNotify { .. } | IkeAnswer::MissingSa => Outcome::warn(
                    format!("{head} (alive) with {}", evidence.answer),
                    value,
                ),
            }
        }
        Err(error) => {
            let state = match &error {
                IkeProbeError::Refused { .. } => "refused",
                IkeProbeError::Silent { .. } => "silent",
                IkeProbeError::Strays { .. } => "not_ike",
                IkeProbeError::Io { .. } => "unreachable",
                IkeProbeError::Build(_) => "error",
            };
            let value = json!({
                "gateway": gateway.host,
                "resolved": resolved,
                "address": address,
                "nat_t": params.nat_t,
                "state": state,
                "error": error.to_string(),
            });
            let finding = match &error {
                IkeProbeError::Refused { .. } => format!(
                    "{via} on {who} refused (ICMP port unreachable): the host is up but no IKE service listens there"
                ),
                IkeProbeError::Silent { ignored: 0, .. } => format!(
                    "{via} on {who}: {error}: a firewall drops UDP {port} or the gateway is down"
                ),
                // Datagrams came back, none an IKE reply to us: not silence.
                IkeProbeError::Silent { .. } => format!(
                    "{via} on {who}: {error}: something answers on UDP {port}, but not as an IKEv2 responder"
                ),
                IkeProbeError::Build(_) => return Outcome::error(error.to_string()),
                _ => format!("{via} on {who}: {error}"),
            };
            Outcome::fail(finding, value)
        }
    }
}

pub async fn tls(
    params: &VpnTlsParams,
    gateway: &VpnGateway,
    context: &CheckContext,
    deadline: Instant,
) -> Outcome {
    let port = gateway.port.unwrap_or(params.port);
    let (resolved, address) = match address_of(gateway, port, context, deadline).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let who = named(gateway, address);
    let trust = match context.trust().await {
        Ok(trust) => trust,
        Err(reason) => return Outcome::error(reason),
    };
    let request = PortalRequest {
        address,
        host: &gateway.host,
        path: &params.path,
        trust,
    };
    match portal_probe(request, deadline).await {
        Ok(evidence) => portal_outcome(&gateway.host, &resolved, evidence),
        Err(error) => {
            let tls = match &error {
                PortalError::Tls { evidence, .. } => evidence.as_deref(),
                _ => None,
            };
            let value = json!({
                "gateway": gateway.host,
                "resolved": resolved,
                "address": address,
                "phase": error.phase(),
                "error": error.to_string(),
                "tls": tls,
            });
            let finding = match (&error, tls) {
                (_, Some(tls)) if tls.problem.is_some() => format!(
                    "TLS to the portal on {who} port {port} failed: {}",
                    certificate_problem(tls, &gateway.host)
                ),
                (PortalError::Connect { .. }, _) => format!("portal on {who}: {error}"),
                _ => format!("portal on {who} port {port}: {error}"),
            };
            Outcome::fail(finding, value)
        }
    }
}

fn portal_outcome(host: &str, resolved: &Resolved, evidence: PortalEvidence) -> Outcome {
    let certificate = evidence
        .tls
        .as_ref()
        .map(|tls| format!("; {}", tls.summary()))
        .unwrap_or_default();
    let status = evidence.status;
    let head = format!(
        "portal {} ({}) answered HTTP {status} (TLS {} ms){certificate}",
        evidence.url,
        evidence.address.ip(),
        evidence.tls_ms
    );
    let days_left = evidence
        .tls
        .as_ref()
        .and_then(|tls| tls.chain.first())
        .map(|leaf| leaf.days_left);
    let value = json!({
        "gateway": host,
        "resolved": resolved,
        "state": "answered",
        "portal": evidence,
    });
    // Portals redirect to a sign-in page or ask for credentials; both prove it serves.
    let serves = (200..400).contains(&status) || status == 401 || status == 403;
    match days_left {
        _ if !serves => Outcome::warn(
            format!("{head}: the gateway answers TLS but its portal reports an error"),
            value,
        ),
        Some(days) if days < CERT_WARN_DAYS => Outcome::warn(
            format!("{head}: the certificate expires in {days} days, renew it"),
            value,
        ),
        _ => Outcome::pass(head, value),
    }
}

/// TlsEvidence::summary speaks of DCs for a name mismatch; say it for the gateway.
fn certificate_problem(tls: &TlsEvidence, host: &str) -> String {
    match tls.problem {
        Some(CertificateProblem::NameMismatch) => format!(
            "the certificate is for {} but the gateway was reached as {host}",
            tls.chain
                .first()
                .map(|leaf| leaf.subject_alt_names.join(", "))
                .unwrap_or_default()
        ),
        _ => tls.summary(),
    }
}

pub async fn tcp(
    _params: &VpnTcpParams,
    gateway: &VpnGateway,
    context: &CheckContext,
    deadline: Instant,
) -> Outcome {
    let Some(port) = gateway.port else {
        return Outcome::error(format!(
            "[[vpn]] {} of kind \"tcp\" has no port: add `port = 1194` (the gateway's TCP port) to that [[vpn]] entry",
            gateway.host
        ));
    };
    let (resolved, address) = match address_of(gateway, port, context, deadline).await {
        Ok(found) => found,
        Err(outcome) => return outcome,
    };
    let who = named(gateway, address);
    match connect(address, deadline).await {
        Ok((_, connected)) => Outcome::pass(
            format!("TCP {port} open on {who} ({} ms)", connected.connect_ms),
            json!({ "gateway": gateway.host, "resolved": resolved, "address": address, "state": "open", "connect_ms": connected.connect_ms }),
        ),
        Err(error) => {
            let state = match error {
                ConnectError::Refused => "refused",
                ConnectError::Silent(_) => "filtered",
                ConnectError::Unreachable(_) => "unreachable",
            };
            Outcome::fail(
                format!("TCP {port} on {who} {error}: the VPN client cannot reach the gateway"),
                json!({ "gateway": gateway.host, "resolved": resolved, "address": address, "state": state, "error": error.to_string() }),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{LoadedProfile, Overrides, Settings, VpnKind};
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    fn context() -> CheckContext {
        let profile =
            LoadedProfile::parse(Path::new("p.toml"), "domain = \"corp.example\"\n".into())
                .unwrap();
        let settings = Settings::resolve(Some(&profile), &Overrides::default(), || None).unwrap();
        CheckContext::new(Arc::new(settings), Err("no DNS servers".into()), None)
    }

    fn gateway(host: &str, kind: VpnKind, port: Option<u16>) -> VpnGateway {
        VpnGateway {
            host: host.into(),
            kind,
            port,
        }
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_millis(1500)
    }

    #[tokio::test]
    async fn a_tcp_gateway_without_port_is_an_error_that_says_what_to_write() {
        let outcome = tcp(
            &VpnTcpParams {},
            &gateway("vpn.example", VpnKind::Tcp, None),
            &context(),
            soon(),
        )
        .await;
        assert_eq!(outcome.status, crate::model::Status::Error);
        assert!(
            outcome.finding.contains("add `port = 1194`"),
            "{}",
            outcome.finding
        );
    }

    #[tokio::test]
    async fn no_proposal_chosen_is_alive_but_a_warning() {
        // Loopback only: a responder that turns down every proposal.
        let responder = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = responder.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut buffer = [0u8; 2048];
            let (_, peer) = responder.recv_from(&mut buffer).await.unwrap();
            let mut reply = buffer[..8].to_vec();
            reply.extend_from_slice(&[0; 8]);
            reply.extend_from_slice(&[41, 0x20, 34, 0x20, 0, 0, 0, 0, 0, 0, 0, 36]);
            reply.extend_from_slice(&[0, 0, 0, 8, 0, 0, 0, 14]);
            responder.send_to(&reply, peer).await.unwrap();
        });
        let params = IkeParams {
            port: 500,
            nat_t: false,
        };
        let outcome = ike(
            &params,
            &gateway("127.0.0.1", VpnKind::Ikev2, Some(port)),
            &context(),
            soon(),
        )
        .await;
        assert_eq!(
            outcome.status,
            crate::model::Status::Warn,
            "{}",
            outcome.finding
        );
        assert!(
            outcome.finding.contains("NO_PROPOSAL_CHOSEN"),
            "{}",
            outcome.finding
        );
        assert_eq!(
            outcome.evidence["ike"]["answer"]["kind"],
            "no_proposal_chosen"
        );
    }

    #[tokio::test]
    async fn a_closed_port_fails_as_refused() {
        let free = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let params = IkeParams {
            port: 500,
            nat_t: false,
        };
        let outcome = ike(
            &params,
            &gateway("127.0.0.1", VpnKind::Ikev2, Some(port)),
            &context(),
            soon(),
        )
        .await;
        assert_eq!(outcome.status, crate::model::Status::Fail);
        assert!(
            outcome
                .finding
                .starts_with(&format!("UDP {port} on 127.0.0.1 refused")),
            "{}",
            outcome.finding
        );
        assert_eq!(outcome.evidence["state"], "refused");
    }
}
