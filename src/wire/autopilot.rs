//! The Autopilot profile a Windows device downloaded: `AutopilotDDSZTDFile.json` under
//! `%WINDIR%\ServiceState\wmansvc\`, and the same values under
//! `HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot`. Field names as Microsoft
//! documents them (memdocs autopilot existing-devices, troubleshooting-faq):
//! `CloudAssignedTenantDomain`, `CloudAssignedTenantId`, `CloudAssignedDomainJoinMethod`
//! (0 = Microsoft Entra join, 1 = hybrid join), `HybridJoinSkipDCConnectivityCheck`,
//! `DeploymentProfileName`, `IsAutopilotDisabled`, and `CloudAssignedAadServerData` (a JSON string
//! whose `ZeroTouchConfig.CloudAssignedTenantDomain` repeats the tenant).
//!
//! No I/O: both readers (the file, the registry) hand their values here. Windows writes numbers
//! as JSON numbers, as strings ("1") and as registry DWORDs; all are accepted.

use super::text::decode_windows_text;
use serde::{Deserialize, Serialize};

/// A profile file larger than this is not an Autopilot profile (real ones are a few KiB).
pub const MAX_PROFILE_BYTES: usize = 1024 * 1024;

/// One value as the registry or the JSON file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutopilotValue {
    Number(i64),
    Text(String),
}

/// How the device joins, from `CloudAssignedDomainJoinMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JoinMethod {
    /// 0: Microsoft Entra join, no Active Directory.
    EntraJoin,
    /// 1: Microsoft Entra hybrid join through the Intune Connector's offline domain join.
    HybridJoin,
}

