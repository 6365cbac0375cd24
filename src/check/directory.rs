//! Directory questions for the chosen DC, asked as the profile's account (the Intune
//! Connector's): does the Domain Join profile's OU exist, may the account create computer
//! objects there, what is the machine account quota, and is the Device Registration service
//! connection point there with the tenant's keywords.

use super::CheckContext;
use crate::catalog::DirectoryQuestion;
use crate::facts::Facts;
use crate::model::Outcome;
use crate::probe::ldap::{bind_session, read_entry, BindRequest, LdapError, Transport};
use crate::profile::LdapTls;
use serde_json::json;
use std::net::SocketAddr;
use std::time::Instant;

/// The Device Registration Service's SCP, fixed by Microsoft (entra-docs
/// device-registration-how-it-works).
const SCP_RDN: &str =
    "CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration Configuration,CN=Services";

pub async fn run(
    question: DirectoryQuestion,
    facts: &Facts,
    context: &CheckContext,
    deadline: Instant,
) -> Outcome {
    let settings = &context.settings;
    let Some(dc) = &facts.chosen_dc else {
        return Outcome::skip("no DC was chosen by the DC locator");
    };
    let (Some(user), Some(password)) = (&settings.ldap.bind_user, &context.password) else {
        return Outcome::skip(
            "needs [ldap] bind_user (the Intune Connector's account) and its password to read the directory",
        );
    };
    let needs_ou = matches!(
        question,
        DirectoryQuestion::OuExists | DirectoryQuestion::OuCreateComputer
    );
    if needs_ou && settings.ou.is_none() {
        return Outcome::skip(
            "no OU in the profile: set `ou = \"OU=...,DC=...\"` as in the Domain Join profile",
        );
    }
    let Some(address) = dc.address() else {
        return Outcome::skip(format!("DNS gave no address for {}", dc.hostname));
    };
    let trust = match context.trust().await {
        Ok(trust) => trust,
        Err(reason) => return Outcome::error(reason),
    };
    let (transport, port) = match settings.ldap.tls {
        LdapTls::Starttls => (Transport::StartTls, 389),
        LdapTls::Ldaps => (Transport::Ldaps, 636),
        LdapTls::None => (Transport::Plain, 389),
    };
    let request = BindRequest {
        address: SocketAddr::new(address, port),
        hostname: &dc.hostname,
        transport,
        credentials: Some((user.as_str(), password.expose())),
        trust,
    };
    let on = &dc.hostname;
    let (mut ldap, _) = match bind_session(request, deadline).await {
        Ok(session) => session,
        Err(error) => {
            return Outcome::fail(
                format!("cannot read the directory on {on} as {user}: {error}"),
                json!({ "dc": on, "error": error.to_string() }),
            )
        }
    };
    let result = ask(question, &mut ldap, port, context, deadline, user, on).await;
    let _ = ldap.unbind().await;
    match result {
        Ok(outcome) => outcome,
        Err(error) => Outcome::fail(
            format!("reading the directory on {on} failed: {error}"),
            json!({ "dc": on, "error": error.to_string() }),
        ),
    }
}

