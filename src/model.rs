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
    /// Microsoft Entra join: no Active Directory; the cloud endpoints decide.
    #[serde(rename = "entra")]
    Entra,
}

impl Scenario {
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::OnPrem => "on-prem",
            Scenario::Vpn => "vpn",
            Scenario::Entra => "entra",
        }
    }

    /// The Autopilot join type this scenario checks, as the verdict names it.
    pub fn join_type(self) -> &'static str {
        match self {
            Scenario::OnPrem | Scenario::Vpn => "Microsoft Entra hybrid join",
            Scenario::Entra => "Microsoft Entra join",
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

/// How a transport answered, in one vocabulary for TCP, UDP, DNS, LDAP, HTTP and IKE alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// The service answered in its own protocol (a TCP connection was accepted).
    Open,
    /// The host answered that nothing listens there: a TCP reset, an ICMP port unreachable.
    Refused,
    /// Nothing came back in time: a firewall drops the packets, or the host is down.
    Silent,
    /// The network has no route to the host, or the name does not resolve.
    Unreachable,
    /// Something answered, but not in the protocol that was asked.
    Malformed,
    /// The question could not be asked (a local error).
    Error,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Open => "open",
            Reach::Refused => "refused",
            Reach::Silent => "silent",
            Reach::Unreachable => "unreachable",
            Reach::Malformed => "malformed",
            Reach::Error => "error",
        }
    }
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
