//! `tenant.scp`: in the hybrid scenarios, the tenant ID OpenID discovery gave must be the
//! `azureADId` of the Device Registration service connection point, or the devices that find
//! the SCP register (or fail to register) in another tenant than the one the profile names.

use super::context::Inputs;
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "tenant.scp",
    fan_out: FanOut::Once,
    needs: &[Fact::TenantId, Fact::RegistrationScp],
    can_provide: &[],
    needs_password: false,
    summary: "the tenant ID from OpenID discovery is the registration SCP's azureADId",
};

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TenantScpParams")]
pub struct Params {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "TenantScpEvidence")]
pub struct Evidence {
    pub tenant: String,
    /// What OpenID discovery gave.
    pub tenant_id: String,
    pub scp_dn: String,
    pub azure_ad_name: Option<String>,
    pub azure_ad_id: Option<String>,
}

pub fn observe(_params: &Params, inputs: &Inputs) -> Result<Evidence, NotObserved> {
    let Some(found) = &inputs.tenant.tenant_id else {
        return Err(NotObserved::Skip(
            "OpenID discovery gave no tenant ID to compare".to_string(),
        ));
    };
    let Some(scp) = &inputs.tenant.registration_scp else {
        return Err(NotObserved::Skip(
            "the registration SCP was not read".to_string(),
        ));
    };
    Ok(Evidence {
        tenant: found.tenant.clone(),
        tenant_id: found.id.clone(),
        scp_dn: scp.dn.clone(),
        azure_ad_name: scp.azure_ad_name.clone(),
        azure_ad_id: scp.azure_ad_id.clone(),
    })
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let tenant = &evidence.tenant;
    let id = &evidence.tenant_id;
    match &evidence.azure_ad_id {
        None => Judgement::fail(format!(
            "the registration SCP ({}) has no azureADId keyword; tenant {tenant} is {id}",
            evidence.scp_dn
        )),
        Some(scp_id) if scp_id.trim().eq_ignore_ascii_case(id) => Judgement::pass(format!(
            "the registration SCP's azureADId {scp_id} is tenant {tenant}'s ID"
        )),
        Some(scp_id) => Judgement::fail(format!(
            "tenant {tenant} has ID {id} (OpenID discovery), but the registration SCP says azureADId:{scp_id}{}: hybrid-joined devices would register with another tenant",
            evidence
                .azure_ad_name
                .as_deref()
                .map(|name| format!(" (azureADName:{name})"))
                .unwrap_or_default()
        )),
    }
}
