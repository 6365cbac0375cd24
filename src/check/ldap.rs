//! LDAP to a DC: the anonymous rootDSE and the bind the profile asks for.

use super::CheckContext;
use crate::facts::DomainController;
use crate::model::Outcome;
use crate::probe::ldap::{bind as ldap_bind, read_rootdse, BindRequest, LdapError, Transport};
use crate::profile::LdapTls;
use serde_json::json;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// msDS-Behavior-Version values as Windows Server names them.
fn functional_level(value: &str) -> String {
    let name = match value {
        "0" => "2000",
        "1" => "2003 interim",
        "2" => "2003",
        "3" => "2008",
        "4" => "2008 R2",
        "5" => "2012",
        "6" => "2012 R2",
        "7" => "2016",
        "10" => "2025",
        _ => return format!("level {value}"),
    };
    format!("{name} ({value})")
}

pub async fn rootdse(address: IpAddr, deadline: Instant) -> Outcome {
    match read_rootdse(SocketAddr::new(address, 389), deadline).await {
        Ok(rootdse) => {
            let naming_context = rootdse.first("defaultNamingContext").unwrap_or("?");
            let host = rootdse.first("dnsHostName").unwrap_or("?");
            let level = rootdse
                .first("domainFunctionality")
                .map(functional_level)
                .unwrap_or_else(|| "?".into());
            Outcome::pass(
                format!(
                    "{host} answers: {naming_context}, domain functional level {level}, {} ms",
                    rootdse.answer_ms
                ),
                serde_json::to_value(&rootdse).unwrap_or_default(),
            )
        }
        Err(error) => Outcome::fail(
            error.to_string(),
            json!({ "address": SocketAddr::new(address, 389), "error": error.to_string() }),
        ),
    }
}

fn transport_name(transport: Transport) -> &'static str {
    match transport {
        Transport::Plain => "plain LDAP",
        Transport::StartTls => "StartTLS",
        Transport::Ldaps => "LDAPS",
    }
}

pub async fn bind(
    dc: &DomainController,
    address: IpAddr,
    context: &CheckContext,
    deadline: Instant,
) -> Outcome {
    let settings = &context.settings.ldap;
    let (transport, port) = match settings.tls {
        LdapTls::Starttls => (Transport::StartTls, 389),
        LdapTls::Ldaps => (Transport::Ldaps, 636),
        LdapTls::None => (Transport::Plain, 389),
    };
    let credentials = match (&settings.bind_user, &context.password) {
        (Some(user), Some(password)) => Some((user.as_str(), password.expose())),
        (Some(user), None) => {
            return Outcome::error(format!(
                "no password for {user}: set JOINREADY_BIND_PASSWORD, `bind_password_file` in [ldap], or run on a terminal to be asked"
            ))
        }
        (None, _) => None,
    };
    let trust = match context.trust().await {
        Ok(trust) => trust,
        Err(reason) => return Outcome::error(reason),
    };
    let who = credentials.map_or_else(
        || "anonymous bind".to_string(),
        |(user, _)| format!("simple bind as {user}"),
    );
    let via = transport_name(transport);
    let request = BindRequest {
        address: SocketAddr::new(address, port),
        hostname: &dc.hostname,
        transport,
        credentials,
        trust,
    };
    match ldap_bind(request, deadline).await {
        Ok(evidence) => {
            let certificate = evidence
                .tls
                .as_ref()
                .map(|tls| format!("; {}", tls.summary()))
                .unwrap_or_default();
            Outcome::pass(
                format!(
                    "{who} over {via} succeeded ({} ms){certificate}",
                    evidence.bind_ms
                ),
                serde_json::to_value(&evidence).unwrap_or_default(),
            )
        }
        Err(error) => {
            let evidence = json!({
                "address": SocketAddr::new(address, port),
                "transport": transport,
                "user": settings.bind_user,
                "error": error.to_string(),
                "tls": match &error { LdapError::Tls(_, Some(tls)) => serde_json::to_value(tls).unwrap_or_default(), _ => serde_json::Value::Null },
                "result_code": match &error { LdapError::Result { code, .. } => json!(code), _ => serde_json::Value::Null },
            });
            Outcome::fail(explain_bind_error(&who, via, &error), evidence)
        }
    }
}

fn explain_bind_error(who: &str, via: &str, error: &LdapError) -> String {
    match error {
        LdapError::Result { code: 8, message, .. } => format!(
            "{who} over {via} refused with resultCode 8 (strongerAuthRequired): the DC requires signing or TLS for simple binds; set [ldap] tls = \"starttls\" or \"ldaps\"{}",
            server_text(message)
        ),
        LdapError::Result { code: 49, message, .. } => format!(
            "{who} over {via} refused with resultCode 49 (invalidCredentials): wrong user name or password, or the account is disabled, locked or expired{}",
            server_text(message)
        ),
        LdapError::Tls(message, Some(tls)) => format!("{via} to the DC failed: {}", tls_reason(tls, message)),
        other => format!("{who} over {via} failed: {other}"),
    }
}

fn tls_reason(tls: &crate::probe::tls::TlsEvidence, message: &str) -> String {
    if tls.problem.is_some() {
        tls.summary()
    } else {
        message.to_string()
    }
}

fn server_text(message: &str) -> String {
    let message = message.trim().trim_end_matches('\0');
    if message.is_empty() {
        String::new()
    } else {
        format!(" (server says: {message})")
    }
}
