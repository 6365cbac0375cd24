//! `host.vpn`: the per-machine (all users) VPN connections in the device's phonebook, each
//! `[[vpn]]` gateway of the profile matched to one (Microsoft's validation step 1,
//! `Get-VpnConnection -AllUserConnection`). Autopilot's hybrid join with "Skip domain
//! connectivity check" needs such a connection before anyone signs in. Windows only: elsewhere
//! a skip.

use super::context::CheckContext;
use super::shape::{FanOut, Judgement, KindSpec, NotObserved};
use crate::wire::phonebook::PhonebookEntry;
use crate::wire::text::TextEncoding;
use serde::{Deserialize, Serialize};

pub const SPEC: KindSpec = KindSpec {
    name: "host.vpn",
    fan_out: FanOut::Once,
    needs: &[],
    can_provide: &[],
    needs_password: false,
    summary: "the all-users VPN connections (rasphone.pbk) against the profile's [[vpn]] gateways",
};

#[derive(Debug, Clone, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "HostVpnEvidence")]
pub struct Evidence {
    /// The phonebook read, None when the device has none.
    pub path: Option<String>,
    pub encoding: Option<TextEncoding>,
    /// Its VPN entries (Type=2).
    pub connections: Vec<PhonebookEntry>,
    /// Lines it could not read, "line N: …".
    pub problems: Vec<String>,
    /// The profile's `[[vpn]]` hosts.
    pub expected: Vec<String>,
}

pub async fn observe(_params: &Params, context: &CheckContext) -> Result<Evidence, NotObserved> {
    if !cfg!(windows) {
        return Err(NotObserved::Skip(format!(
            "runs on the Windows device only (this is {})",
            std::env::consts::OS
        )));
    }
    // On-prem with no gateway in the profile, the device needs no VPN: asking would only
    // produce a warning about something nobody wants.
    if context.settings.scenario != crate::model::Scenario::Vpn && context.settings.vpn.is_empty() {
        return Err(NotObserved::Skip(
            "the on-prem scenario and no [[vpn]] in the profile: no VPN connection needed"
                .to_string(),
        ));
    }
    let expected = context
        .settings
        .vpn
        .iter()
        .map(|g| g.host.clone())
        .collect();
    let book = crate::device::files::phonebook()
        .map_err(|e| NotObserved::Error(format!("cannot read the all-users phonebook: {e}")))?;
    Ok(match book {
        None => Evidence {
            path: None,
            encoding: None,
            connections: Vec::new(),
            problems: Vec::new(),
            expected,
        },
        Some((path, book)) => Evidence {
            path: Some(path),
            encoding: Some(book.encoding),
            connections: book.entries.into_iter().filter(|e| e.is_vpn()).collect(),
            problems: book.problems,
            expected,
        },
    })
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let listed: Vec<String> = evidence
        .connections
        .iter()
        .map(|c| {
            format!(
                "{} → {}",
                c.name,
                c.gateway.as_deref().unwrap_or("no gateway")
            )
        })
        .collect();
    if evidence.connections.is_empty() {
        let why = match &evidence.path {
            None => "this device has no all-users phonebook".to_string(),
            Some(path) => format!("{path} holds no VPN connection"),
        };
        return Judgement::fail(format!(
            "no per-machine VPN connection: {why}; Get-VpnConnection -AllUserConnection lists none"
        ));
    }
    let missing: Vec<&String> = evidence
        .expected
        .iter()
        .filter(|host| {
            !evidence.connections.iter().any(|c| {
                c.gateway.as_deref().is_some_and(|g| {
                    g.trim_end_matches('.')
                        .eq_ignore_ascii_case(host.trim_end_matches('.'))
                })
            })
        })
        .collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Judgement::fail(format!(
            "no all-users VPN connection goes to {} (the profile's [[vpn]]); the connections go to: {}",
            names.join(", "),
            listed.join("; ")
        ));
    }
    let unread = if evidence.problems.is_empty() {
        String::new()
    } else {
        format!(
            " ({} unreadable lines: {})",
            evidence.problems.len(),
            evidence.problems.join("; ")
        )
    };
    Judgement::pass(format!(
        "{} per-machine VPN connection(s): {}{unread}",
        evidence.connections.len(),
        listed.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Status;
    use crate::wire::phonebook::parse_phonebook;

    fn evidence(expected: &[&str]) -> Evidence {
        let path = format!(
            "{}/fixtures/phonebook/two-vpns-utf16.pbk",
            env!("CARGO_MANIFEST_DIR")
        );
        let book = parse_phonebook(&std::fs::read(&path).unwrap());
        Evidence {
            path: Some(path),
            encoding: Some(book.encoding),
            connections: book.entries.into_iter().filter(|e| e.is_vpn()).collect(),
            problems: book.problems,
            expected: expected.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn every_vpn_gateway_must_have_a_connection() {
        let pass = judge(&Params {}, &evidence(&["VPN.contoso.com."]));
        assert_eq!(pass.status, Status::Pass, "{}", pass.finding);
        assert!(pass
            .finding
            .contains("Contoso Device Tunnel → vpn.contoso.com"));
        let fail = judge(
            &Params {},
            &evidence(&["vpn.contoso.com", "vpn2.contoso.com"]),
        );
        assert_eq!(fail.status, Status::Fail);
        assert!(
            fail.finding
                .starts_with("no all-users VPN connection goes to vpn2.contoso.com"),
            "{}",
            fail.finding
        );
        // No [[vpn]] in the profile: any per-machine connection will do.
        assert_eq!(judge(&Params {}, &evidence(&[])).status, Status::Pass);
    }

    #[test]
    fn no_phonebook_is_a_failure_that_says_so() {
        let none = Evidence {
            path: None,
            encoding: None,
            connections: vec![],
            problems: vec![],
            expected: vec![],
        };
        let judgement = judge(&Params {}, &none);
        assert_eq!(judgement.status, Status::Fail);
        assert!(judgement.finding.contains("no all-users phonebook"));
    }
}