/// What the downloaded profile says, as far as joinready uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutopilotProfile {
    pub tenant_domain: Option<String>,
    pub tenant_id: Option<String>,
    pub join_method: Option<JoinMethod>,
    /// `HybridJoinSkipDCConnectivityCheck`: the profile's "Skip domain connectivity check".
    pub skip_dc_connectivity_check: Option<bool>,
    pub profile_name: Option<String>,
    /// `IsAutopilotDisabled` (registry only): the device is not, or no longer, Autopilot-managed.
    pub autopilot_disabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutopilotError {
    #[error("the profile is {size} bytes, more than the {max} an Autopilot profile can be")]
    TooLarge { size: usize, max: usize },
    #[error("line {line}, column {column}: not JSON: {message}")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the profile is JSON but not an object of fields (found {found})")]
    NotAnObject { found: &'static str },
    #[error("{field} is {found}: write a number, e.g. `\"{field}\": 1`")]
    NotANumber { field: &'static str, found: String },
    #[error("{field} = {value} is not one of {expected}")]
    OutOfRange {
        field: &'static str,
        value: i64,
        expected: &'static str,
    },
    #[error("{field} = `{value}` is not {expected}")]
    BadText {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}

const TENANT_DOMAIN: &str = "CloudAssignedTenantDomain";
const TENANT_ID: &str = "CloudAssignedTenantId";
const JOIN_METHOD: &str = "CloudAssignedDomainJoinMethod";
const SKIP_DC: &str = "HybridJoinSkipDCConnectivityCheck";
const PROFILE_NAME: &str = "DeploymentProfileName";
const DISABLED: &str = "IsAutopilotDisabled";
const AAD_SERVER_DATA: &str = "CloudAssignedAadServerData";

/// Parses `AutopilotDDSZTDFile.json` (UTF-8 or UTF-16, with or without a BOM).
pub fn parse_profile_json(bytes: &[u8]) -> Result<AutopilotProfile, AutopilotError> {
    if bytes.len() > MAX_PROFILE_BYTES {
        return Err(AutopilotError::TooLarge {
            size: bytes.len(),
            max: MAX_PROFILE_BYTES,
        });
    }
    let (text, _) = decode_windows_text(bytes);
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| AutopilotError::NotJson {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
    let serde_json::Value::Object(fields) = value else {
        return Err(AutopilotError::NotAnObject {
            found: json_kind(&value),
        });
    };
    let mut values = Vec::new();
    for (name, value) in fields {
        let value = match value {
            serde_json::Value::String(text) => AutopilotValue::Text(text),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(n) => AutopilotValue::Number(n),
                None => AutopilotValue::Text(n.to_string()),
            },
            serde_json::Value::Bool(b) => AutopilotValue::Number(i64::from(b)),
            // Nested objects (CloudAssignedOobeConfig as an object in some versions) and nulls
            // carry nothing joinready reads.
            _ => continue,
        };
        values.push((name, value));
    }
    profile_from_values(&values)
}

/// Builds the profile from named values (the registry reader's, or the JSON file's). Names
/// compare without case, as the registry does.
pub fn profile_from_values(
    values: &[(String, AutopilotValue)],
) -> Result<AutopilotProfile, AutopilotError> {
    let find = |name: &str| {
        values
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let mut profile = AutopilotProfile {
        tenant_domain: text(find(TENANT_DOMAIN)),
        tenant_id: text(find(TENANT_ID)),
        profile_name: text(find(PROFILE_NAME)),
        ..AutopilotProfile::default()
    };
    if profile.tenant_domain.is_none() {
        profile.tenant_domain = text(find(AAD_SERVER_DATA)).and_then(|data| tenant_in(&data));
    }
    if let Some(domain) = &profile.tenant_domain {
        if !crate::wire::url::valid_host_name(domain) || !domain.contains('.') {
            return Err(AutopilotError::BadText {
                field: TENANT_DOMAIN,
                value: domain.clone(),
                expected: "a DNS domain such as contoso.onmicrosoft.com",
            });
        }
    }
    if let Some(id) = &profile.tenant_id {
        if !is_guid(id) {
            return Err(AutopilotError::BadText {
                field: TENANT_ID,
                value: id.clone(),
                expected: "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47",
            });
        }
    }
    profile.join_method = match number(JOIN_METHOD, find(JOIN_METHOD))? {
        None => None,
        Some(0) => Some(JoinMethod::EntraJoin),
        Some(1) => Some(JoinMethod::HybridJoin),
        Some(value) => {
            return Err(AutopilotError::OutOfRange {
                field: JOIN_METHOD,
                value,
                expected: "0 (Microsoft Entra join) or 1 (hybrid join)",
            })
        }
    };
    profile.skip_dc_connectivity_check = flag(SKIP_DC, find(SKIP_DC))?;
    profile.autopilot_disabled = flag(DISABLED, find(DISABLED))?;
    Ok(profile)
}

fn text(value: Option<&AutopilotValue>) -> Option<String> {
    match value {
        Some(AutopilotValue::Text(text)) if !text.trim().is_empty() => {
            Some(text.trim().to_string())
        }
        _ => None,
    }
}

fn number(
    field: &'static str,
    value: Option<&AutopilotValue>,
) -> Result<Option<i64>, AutopilotError> {
    match value {
        None => Ok(None),
        Some(AutopilotValue::Number(n)) => Ok(Some(*n)),
        Some(AutopilotValue::Text(text)) if text.trim().is_empty() => Ok(None),
        Some(AutopilotValue::Text(text)) => {
            text.trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| AutopilotError::NotANumber {
                    field,
                    found: format!("`{text}`"),
                })
        }
    }
}

fn flag(
    field: &'static str,
    value: Option<&AutopilotValue>,
) -> Result<Option<bool>, AutopilotError> {
    match number(field, value)? {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(value) => Err(AutopilotError::OutOfRange {
            field,
            value,
            expected: "0 or 1",
        }),
    }
}

/// `ZeroTouchConfig.CloudAssignedTenantDomain` inside `CloudAssignedAadServerData`.
fn tenant_in(data: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(data).ok()?;
    let domain = value
        .get("ZeroTouchConfig")?
        .get(TENANT_DOMAIN)?
        .as_str()?
        .trim();
    (!domain.is_empty()).then(|| domain.to_string())
}

fn is_guid(text: &str) -> bool {
    let text = text.trim_start_matches('{').trim_end_matches('}');
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/autopilot/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn a_hybrid_profile_with_skip_names_tenant_and_join() {
        let profile = parse_profile_json(&fixture("hybrid-skip.json")).unwrap();
        assert_eq!(
            profile.tenant_domain.as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert_eq!(
            profile.tenant_id.as_deref(),
            Some("8d2c2a2e-1f3b-4c5d-9e6f-0a1b2c3d4e5f")
        );
        assert_eq!(profile.join_method, Some(JoinMethod::HybridJoin));
        assert_eq!(profile.skip_dc_connectivity_check, Some(true));
        assert_eq!(profile.profile_name.as_deref(), Some("Hybrid remote (VPN)"));
    }

    #[test]
    fn a_hybrid_profile_without_skip_in_utf16() {
        let profile = parse_profile_json(&fixture("hybrid-utf16.json")).unwrap();
        assert_eq!(profile.join_method, Some(JoinMethod::HybridJoin));
        assert_eq!(profile.skip_dc_connectivity_check, Some(false));
        assert_eq!(
            profile.tenant_domain.as_deref(),
            Some("fabrikam.onmicrosoft.com")
        );
    }

    #[test]
    fn an_entra_join_profile_takes_its_tenant_from_the_server_data() {
        let profile = parse_profile_json(&fixture("entra.json")).unwrap();
        assert_eq!(profile.join_method, Some(JoinMethod::EntraJoin));
        assert_eq!(profile.skip_dc_connectivity_check, None);
        assert_eq!(
            profile.tenant_domain.as_deref(),
            Some("contoso.onmicrosoft.com")
        );
    }

    #[test]
    fn broken_profiles_say_what_is_wrong() {
        let cases: &[(&str, &str)] = &[
            ("broken-truncated.json", "line 4, column"),
            ("broken-join-method.json", "CloudAssignedDomainJoinMethod = 2 is not one of 0 (Microsoft Entra join) or 1 (hybrid join)"),
            ("broken-skip-text.json", "HybridJoinSkipDCConnectivityCheck is `yes`: write a number"),
            ("broken-tenant-id.json", "CloudAssignedTenantId = `contoso` is not a GUID"),
            ("broken-array.json", "not an object of fields (found an array)"),
        ];
        for (name, expected) in cases {
            let error = parse_profile_json(&fixture(name)).unwrap_err().to_string();
            assert!(error.contains(expected), "{name}: {error}");
        }
        let big = vec![b' '; MAX_PROFILE_BYTES + 1];
        assert!(matches!(
            parse_profile_json(&big),
            Err(AutopilotError::TooLarge { .. })
        ));
    }

    #[test]
    fn registry_values_read_like_the_file_and_ignore_case() {
        let values = vec![
            (
                "cloudassignedtenantdomain".to_string(),
                AutopilotValue::Text("contoso.com".into()),
            ),
            (
                "CloudAssignedDomainJoinMethod".to_string(),
                AutopilotValue::Number(1),
            ),
            (
                "HybridJoinSkipDCConnectivityCheck".to_string(),
                AutopilotValue::Text("0".into()),
            ),
            ("IsAutopilotDisabled".to_string(), AutopilotValue::Number(0)),
        ];
        let profile = profile_from_values(&values).unwrap();
        assert_eq!(profile.tenant_domain.as_deref(), Some("contoso.com"));
        assert_eq!(profile.join_method, Some(JoinMethod::HybridJoin));
        assert_eq!(profile.skip_dc_connectivity_check, Some(false));
        assert_eq!(profile.autopilot_disabled, Some(false));
        assert_eq!(
            profile_from_values(&[]).unwrap(),
            AutopilotProfile::default()
        );
    }
}