async fn ask(
    question: DirectoryQuestion,
    ldap: &mut ldap3::Ldap,
    port: u16,
    context: &CheckContext,
    deadline: Instant,
    user: &str,
    on: &str,
) -> Result<Outcome, LdapError> {
    let settings = &context.settings;
    let ou = settings.ou.clone().unwrap_or_default();
    let first = |entry: &std::collections::HashMap<String, Vec<String>>, name: &str| {
        entry
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, values)| values.clone())
            .unwrap_or_default()
    };
    Ok(match question {
        DirectoryQuestion::OuExists => match read_entry(ldap, &ou, &["objectClass"], port, deadline).await? {
            Some(_) => Outcome::pass(format!("{ou} exists (read on {on})"), json!({ "dc": on, "ou": ou })),
            None => Outcome::fail(
                format!("{ou} does not exist (read on {on} as {user}): the Intune Connector cannot create the computer object there"),
                json!({ "dc": on, "ou": ou }),
            ),
        },
        DirectoryQuestion::OuCreateComputer => {
            match read_entry(ldap, &ou, &["allowedChildClassesEffective"], port, deadline).await? {
                None => Outcome::fail(format!("{ou} does not exist (read on {on})"), json!({ "dc": on, "ou": ou })),
                Some(entry) => {
                    let classes = first(&entry, "allowedChildClassesEffective");
                    let evidence = json!({ "dc": on, "ou": ou, "user": user, "allowed_child_classes_effective": classes });
                    if classes.iter().any(|c| c.eq_ignore_ascii_case("computer")) {
                        Outcome::pass(format!("{user} may create computer objects in {ou}"), evidence)
                    } else {
                        Outcome::fail(
                            format!("{user} may not create computer objects in {ou}: the hybrid join's computer object cannot be created"),
                            evidence,
                        )
                    }
                }
            }
        }
        DirectoryQuestion::MachineAccountQuota => {
            let root = read_entry(ldap, "", &["defaultNamingContext"], port, deadline).await?.unwrap_or_default();
            let head = first(&root, "defaultNamingContext").into_iter().next().unwrap_or_default();
            let entry = read_entry(ldap, &head, &["ms-DS-MachineAccountQuota"], port, deadline).await?.unwrap_or_default();
            let quota = first(&entry, "ms-DS-MachineAccountQuota").into_iter().next();
            let evidence = json!({ "dc": on, "domain_head": head, "ms_ds_machine_account_quota": quota });
            match quota.as_deref() {
                Some("0") => Outcome::pass(
                    "ms-DS-MachineAccountQuota is 0: only accounts with delegated rights on the OU can join computers (fine for the Intune Connector)",
                    evidence,
                ),
                Some(value) => Outcome::pass(
                    format!("ms-DS-MachineAccountQuota is {value}{}", if value == "10" { " (the default)" } else { "" }),
                    evidence,
                ),
                None => Outcome::warn(format!("ms-DS-MachineAccountQuota is not readable by {user} on {head}"), evidence),
            }
        }
        DirectoryQuestion::RegistrationScp => {
            let root = read_entry(ldap, "", &["configurationNamingContext"], port, deadline).await?.unwrap_or_default();
            let config = first(&root, "configurationNamingContext").into_iter().next().unwrap_or_default();
            let dn = format!("{SCP_RDN},{config}");
            match read_entry(ldap, &dn, &["keywords"], port, deadline).await? {
                None => Outcome::fail(
                    format!("no Device Registration service connection point ({dn}): devices cannot find the Entra tenant; configure hybrid join in Microsoft Entra Connect"),
                    json!({ "dc": on, "dn": dn }),
                ),
                Some(entry) => {
                    let keywords = first(&entry, "keywords");
                    let value = |prefix: &str| {
                        keywords.iter().find_map(|k| {
                            k.split_once(':')
                                .filter(|(key, _)| key.eq_ignore_ascii_case(prefix))
                                .map(|(_, v)| v.trim().to_string())
                        })
                    };
                    let (name, id) = (value("azureADName"), value("azureADId"));
                    let evidence = json!({ "dc": on, "dn": dn, "keywords": keywords, "azure_ad_name": name, "azure_ad_id": id });
                    match (&name, &id, &settings.tenant) {
                        (None, _, _) | (_, None, _) => Outcome::fail(
                            format!("the registration SCP lacks {}: re-run the hybrid join configuration in Microsoft Entra Connect", if name.is_none() { "azureADName" } else { "azureADId" }),
                            evidence,
                        ),
                        (Some(name), _, Some(tenant)) if !name.eq_ignore_ascii_case(tenant) => Outcome::fail(
                            format!("the registration SCP names tenant {name}, the profile expects {tenant}: devices would register in the wrong tenant"),
                            evidence,
                        ),
                        (Some(name), Some(id), _) => Outcome::pass(format!("the registration SCP names tenant {name} ({id})"), evidence),
                    }
                }
            }
        }
    })
}
