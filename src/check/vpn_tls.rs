//! `vpn.tls`: an SSL VPN portal. TCP, the TLS handshake and the HTTP status of its page; a
//! certificate close to expiry is a warning.

use super::context::CheckContext;
use super::gateway::{address_of, named};
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::model::Reach;
use crate::probe::portal::{
    probe as portal_probe, Phase, PortalError, PortalEvidence, PortalRequest,
};
use crate::probe::resolve::Resolved;
use crate::probe::tls::{CertificateProblem, TlsEvidence};
use crate::profile::VpnGateway;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "vpn.tls",
    fan_out: FanOut::VpnGateway,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "TCP, the TLS handshake and the HTTP status of an SSL VPN portal",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Used when the gateway names no port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// The path of the portal page requested after the handshake.
    #[serde(default = "default_path")]
    pub path: String,
    /// A certificate that expires in fewer days is a warning: renewal is due.
    #[serde(default = "default_certificate_warn_days")]
    pub certificate_warn_days: i64,
}

fn default_port() -> u16 {
    443
}

fn default_path() -> String {
    "/".to_string()
}

fn default_certificate_warn_days() -> i64 {
    14
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "VpnTlsEvidence")]
pub struct Evidence {
    pub gateway: String,
    pub port: u16,
    pub resolved: Option<Resolved>,
    pub address: Option<SocketAddr>,
    pub reach: Reach,
    pub error: Option<String>,
    /// The phase that failed.
    pub phase: Option<Phase>,
    /// The certificate chain, also when the handshake failed over it.
    pub tls: Option<TlsEvidence>,
    /// What the portal answered.
    pub portal: Option<PortalEvidence>,
}

pub async fn observe(
    params: &Params,
    gateway: &VpnGateway,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let port = gateway.port.unwrap_or(params.port);
    let mut evidence = Evidence {
        gateway: gateway.host.clone(),
        port,
        resolved: None,
        address: None,
        reach: Reach::Unreachable,
        error: None,
        phase: None,
        tls: None,
        portal: None,
    };
    let (resolved, address) = match address_of(gateway, port, context, deadline).await {
        Ok(found) => found,
        Err(why) => {
            evidence.error = Some(why);
            return Ok(evidence);
        }
    };
    evidence.resolved = Some(resolved);
    evidence.address = Some(address);
    let trust = context.trust().await.map_err(NotObserved::Error)?;
    let request = PortalRequest {
        address,
        host: &gateway.host,
        path: &params.path,
        trust,
    };
    match portal_probe(request, deadline).await {
        Ok(portal) => {
            evidence.reach = Reach::Open;
            evidence.tls = portal.tls.clone();
            evidence.portal = Some(portal);
        }
        Err(error) => {
            evidence.reach = match &error {
                PortalError::Connect { source, .. } => super::tcp::reach_of(source),
                PortalError::Silent { .. } => Reach::Silent,
                PortalError::NotHttp(_) => Reach::Malformed,
                PortalError::Io { .. } => Reach::Unreachable,
                PortalError::Tls { .. } | PortalError::Trust(_) => Reach::Open,
            };
            evidence.phase = Some(error.phase());
            evidence.error = Some(error.to_string());
            if let PortalError::Tls {
                evidence: Some(tls),
                ..
            } = error
            {
                evidence.tls = Some(*tls);
            }
        }
    }
    Ok(evidence)
}

pub fn judge(params: &Params, evidence: &Evidence) -> Judgement {
    let port = evidence.port;
    let error = evidence.error.as_deref().unwrap_or("no answer");
    let Some(address) = evidence.address else {
        return Judgement::fail(error);
    };
    let who = named(&evidence.gateway, address);
    let Some(portal) = &evidence.portal else {
        return Judgement::fail(match (&evidence.tls, evidence.phase) {
            (Some(tls), _) if tls.problem.is_some() => format!(
                "TLS to the portal on {who} port {port} failed: {}",
                certificate_problem(tls, &evidence.gateway)
            ),
            (_, Some(Phase::Connect)) => format!("portal on {who}: {error}"),
            _ => format!("portal on {who} port {port}: {error}"),
        });
    };
    let certificate = portal
        .tls
        .as_ref()
        .map(|tls| format!("; {}", tls.summary()))
        .unwrap_or_default();
    let status = portal.status;
    let head = format!(
        "portal {} ({}) answered HTTP {status} (TLS {} ms){certificate}",
        portal.url,
        portal.address.ip(),
        portal.tls_ms
    );
    let days_left = portal
        .tls
        .as_ref()
        .and_then(|tls| tls.chain.first())
        .map(|leaf| leaf.days_left);
    // Portals redirect to a sign-in page or ask for credentials; both prove it serves.
    let serves = (200..400).contains(&status) || status == 401 || status == 403;
    match days_left {
        _ if !serves => Judgement::warn(format!(
            "{head}: the gateway answers TLS but its portal reports an error"
        )),
        Some(days) if days < params.certificate_warn_days => Judgement::warn(format!(
            "{head}: the certificate expires in {days} days, renew it"
        )),
        _ => Judgement::pass(head),
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
