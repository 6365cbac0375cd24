//! A small report for renderer unit tests.

use super::{HostFacts, ProfileSummary, Report, Tool, SCHEMA_VERSION};
use crate::model::Scenario;
use crate::result::CheckResult;
use crate::verdict::{RootCause, Verdict, VerdictStatus};

pub fn report(checks: Vec<CheckResult>, status: VerdictStatus) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "joinready".into(),
            version: "0.1.0".into(),
        },
        started_at: "2026-11-26T20:00:00Z".into(),
        duration_ms: 2000,
        scenario: Scenario::OnPrem,
        domain: "corp.example.com".into(),
        complete: true,
        incomplete_reason: None,
        host: HostFacts {
            hostname: "pc1".into(),
            os: "linux".into(),
            dns_servers: vec![],
            running_as_root: false,
        },
        profile: ProfileSummary {
            path: None,
            domain: "corp.example.com".into(),
            domain_source: "flag".into(),
            forest: "corp.example.com".into(),
            site: None,
            ou: None,
            tenant: None,
            timeout_ms: 3000,
            deadline_ms: 20000,
            ldap_bind_user: None,
            ldap_tls: "none".into(),
            ldap_password_source: None,
        },
        verdict: Verdict {
            status,
            summary: "x".into(),
            root_cause: Some(RootCause {
                check: "dc.ping".into(),
                target: "dc1".into(),
                finding: "x".into(),
            }),
            notes: vec![],
            join_type: "Microsoft Entra hybrid join".into(),
        },
        checks,
        origins: vec![],
    }
}
