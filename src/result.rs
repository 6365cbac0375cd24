//! One row of the report: a check run against one target, as every renderer reads it.

use crate::check::Evidence;
use crate::model::{Area, Status};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    pub id: String,
    pub area: Area,
    pub title: String,
    pub target: String,
    pub status: Status,
    /// When the check started, in ms after the run started (a skipped check: when it was
    /// decided). Draws the timeline; absent from reports before 0.3, read as 0.
    #[serde(default)]
    pub started_ms: u64,
    pub duration_ms: u64,
    pub finding: String,
    pub remedy: String,
    pub needs: Vec<String>,
    /// True when the run's deadline or an interrupt ended the run before this check finished
    /// (its status is then `error`).
    pub cut_short: bool,
    /// What the check observed, tagged by its kind; null when it observed nothing (skipped,
    /// or the tool could not ask).
    pub evidence: Option<Evidence>,
}

impl CheckResult {
    /// The evidence as JSON, for readers that walk it by name (tests, ad-hoc tooling).
    pub fn evidence_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.evidence).unwrap_or_default()
    }
}
