//! `tenant.openid`: OpenID Connect discovery for the profile's tenant
//! (`https://login.microsoftonline.com/<tenant>/.well-known/openid-configuration`) along the
//! device's route. The tenant ID comes from the answer's `issuer`; a tenant that does not exist
//! gets HTTP 400 with AADSTS90002, named with the tenant as the profile writes it.

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use super::tenant_fetch::{ask, escape, Asked};
use crate::facts::TenantId;
use crate::wire::tenant::{
    parse_aad_error, parse_openid_configuration, AadError, OpenIdConfiguration,
};
use serde::{Deserialize, Serialize};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "tenant.openid",
    fan_out: FanOut::Once,
    needs: &[Fact::ProxyRoute],
    can_provide: &[Fact::TenantId],
    needs_password: false,
    summary: "OpenID Connect discovery for the profile's tenant: does it exist, and what is its ID",
};

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TenantOpenIdParams")]
pub struct Params {
    /// The sign-in host (`login.microsoftonline.us` in the US Government cloud).
    #[serde(default = "default_login_host")]
    pub login_host: String,
}

pub fn default_login_host() -> String {
    "login.microsoftonline.com".to_string()
}

/// What the profile says the tenant is, or why the tenant checks have nothing to ask.
pub fn profile_tenant(context: &CheckContext) -> Result<String, NotObserved> {
    context.settings.tenant.clone().ok_or_else(|| {
        NotObserved::Skip(
            "no tenant in the profile: set `tenant = \"contoso.onmicrosoft.com\"` (the tenant's domain, or its ID)".to_string(),
        )
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "TenantOpenIdEvidence")]
pub struct Evidence {
    /// The tenant as the profile writes it.
    pub tenant: String,
    pub asked: Asked,
    pub configuration: Option<OpenIdConfiguration>,
    /// Entra ID's error answer (AADSTS…).
    pub error: Option<AadError>,
    /// Why the answer could not be read.
    pub unreadable: Option<String>,
}

pub async fn observe(
    params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<(Evidence, Option<TenantId>), NotObserved> {
    let tenant = profile_tenant(context)?;
    let url = format!(
        "https://{}/{}/.well-known/openid-configuration",
        params.login_host,
        escape(&tenant)
    );
    let (asked, body) = ask(
        &url,
        "Microsoft Entra ID OpenID Connect discovery for the tenant",
        "entra-docs identity-platform/v2-protocols-oidc.md",
        true,
        inputs,
        context,
        deadline,
    )
    .await?;
    let mut evidence = Evidence {
        tenant: tenant.clone(),
        asked,
        configuration: None,
        error: None,
        unreadable: None,
    };
    if let (Some(status), Some(body)) = (evidence.asked.status, body) {
        if status == 200 {
            match parse_openid_configuration(&body) {
                Ok(configuration) => evidence.configuration = Some(configuration),
                Err(error) => evidence.unreadable = Some(error.to_string()),
            }
        } else {
            evidence.error = parse_aad_error(&body);
        }
    }
    let learnt = evidence
        .configuration
        .as_ref()
        .and_then(|c| c.tenant_id.clone())
        .map(|id| TenantId { tenant, id });
    Ok((evidence, learnt))
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let tenant = &evidence.tenant;
    if let Some(broken) = evidence.asked.broken() {
        return Judgement::fail(format!(
            "OpenID discovery for tenant {tenant} did not answer: {broken}"
        ));
    }
    let answered = evidence.asked.answered();
    if let Some(error) = &evidence.error {
        if error.tenant_not_found() {
            return Judgement::fail(format!(
                "tenant `{tenant}` (as the profile writes it) does not exist in Microsoft Entra ID: {answered}, {}",
                error.headline()
            ))
            .with_remedy(format!(
                "Check the spelling of `tenant = \"{tenant}\"`: it must be the tenant's initial domain (name.onmicrosoft.com), one of its verified custom domains, or its tenant ID (Entra admin center, Overview). Check that the tenant is in this cloud (login.microsoftonline.com; US Government tenants use login.microsoftonline.us)."
            ));
        }
        return Judgement::fail(format!(
            "OpenID discovery for tenant {tenant} answers {answered}: {}",
            error.headline()
        ));
    }
    if let Some(unreadable) = &evidence.unreadable {
        return Judgement::fail(format!(
            "OpenID discovery for tenant {tenant} answers {answered}, but not with Entra ID's document ({unreadable}): a captive portal or a proxy's own page answers in its place"
        ));
    }
    match &evidence.configuration {
        Some(OpenIdConfiguration {
            tenant_id: Some(id),
            tenant_region_scope,
            ..
        }) => Judgement::pass(format!(
            "tenant {tenant} exists: tenant ID {id}{}",
            tenant_region_scope
                .as_deref()
                .map(|r| format!(", region {r}"))
                .unwrap_or_default()
        )),
        Some(configuration) => Judgement::fail(format!(
            "OpenID discovery for tenant {tenant} answers, but its issuer ({}) names no tenant ID: not Entra ID's answer for a tenant",
            configuration.issuer.as_deref().unwrap_or("none")
        )),
        None => Judgement::fail(format!(
            "OpenID discovery for tenant {tenant} answers {answered} with no document"
        )),
    }
}
