//! `tenant.registration`: the device registration discovery document for the tenant
//! (`https://enterpriseregistration.windows.net/<tenant>/enrollmentserver/contract`), which
//! Windows reads before it registers: the registration service, the OAuth endpoints and the
//! identity provider (MS-DVRD 2.2.4), along the device's route.

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use super::tenant_fetch::{ask, escape, Asked};
use super::tenant_openid::profile_tenant;
use crate::wire::tenant::{error_message, parse_registration_discovery, RegistrationDiscovery};
use serde::{Deserialize, Serialize};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "tenant.registration",
    fan_out: FanOut::Once,
    needs: &[Fact::ProxyRoute],
    can_provide: &[],
    needs_password: false,
    summary: "device registration discovery for the tenant (enterpriseregistration.windows.net)",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TenantRegistrationParams")]
pub struct Params {
    #[serde(default = "default_host")]
    pub host: String,
    /// The discovery version Windows 10 and later ask for.
    #[serde(default = "default_api_version")]
    pub api_version: String,
}

fn default_host() -> String {
    "enterpriseregistration.windows.net".to_string()
}

fn default_api_version() -> String {
    "1.4".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "TenantRegistrationEvidence")]
pub struct Evidence {
    pub tenant: String,
    pub asked: Asked,
    pub discovery: Option<RegistrationDiscovery>,
    /// Why a 200 answer could not be read, or the start of a refusal's body.
    pub unreadable: Option<String>,
}

pub async fn observe(
    params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let tenant = profile_tenant(context)?;
    let url = format!(
        "https://{}/{}/enrollmentserver/contract?api-version={}",
        params.host,
        escape(&tenant),
        escape(&params.api_version)
    );
    let (asked, body) = ask(
        &url,
        "device registration discovery (Microsoft Entra device registration service)",
        "MS-DVRD 2.2.4; entra-docs devices/troubleshoot-hybrid-join-windows-current.md",
        true,
        inputs,
        context,
        deadline,
    )
    .await?;
    let mut evidence = Evidence {
        tenant,
        asked,
        discovery: None,
        unreadable: None,
    };
    if let (Some(status), Some(body)) = (evidence.asked.status, body) {
        if status == 200 {
            match parse_registration_discovery(&body) {
                Ok(found) => evidence.discovery = Some(found),
                Err(error) => evidence.unreadable = Some(error.to_string()),
            }
        } else {
            // The refusal's own words, cut short: the service names the reason there.
            evidence.unreadable = error_message(&body).or_else(|| {
                let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
                Some(text.trim().to_string()).filter(|t| !t.is_empty())
            });
        }
    }
    Ok(evidence)
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let tenant = &evidence.tenant;
    if let Some(broken) = evidence.asked.broken() {
        return Judgement::fail(format!(
            "device registration discovery for {tenant} did not answer: {broken}"
        ));
    }
    let answered = evidence.asked.answered();
    match (evidence.asked.status, &evidence.discovery) {
        (Some(200), Some(found)) => match &found.registration_endpoint {
            Some(endpoint) => Judgement::pass(format!(
                "device registration discovery for {tenant} names the registration service {endpoint}{}",
                found
                    .registration_resource_id
                    .as_deref()
                    .map(|id| format!(" ({id})"))
                    .unwrap_or_default()
            )),
            None => Judgement::fail(format!(
                "device registration discovery for {tenant} answers without a DeviceRegistrationService endpoint: not the registration service's document"
            )),
        },
        (Some(200), None) => Judgement::fail(format!(
            "device registration discovery for {tenant} answers {answered}, but not with the discovery document ({}): a captive portal or a proxy's own page answers in its place",
            evidence.unreadable.as_deref().unwrap_or("no body")
        )),
        (Some(status), _) if (400..500).contains(&status) => Judgement::fail(format!(
            "the device registration service does not know {tenant}: {answered}{}",
            evidence
                .unreadable
                .as_deref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        ))
        .with_remedy(format!(
            "Check `tenant = \"{tenant}\"`: device registration discovery needs the tenant's domain as users sign in with it (a verified domain of the tenant, or name.onmicrosoft.com)."
        )),
        _ => Judgement::fail(format!(
            "device registration discovery for {tenant} answers {answered}"
        )),
    }
}
