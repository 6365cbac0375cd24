//! The shape every check kind has, as blackbox_exporter gives every prober one signature:
//! typed parameters in, `observe` does the I/O and returns typed evidence, a pure `judge` turns
//! that evidence into a status and a one-line finding. Severity beyond the evidence itself
//! (optional checks, scenarios, "another DC passes", the deadline) is decided in
//! `verdict::policy`, never here.

use crate::model::Status;
use serde::{Deserialize, Serialize};

/// What a check runs once per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FanOut {
    /// Once per run.
    Once,
    /// Once per domain controller of the DC list.
    Dc,
    /// Once per `[[vpn]]` gateway of the profile whose kind the check speaks.
    VpnGateway,
    /// Once per internet endpoint: the catalog's sets the profile chose, then its extras.
    Endpoint,
}

impl FanOut {
    /// How `for_each` spells it in a catalog file; None for checks that run once.
    pub fn for_each(self) -> Option<&'static str> {
        match self {
            FanOut::Once => None,
            FanOut::Dc => Some("dc"),
            FanOut::VpnGateway => Some("vpn_gateway"),
            FanOut::Endpoint => Some("endpoint"),
        }
    }

    /// How often a check runs, as `explain` says it.
    pub fn runs(self) -> &'static str {
        match self {
            FanOut::Once => "once",
            FanOut::Dc => "once per domain controller",
            FanOut::VpnGateway => "once per [[vpn]] gateway of its kind",
            FanOut::Endpoint => "once per internet endpoint",
        }
    }

    /// The short form for one-line listings.
    pub fn per(self) -> Option<&'static str> {
        match self {
            FanOut::Once => None,
            FanOut::Dc => Some("per DC"),
            FanOut::VpnGateway => Some("per gateway"),
            FanOut::Endpoint => Some("per endpoint"),
        }
    }
}

/// Typed facts a check can learn for the checks after it. They travel only through the
/// runner's board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// The domain controllers (with addresses) the per-DC checks fan out over.
    Dcs,
    /// The DC the DC locator chose, which the directory checks read.
    ChosenDc,
    /// The DCs this device will use (the locator's choice, then its site's, capped by the
    /// profile): the per-DC checks fan out over them, not over every DC of the domain.
    CheckedDcs,
    /// What proxy discovery found: the PAC file the endpoint routes come from.
    ProxyRoute,
    /// The tenant ID OpenID discovery gave for the profile's tenant.
    TenantId,
    /// The tenant keywords of the Device Registration service connection point.
    RegistrationScp,
    /// How the tenant's domain signs in (managed or federated, and through which server).
    UserRealm,
}

impl Fact {
    pub fn as_str(self) -> &'static str {
        match self {
            Fact::Dcs => "dcs",
            Fact::ChosenDc => "chosen_dc",
            Fact::CheckedDcs => "checked_dcs",
            Fact::ProxyRoute => "proxy_route",
            Fact::TenantId => "tenant_id",
            Fact::RegistrationScp => "registration_scp",
            Fact::UserRealm => "user_realm",
        }
    }
}

/// What a kind is, as data: the catalog validates every check against it at load time.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    /// The name a catalog file gives in `kind = "…"`.
    pub name: &'static str,
    pub fan_out: FanOut,
    /// Facts it reads from the board; the check must `need` the check that provides each.
    pub needs: &'static [Fact],
    /// Facts it can provide when its check says `provides = [...]`.
    pub can_provide: &'static [Fact],
    /// Whether it binds as the profile's account, so the password must be at hand.
    pub needs_password: bool,
    /// One line for `explain`.
    pub summary: &'static str,
}

/// A judge's conclusion about one piece of evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub status: Status,
    pub finding: String,
    /// A remedy for this finding that replaces the check's own, when the evidence shows a
    /// different root cause than the check is about (a DNS server that does not answer).
    pub remedy: Option<String>,
}

impl Judgement {
    pub fn pass(finding: impl Into<String>) -> Judgement {
        Judgement {
            status: Status::Pass,
            finding: finding.into(),
            remedy: None,
        }
    }

    pub fn warn(finding: impl Into<String>) -> Judgement {
        Judgement {
            status: Status::Warn,
            finding: finding.into(),
            remedy: None,
        }
    }

    pub fn fail(finding: impl Into<String>) -> Judgement {
        Judgement {
            status: Status::Fail,
            finding: finding.into(),
            remedy: None,
        }
    }

    /// The tool could not ask the question (no privilege, a broken local set-up).
    pub fn error(finding: impl Into<String>) -> Judgement {
        Judgement {
            status: Status::Error,
            finding: finding.into(),
            remedy: None,
        }
    }
}

impl Judgement {
    /// The same judgement with its own remedy.
    pub fn with_remedy(mut self, remedy: impl Into<String>) -> Judgement {
        self.remedy = Some(remedy.into());
        self
    }
}

/// Why `observe` asked nothing: the question does not apply, or the tool cannot ask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotObserved {
    /// Nothing to ask (no site in the profile, no address for the DC): a skip.
    Skip(String),
    /// The tool cannot ask (no password, an unreadable CA file, no privilege): an error.
    Error(String),
}
