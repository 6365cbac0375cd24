//! `tenant.realm`: the user realm of the tenant's domain
//! (`https://login.microsoftonline.com/common/UserRealm/?user=<someone>@<domain>&api-version=1.0`)
//! along the device's route: managed, federated (and through which federation server), or
//! unknown to Entra ID.

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use super::tenant_fetch::{ask, escape, host_of, Asked};
use super::tenant_openid::{default_login_host, profile_tenant};
use crate::wire::tenant::{is_guid, parse_user_realm, Namespace, UserRealm};
use serde::{Deserialize, Serialize};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "tenant.realm",
    fan_out: FanOut::Once,
    needs: &[Fact::ProxyRoute],
    can_provide: &[Fact::UserRealm],
    needs_password: false,
    summary: "the user realm of the tenant's domain: managed, federated (through which server) or unknown",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TenantRealmParams")]
pub struct Params {
    #[serde(default = "default_login_host")]
    pub login_host: String,
    /// The user part of the sign-in name asked about; the realm depends only on the domain.
    #[serde(default = "default_user")]
    pub user: String,
}

fn default_user() -> String {
    "joinready".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "TenantRealmEvidence")]
pub struct Evidence {
    pub tenant: String,
    pub asked: Asked,
    pub realm: Option<UserRealm>,
    pub unreadable: Option<String>,
}

pub async fn observe(
    params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<(Evidence, Option<UserRealm>), NotObserved> {
    let tenant = profile_tenant(context)?;
    if is_guid(&tenant) {
        return Err(NotObserved::Skip(format!(
            "the user realm is asked per domain and the profile names the tenant by its ID ({tenant}): set `tenant` to the domain users sign in with"
        )));
    }
    let url = format!(
        "https://{}/common/UserRealm/?user={}&api-version=1.0",
        params.login_host,
        escape(&format!("{}@{tenant}", params.user))
    );
    let (asked, body) = ask(
        &url,
        "Microsoft Entra ID user realm discovery",
        "entra-docs identity/hybrid/connect/how-to-connect-fed-management.md; MSAL user realm discovery",
        true,
        inputs,
        context,
        deadline,
    )
    .await?;
    let mut evidence = Evidence {
        tenant,
        asked,
        realm: None,
        unreadable: None,
    };
    if let (Some(200), Some(body)) = (evidence.asked.status, body) {
        match parse_user_realm(&body) {
            Ok(realm) => evidence.realm = Some(realm),
            Err(error) => evidence.unreadable = Some(error.to_string()),
        }
    }
    let learnt = evidence.realm.clone();
    Ok((evidence, learnt))
}

/// The federation server the realm names, for findings.
pub fn sts_host(realm: &UserRealm) -> Option<String> {
    realm
        .federation_metadata_url
        .as_deref()
        .or(realm.federation_active_auth_url.as_deref())
        .or(realm.auth_url.as_deref())
        .map(host_of)
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let tenant = &evidence.tenant;
    if let Some(broken) = evidence.asked.broken() {
        return Judgement::fail(format!(
            "the user realm of {tenant} did not answer: {broken}"
        ));
    }
    let answered = evidence.asked.answered();
    let Some(realm) = &evidence.realm else {
        return Judgement::fail(format!(
            "the user realm of {tenant} answers {answered}{}: not Entra ID's answer",
            evidence
                .unreadable
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        ));
    };
    match &realm.namespace {
        Namespace::Managed => Judgement::pass(format!(
            "{tenant} is a managed domain: sign-in and device registration go to Entra ID itself"
        )),
        Namespace::Federated => match sts_host(realm) {
            Some(host) => Judgement::pass(format!(
                "{tenant} is federated{} through {host}: that server must answer along the device's route (tenant.federation)",
                realm
                    .federation_protocol
                    .as_deref()
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default()
            )),
            None => Judgement::fail(format!(
                "{tenant} is federated, but its user realm names no federation server (no metadata or sign-in URL)"
            )),
        },
        Namespace::Unknown => Judgement::fail(format!(
            "Entra ID knows no tenant with the domain {tenant} (user realm: Unknown): users of {tenant} cannot sign in and devices cannot register"
        ))
        .with_remedy(format!(
            "Set `tenant` to a verified domain of the tenant (or name.onmicrosoft.com), as users sign in with it; or add and verify {tenant} in the Entra admin center (Custom domain names)."
        )),
        Namespace::Other(kind) => Judgement::warn(format!(
            "the user realm of {tenant} says `{kind}`, which this tool does not know"
        )),
    }
}
