//! `ldap.directory`: directory questions for the chosen DC, asked as the profile's account (the
//! Intune Connector's). Does the Domain Join profile's OU exist, may the account create computer
//! objects there, what is the machine account quota, and is the Device Registration service
//! connection point there with the tenant's keywords.

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use crate::probe::ldap::{bind_session, read_entry, BindRequest, LdapError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "ldap.directory",
    fan_out: FanOut::Once,
    needs: &[Fact::ChosenDc],
    can_provide: &[Fact::RegistrationScp],
    needs_password: true,
    summary: "an authenticated LDAP read on the chosen DC (OU, rights, quota, registration SCP)",
};

/// The Device Registration Service's SCP, fixed by Microsoft (entra-docs
/// device-registration-how-it-works).
const SCP_RDN: &str =
    "CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration Configuration,CN=Services";

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub question: Question,
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

/// Which directory question a check asks of the chosen DC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "DirectoryQuestion")]
pub enum Question {
    /// The Domain Join profile's OU exists.
    OuExists,
    /// The bound account may create computer objects in the OU.
    OuCreateComputer,
    /// ms-DS-MachineAccountQuota on the domain head.
    MachineAccountQuota,
    /// The Device Registration service connection point and its tenant keywords.
    RegistrationScp,
}

/// Where reading the directory stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "DirectoryStage")]
pub enum Stage {
    Bind,
    Read,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "DirectoryEvidence")]
pub struct Evidence {
    pub question: Question,
    /// The DC asked, and the account it was asked as.
    pub dc: String,
    pub user: String,
    /// Where it failed, and why; None when the question was answered.
    pub failed_at: Option<Stage>,
    pub error: Option<String>,
    pub ou: Option<String>,
    /// Whether the entry asked about exists (the OU, or the SCP).
    pub exists: Option<bool>,
    pub allowed_child_classes_effective: Option<Vec<String>>,
    pub domain_head: Option<String>,
    pub ms_ds_machine_account_quota: Option<String>,
    pub dn: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub azure_ad_name: Option<String>,
    pub azure_ad_id: Option<String>,
    /// The tenant the profile expects.
    pub tenant: Option<String>,
}

pub async fn observe(
    params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let settings = &context.settings;
    let Some(dc) = &inputs.chosen_dc else {
        return Err(NotObserved::Skip(
            "no DC was chosen by the DC locator".to_string(),
        ));
    };
    let (Some(user), Some(password)) = (&settings.ldap.bind_user, &context.password) else {
        return Err(NotObserved::Skip(
            "needs [ldap] bind_user (the Intune Connector's account) and its password to read the directory".to_string(),
        ));
    };
    // With [connector], the connector's rights come from the OU's ACL (ldap.connector_rights):
    // the bind account only reads, and its own rights are nobody's problem.
    if params.question == Question::OuCreateComputer && settings.connector.is_some() {
        return Err(NotObserved::Skip(
            "the profile names [connector]: ldap.connector_rights reads the connector's rights from the OU's ACL, the bind account only reads".to_string(),
        ));
    }
    let needs_ou = matches!(
        params.question,
        Question::OuExists | Question::OuCreateComputer
    );
    if needs_ou && settings.ou.is_none() {
        return Err(NotObserved::Skip(
            "no OU in the profile: set `ou = \"OU=...,DC=...\"` as in the Domain Join profile"
                .to_string(),
        ));
    }
    let Some(address) = dc.address() else {
        return Err(NotObserved::Skip(format!(
            "DNS gave no address for {}",
            dc.hostname
        )));
    };
    let trust = context.trust().await.map_err(NotObserved::Error)?;
    let (transport, port) =
        super::ldap_bind::transport(settings.ldap.tls, params.ldap_port, params.ldaps_port);
    let request = BindRequest {
        address: SocketAddr::new(address, port),
        hostname: &dc.hostname,
        transport,
        credentials: Some((user.as_str(), password.expose())),
        trust,
    };
    let mut evidence = Evidence {
        question: params.question,
        dc: dc.hostname.clone(),
        user: user.clone(),
        failed_at: None,
        error: None,
        ou: settings.ou.clone().filter(|_| needs_ou),
        exists: None,
        allowed_child_classes_effective: None,
        domain_head: None,
        ms_ds_machine_account_quota: None,
        dn: None,
        keywords: None,
        azure_ad_name: None,
        azure_ad_id: None,
        tenant: settings.tenant.clone(),
    };
    let mut ldap = match bind_session(request, deadline).await {
        Ok((ldap, _)) => ldap,
        Err(error) => {
            evidence.failed_at = Some(Stage::Bind);
            evidence.error = Some(error.to_string());
            return Ok(evidence);
        }
    };
    let asked = ask(&mut ldap, port, deadline, &mut evidence).await;
    let _ = ldap.unbind().await;
    if let Err(error) = asked {
        evidence.failed_at = Some(Stage::Read);
        evidence.error = Some(error.to_string());
    }
    Ok(evidence)
}

