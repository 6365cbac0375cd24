//! `tenant.federation`: for a federated tenant, the federation server the user realm names,
//! along the device's route: its WS-MetadataExchange document, then the WS-Trust endpoints
//! device registration uses (windowstransport for the computer's Windows authentication,
//! usernamemixed), as that document lists them.

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use super::tenant_fetch::{ask, host_of, Asked};
use crate::wire::tenant::{mex_addresses, ws_trust_kind, Namespace, WsTrustKind};
use serde::{Deserialize, Serialize};
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "tenant.federation",
    fan_out: FanOut::Once,
    needs: &[Fact::UserRealm, Fact::ProxyRoute],
    can_provide: &[],
    needs_password: false,
    summary: "a federated tenant's federation server: metadata and WS-Trust endpoints along the device's route",
};

/// WS-Trust endpoints asked at most; AD FS lists two of each kind (2005 and 1.3).
const MAX_WS_TRUST: usize = 4;

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TenantFederationParams")]
pub struct Params {}

/// One WS-Trust endpoint asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WsTrustAsked {
    pub kind: WsTrustKind,
    pub asked: Asked,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "TenantFederationEvidence")]
pub struct Evidence {
    /// The federated domain.
    pub domain: String,
    pub sts_host: String,
    pub metadata_url: String,
    pub metadata: Asked,
    /// The WS-Trust addresses the metadata lists (all of them, not only those asked).
    pub listed: Vec<String>,
    pub ws_trust: Vec<WsTrustAsked>,
}

/// The metadata URL: the realm's own, else AD FS's documented MEX path on the host of the
/// sign-in URL it names.
fn metadata_url(realm: &crate::wire::tenant::UserRealm) -> Option<String> {
    if let Some(url) = &realm.federation_metadata_url {
        return Some(url.clone());
    }
    let other = realm
        .federation_active_auth_url
        .as_deref()
        .or(realm.auth_url.as_deref())?;
    Some(format!(
        "https://{}/adfs/services/trust/mex",
        host_of(other)
    ))
}

pub async fn observe(
    _params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let Some(realm) = &inputs.tenant.user_realm else {
        return Err(NotObserved::Skip("the user realm is not known".to_string()));
    };
    let domain = realm
        .domain_name
        .clone()
        .or_else(|| context.settings.tenant.clone())
        .unwrap_or_default();
    if realm.namespace != Namespace::Federated {
        return Err(NotObserved::Skip(format!(
            "{domain} is not federated: no federation server to reach"
        )));
    }
    let Some(metadata_url) = metadata_url(realm) else {
        return Err(NotObserved::Skip(format!(
            "the user realm of {domain} names no federation server"
        )));
    };
    let (metadata, body) = ask(
        &metadata_url,
        "the federation server's WS-MetadataExchange document",
        "entra-docs devices/how-to-hybrid-join.md (federated domains)",
        true,
        inputs,
        context,
        deadline,
    )
    .await?;
    let listed: Vec<String> = match (metadata.status, &body) {
        (Some(200), Some(body)) => mex_addresses(body)
            .into_iter()
            .filter(|a| ws_trust_kind(a).is_some())
            .collect(),
        _ => Vec::new(),
    };
    // windowstransport first: a computer registers with it, so it must never be the one cut.
    let mut chosen: Vec<(WsTrustKind, String)> = listed
        .iter()
        .filter_map(|a| ws_trust_kind(a).map(|k| (k, a.clone())))
        .collect();
    chosen.sort_by_key(|(kind, _)| *kind != WsTrustKind::WindowsTransport);
    chosen.truncate(MAX_WS_TRUST);
    let asks = chosen.iter().map(|(kind, url)| async move {
        let asked = ask(
            url,
            "a WS-Trust endpoint of the federation server",
            "entra-docs devices/how-to-hybrid-join.md (federated domains)",
            false,
            inputs,
            context,
            deadline,
        )
        .await;
        asked.map(|(asked, _)| WsTrustAsked { kind: *kind, asked })
    });
    let ws_trust = futures::future::join_all(asks)
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Evidence {
        domain,
        sts_host: host_of(&metadata_url),
        metadata_url,
        metadata,
        listed,
        ws_trust,
    })
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let host = &evidence.sts_host;
    let domain = &evidence.domain;
    let stops = "federated sign-in and device registration stop there";
    if let Some(broken) = evidence.metadata.broken() {
        return Judgement::fail(format!(
            "the federation server {host} of {domain} cannot be reached: {broken}; {stops}"
        ));
    }
    let answered = evidence.metadata.answered();
    match evidence.metadata.status {
        Some(200) => {}
        Some(status) if status >= 500 => {
            return Judgement::fail(format!(
                "the federation server {host} answers {answered} for its metadata {}: the federation service is not running behind it; {stops}",
                evidence.metadata_url
            ))
        }
        _ => {
            return Judgement::fail(format!(
                "the federation server {host} answers {answered} for its metadata {}; {stops}",
                evidence.metadata_url
            ))
        }
    }
    if !evidence
        .listed
        .iter()
        .any(|a| ws_trust_kind(a) == Some(WsTrustKind::WindowsTransport))
    {
        return Judgement::fail(format!(
            "the metadata of {host} lists no WS-Trust windowstransport endpoint: hybrid-joined computers authenticate there to register; enable adfs/services/trust/2005/windowstransport and adfs/services/trust/13/windowstransport"
        ));
    }
    for endpoint in &evidence.ws_trust {
        let url = &endpoint.asked.url;
        if let Some(broken) = endpoint.asked.broken() {
            return Judgement::fail(format!(
                "the WS-Trust endpoint {url} of {host} cannot be reached: {broken}"
            ));
        }
        if endpoint.asked.status.is_some_and(|s| s >= 500) {
            return Judgement::fail(format!(
                "the WS-Trust endpoint {url} answers {}: the federation service is not running behind it",
                endpoint.asked.answered()
            ));
        }
    }
    // "2005/windowstransport": the version segment tells the endpoints of one kind apart.
    let kinds: Vec<String> = evidence
        .ws_trust
        .iter()
        .map(|w| {
            let mut tail: Vec<&str> = w
                .asked
                .url
                .trim_end_matches('/')
                .rsplit('/')
                .take(2)
                .collect();
            tail.reverse();
            tail.join("/")
        })
        .collect();
    Judgement::pass(format!(
        "the federation server {host} of {domain} answers: metadata and {} WS-Trust endpoints ({}) reachable",
        evidence.ws_trust.len(),
        kinds.join(", ")
    ))
}
