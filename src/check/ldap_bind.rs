//! `ldap.bind`: the bind the profile asks for (anonymous, or simple over StartTLS, LDAPS or
//! plain LDAP), with the DC's certificate as evidence.

use super::context::CheckContext;
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::facts::DomainController;
use crate::model::Reach;
use crate::probe::ldap::{bind as ldap_bind, BindRequest, LdapError, Transport};
use crate::probe::tls::TlsEvidence;
use crate::profile::LdapTls;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "ldap.bind",
    fan_out: FanOut::Dc,
    needs: &[],
    can_provide: &[],
    needs_password: true,
    summary: "the bind the profile asks for: anonymous, or simple over StartTLS, LDAPS or plain",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Plain LDAP and StartTLS.
    #[serde(default = "default_ldap_port")]
    pub ldap_port: u16,
    #[serde(default = "default_ldaps_port")]
    pub ldaps_port: u16,
}

fn default_ldap_port() -> u16 {
    389
}

fn default_ldaps_port() -> u16 {
    636
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "LdapBindEvidence")]
pub struct Evidence {
    pub address: SocketAddr,
    pub transport: Transport,
    /// The account bound as; None for an anonymous bind.
    pub user: Option<String>,
    pub reach: Reach,
    pub error: Option<String>,
    /// The LDAP resultCode the DC refused the bind with, and its text.
    pub result_code: Option<u32>,
    pub server_message: Option<String>,
    pub tls: Option<TlsEvidence>,
    pub bind_ms: Option<f64>,
}

/// The transport and port the profile's `[ldap] tls` asks for.
pub fn transport(settings: LdapTls, params_ldap: u16, params_ldaps: u16) -> (Transport, u16) {
    match settings {
        LdapTls::Starttls => (Transport::StartTls, params_ldap),
        LdapTls::Ldaps => (Transport::Ldaps, params_ldaps),
        LdapTls::None => (Transport::Plain, params_ldap),
    }
}

fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Plain => "plain LDAP",
        Transport::StartTls => "StartTLS",
        Transport::Ldaps => "LDAPS",
    }
}

pub async fn observe(
    params: &Params,
    dc: &DomainController,
    address: IpAddr,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let settings = &context.settings.ldap;
    let (transport, port) = transport(settings.tls, params.ldap_port, params.ldaps_port);
    let credentials = match (&settings.bind_user, &context.password) {
        (Some(user), Some(password)) => Some((user.as_str(), password.expose())),
        (Some(user), None) => {
            return Err(NotObserved::Error(format!(
                "no password for {user}: set JOINREADY_BIND_PASSWORD, `bind_password_file` in [ldap], or run on a terminal to be asked"
            )))
        }
        (None, _) => None,
    };
    let trust = context.trust().await.map_err(NotObserved::Error)?;
    let request = BindRequest {
        address: SocketAddr::new(address, port),
        hostname: &dc.hostname,
        transport,
        credentials,
        trust,
    };
    let mut evidence = Evidence {
        address: SocketAddr::new(address, port),
        transport,
        user: settings.bind_user.clone(),
        reach: Reach::Open,
        error: None,
        result_code: None,
        server_message: None,
        tls: None,
        bind_ms: None,
    };
    match ldap_bind(request, deadline).await {
        Ok(bound) => {
            evidence.tls = bound.tls;
            evidence.bind_ms = Some(bound.bind_ms);
        }
        Err(error) => {
            evidence.reach = super::ldap_rootdse::reach_of(&error);
            evidence.error = Some(error.to_string());
            match error {
                LdapError::Result { code, message, .. } => {
                    evidence.result_code = Some(code);
                    evidence.server_message = Some(message);
                }
                LdapError::Tls(_, tls) => evidence.tls = tls,
                _ => {}
            }
        }
    }
    Ok(evidence)
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let who = evidence.user.as_deref().map_or_else(
        || "anonymous bind".to_string(),
        |user| format!("simple bind as {user}"),
    );
    let via = transport_name(evidence.transport);
    let Some(error) = &evidence.error else {
        let certificate = evidence
            .tls
            .as_ref()
            .map(|tls| format!("; {}", tls.summary()))
            .unwrap_or_default();
        return Judgement::pass(format!(
            "{who} over {via} succeeded ({} ms){certificate}",
            evidence.bind_ms.unwrap_or_default()
        ));
    };
    let server_text = server_text(evidence.server_message.as_deref().unwrap_or_default());
    Judgement::fail(match (evidence.result_code, &evidence.tls) {
        (Some(8), _) => format!(
            "{who} over {via} refused with resultCode 8 (strongerAuthRequired): the DC requires signing or TLS for simple binds; set [ldap] tls = \"starttls\" or \"ldaps\"{server_text}"
        ),
        (Some(49), _) => format!(
            "{who} over {via} refused with resultCode 49 (invalidCredentials): wrong user name or password, or the account is disabled, locked or expired{server_text}"
        ),
        (None, Some(tls)) if tls.problem.is_some() => {
            format!("{via} to the DC failed: {}", tls.summary())
        }
        (None, Some(_)) => format!(
            "{via} to the DC failed: {}",
            error.strip_prefix("TLS failed: ").unwrap_or(error)
        ),
        _ => format!("{who} over {via} failed: {error}"),
    })
}

fn server_text(message: &str) -> String {
    let message = message.trim().trim_end_matches('\0');
    if message.is_empty() {
        String::new()
    } else {
        format!(" (server says: {message})")
    }
}