fn values(entry: &HashMap<String, Vec<String>>, name: &str) -> Vec<String> {
    entry
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, values)| values.clone())
        .unwrap_or_default()
}

/// Reads what the question needs into `evidence`.
async fn ask(
    ldap: &mut ldap3::Ldap,
    port: u16,
    deadline: Instant,
    evidence: &mut Evidence,
) -> Result<(), LdapError> {
    let ou = evidence.ou.clone().unwrap_or_default();
    match evidence.question {
        Question::OuExists => {
            let entry = read_entry(ldap, &ou, &["objectClass"], port, deadline).await?;
            evidence.exists = Some(entry.is_some());
        }
        Question::OuCreateComputer => {
            let entry =
                read_entry(ldap, &ou, &["allowedChildClassesEffective"], port, deadline).await?;
            evidence.exists = Some(entry.is_some());
            evidence.allowed_child_classes_effective =
                entry.map(|entry| values(&entry, "allowedChildClassesEffective"));
        }
        Question::MachineAccountQuota => {
            let root = read_entry(ldap, "", &["defaultNamingContext"], port, deadline)
                .await?
                .unwrap_or_default();
            let head = values(&root, "defaultNamingContext")
                .into_iter()
                .next()
                .unwrap_or_default();
            let entry = read_entry(ldap, &head, &["ms-DS-MachineAccountQuota"], port, deadline)
                .await?
                .unwrap_or_default();
            evidence.ms_ds_machine_account_quota = values(&entry, "ms-DS-MachineAccountQuota")
                .into_iter()
                .next();
            evidence.domain_head = Some(head);
        }
        Question::RegistrationScp => {
            let root = read_entry(ldap, "", &["configurationNamingContext"], port, deadline)
                .await?
                .unwrap_or_default();
            let config = values(&root, "configurationNamingContext")
                .into_iter()
                .next()
                .unwrap_or_default();
            let dn = format!("{SCP_RDN},{config}");
            let entry = read_entry(ldap, &dn, &["keywords"], port, deadline).await?;
            evidence.exists = Some(entry.is_some());
            if let Some(entry) = entry {
                let keywords = values(&entry, "keywords");
                let value = |prefix: &str| {
                    keywords.iter().find_map(|k| {
                        k.split_once(':')
                            .filter(|(key, _)| key.eq_ignore_ascii_case(prefix))
                            .map(|(_, v)| v.trim().to_string())
                    })
                };
                evidence.azure_ad_name = value("azureADName");
                evidence.azure_ad_id = value("azureADId");
                evidence.keywords = Some(keywords);
            }
            evidence.dn = Some(dn);
        }
    }
    Ok(())
}

