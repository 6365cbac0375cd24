//! Reports: one serialize-only model, one file per output format. Renderers read the `Report`
//! and nothing else; probes never print.

pub mod console;
pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod progress;
pub mod prometheus;
pub mod schema;
pub mod table;
#[cfg(test)]
pub(crate) mod test_report;

use crate::model::Scenario;
use crate::result::CheckResult;
use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};

/// Bumped only when a field changes meaning or disappears; new fields keep the version.
/// 2 (0.2): evidence is typed and tagged by its check's kind (`"kind": "tcp"`) and described
/// by the schema; one reachability vocabulary (`reach`: open, refused, silent, unreachable,
/// malformed, error) replaces each check's own `state` words; the CLDAP reply is under `reply`;
/// a check cut short by the deadline says so in `cut_short`.
/// 3 (0.3): `scenario` gains `entra` (Microsoft Entra join); the verdict names the
/// `join_type`; endpoint evidence may break at the new link `content` (a checked body that
/// differs: a captive portal) and its inspection says whether the profile trusts the root.
pub const SCHEMA_VERSION: u32 = 3;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub started_at: String,
    pub duration_ms: u64,
    pub scenario: Scenario,
    pub domain: String,
    /// False when the deadline or an interrupt cut the run short.
    pub complete: bool,
    pub incomplete_reason: Option<String>,
    pub host: HostFacts,
    pub profile: ProfileSummary,
    pub verdict: Verdict,
    pub checks: Vec<CheckResult>,
    /// Settings joinready took from the device itself (on Windows: the downloaded Autopilot
    /// profile), each with its origin. Empty when everything came from flags or the profile.
    #[serde(default)]
    pub origins: Vec<crate::device::detect::SettingOrigin>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostFacts {
    pub hostname: String,
    pub os: String,
    /// The DNS servers the run asked, each separately.
    pub dns_servers: Vec<String>,
    /// Whether ICMP can be sent: "unprivileged", "raw" or "needs privilege" is in each ping's evidence.
    pub running_as_root: bool,
}

/// The profile as the run used it; never a secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileSummary {
    pub path: Option<String>,
    pub domain: String,
    /// "flag", "profile" or "search_suffix".
    pub domain_source: String,
    pub forest: String,
    pub site: Option<String>,
    pub ou: Option<String>,
    pub tenant: Option<String>,
    pub timeout_ms: u64,
    pub deadline_ms: u64,
    pub ldap_bind_user: Option<String>,
    pub ldap_tls: String,
    /// Where the bind password came from ("environment", "file", "prompt"), never its value.
    pub ldap_password_source: Option<String>,
}
