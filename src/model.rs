//! The vocabulary every layer shares: areas, scenarios, statuses and one check's result.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The fixed list of areas; `--only`/`--skip` accept each of them even while it has no check.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Dns,
    Dc,
    Ldap,
    Proxy,
    Endpoints,
    Vpn,
    Time,
    Host,
}

impl Area {
    pub const ALL: [Area; 8] = [
        Area::Dns,
        Area::Dc,
        Area::Ldap,
        Area::Proxy,
        Area::Endpoints,
        Area::Vpn,
        Area::Time,
        Area::Host,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Dns => "dns",
            Area::Dc => "dc",
            Area::Ldap => "ldap",
            Area::Proxy => "proxy",
            Area::Endpoints => "endpoints",
            Area::Vpn => "vpn",
            Area::Time => "time",
            Area::Host => "host",
        }
    }

    pub fn from_name(name: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|area| area.as_str() == name)
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which Autopilot hybrid-join set-up the device is in; the verdict depends on it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
pub enum Scenario {
    /// The DC must be reachable during Autopilot.
    #[default]
    #[serde(rename = "on-prem")]
    OnPrem,
    /// "Skip domain connectivity check" on: the DC comes only after the user starts the VPN.
    #[serde(rename = "vpn")]
    Vpn,
}

impl Scenario {
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::OnPrem => "on-prem",
            Scenario::Vpn => "vpn",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check's status. Ordered by how bad it is for sorting and summarising.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
    /// The tool could not ask the question (no privilege, bad local set-up, deadline).
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
            Status::Error => "error",
        }
    }

    /// Whether a check that needs this one can go on.
    pub fn lets_dependents_run(self) -> bool {
        matches!(self, Status::Pass | Status::Warn)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a check concluded, before the runner adds identity and timing.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    pub finding: String,
    pub evidence: serde_json::Value,
}

impl Outcome {
    pub fn new(status: Status, finding: impl Into<String>, evidence: serde_json::Value) -> Self {
        Outcome {
            status,
            finding: finding.into(),
            evidence,
        }
    }

    pub fn pass(finding: impl Into<String>, evidence: serde_json::Value) -> Self {
        Outcome::new(Status::Pass, finding, evidence)
    }

    pub fn warn(finding: impl Into<String>, evidence: serde_json::Value) -> Self {
        Outcome::new(Status::Warn, finding, evidence)
    }

    pub fn fail(finding: impl Into<String>, evidence: serde_json::Value) -> Self {
        Outcome::new(Status::Fail, finding, evidence)
    }

    pub fn skip(finding: impl Into<String>) -> Self {
        Outcome::new(Status::Skip, finding, serde_json::Value::Null)
    }

    pub fn error(finding: impl Into<String>) -> Self {
        Outcome::new(Status::Error, finding, serde_json::Value::Null)
    }
}

/// One row of the report: a check run against one target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    pub id: String,
    pub area: Area,
    pub title: String,
    pub target: String,
    pub status: Status,
    pub duration_ms: u64,
    pub finding: String,
    pub remedy: String,
    pub needs: Vec<String>,
    pub evidence: serde_json::Value,
}