/// The SCP's tenant keywords, for the check that compares them with the tenant's real ID.
pub fn registration_scp(evidence: &Evidence) -> Option<crate::facts::RegistrationScp> {
    if evidence.question != Question::RegistrationScp || evidence.exists != Some(true) {
        return None;
    }
    Some(crate::facts::RegistrationScp {
        dn: evidence.dn.clone().unwrap_or_default(),
        azure_ad_name: evidence.azure_ad_name.clone(),
        azure_ad_id: evidence.azure_ad_id.clone(),
    })
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let on = &evidence.dc;
    let user = &evidence.user;
    match (evidence.failed_at, &evidence.error) {
        (Some(Stage::Bind), Some(error)) => {
            return Judgement::fail(format!(
                "cannot read the directory on {on} as {user}: {error}"
            ))
        }
        (Some(_), Some(error)) => {
            return Judgement::fail(format!("reading the directory on {on} failed: {error}"))
        }
        _ => {}
    }
    let ou = evidence.ou.as_deref().unwrap_or_default();
    let exists = evidence.exists.unwrap_or(false);
    match evidence.question {
        Question::OuExists if exists => Judgement::pass(format!("{ou} exists (read on {on})")),
        Question::OuExists => Judgement::fail(format!(
            "{ou} does not exist (read on {on} as {user}): the Intune Connector cannot create the computer object there"
        )),
        Question::OuCreateComputer if !exists => {
            Judgement::fail(format!("{ou} does not exist (read on {on})"))
        }
        Question::OuCreateComputer => {
            let classes = evidence
                .allowed_child_classes_effective
                .as_deref()
                .unwrap_or_default();
            if classes.iter().any(|c| c.eq_ignore_ascii_case("computer")) {
                Judgement::pass(format!("{user} may create computer objects in {ou}"))
            } else {
                Judgement::fail(format!(
                    "{user} may not create computer objects in {ou}: the hybrid join's computer object cannot be created"
                ))
            }
        }
        Question::MachineAccountQuota => {
            let head = evidence.domain_head.as_deref().unwrap_or_default();
            match evidence.ms_ds_machine_account_quota.as_deref() {
                Some("0") => Judgement::pass(
                    "ms-DS-MachineAccountQuota is 0: only accounts with delegated rights on the OU can join computers (fine for the Intune Connector)",
                ),
                Some(value) => Judgement::pass(format!(
                    "ms-DS-MachineAccountQuota is {value}{}",
                    if value == "10" { " (the default)" } else { "" }
                )),
                None => Judgement::warn(format!(
                    "ms-DS-MachineAccountQuota is not readable by {user} on {head}"
                )),
            }
        }
        Question::RegistrationScp => {
            let dn = evidence.dn.as_deref().unwrap_or_default();
            if !exists {
                return Judgement::fail(format!(
                    "no Device Registration service connection point ({dn}): devices cannot find the Entra tenant; configure hybrid join in Microsoft Entra Connect"
                ));
            }
            match (&evidence.azure_ad_name, &evidence.azure_ad_id, &evidence.tenant) {
                (None, _, _) | (_, None, _) => Judgement::fail(format!(
                    "the registration SCP lacks {}: re-run the hybrid join configuration in Microsoft Entra Connect",
                    if evidence.azure_ad_name.is_none() { "azureADName" } else { "azureADId" }
                )),
                // A profile may name the tenant by its ID: then that is what must match.
                (Some(name), Some(id), Some(tenant))
                    if crate::wire::tenant::is_guid(tenant) && !id.eq_ignore_ascii_case(tenant) =>
                {
                    Judgement::fail(format!(
                        "the registration SCP names tenant {name} ({id}), the profile expects tenant ID {tenant}: devices would register in the wrong tenant"
                    ))
                }
                (Some(name), _, Some(tenant))
                    if !crate::wire::tenant::is_guid(tenant) && !name.eq_ignore_ascii_case(tenant) =>
                {
                    Judgement::fail(format!(
                        "the registration SCP names tenant {name}, the profile expects {tenant}: devices would register in the wrong tenant"
                    ))
                }
                (Some(name), Some(id), _) => {
                    Judgement::pass(format!("the registration SCP names tenant {name} ({id})"))
                }
            }
        }
    }
}
