//! `ldap.connector`: the Intune Connector for Active Directory as it really runs. Its account
//! (the profile's `[connector] account`, else every `msaODJ*` managed service account) has no
//! password anyone knows, so nothing binds as it: the profile's `[ldap]` account, any domain
//! user, only reads. It finds the account, its SID and its groups' SIDs, reads the OU's DACL
//! and decides "Create Computer objects" as Windows would (`crate::access`).

use super::context::{CheckContext, Inputs};
use super::shape::{Fact, FanOut, Judgement, KindSpec, NotObserved};
use crate::access::{may_create_computer, well_known, Decision, TokenSid};
use crate::probe::ldap::{
    bind_session, read_entry, search, values_bytes, values_text, BindRequest, LdapError,
};
use crate::wire::security_descriptor::SecurityDescriptor;
use crate::wire::sid::{filter_escape, Sid};
use ldap3::controls::RawControl;
use ldap3::Scope;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Instant;

pub const SPEC: KindSpec = KindSpec {
    name: "ldap.connector",
    fan_out: FanOut::Once,
    needs: &[Fact::ChosenDc],
    can_provide: &[],
    needs_password: true,
    summary:
        "the Intune Connector's account and its right to create computers, read from the OU's ACL",
};

/// LDAP_SERVER_SD_FLAGS_OID with `SEQUENCE { INTEGER 4 }`: the DACL only, which any
/// authenticated user may read (the owner, group and SACL need more).
const SD_FLAGS_OID: &str = "1.2.840.113556.1.4.801";
const SD_FLAGS_DACL: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x04];
/// wellKnownObjects GUID of the default computers container (MS-ADTS 6.1.1.4).
const COMPUTERS_CONTAINER_GUID: &str = "AA312825768811D1ADED00C04FD8D5CD";
/// More than a domain has connectors; a larger answer is cut and said so.
const MAX_ACCOUNTS: usize = 20;
/// Groups followed through memberOf, and how deep, when tokenGroups is not readable.
const MAX_GROUPS: usize = 200;
const MAX_DEPTH: usize = 10;
/// Computers counted against the quota; the quota is far smaller in any sane domain.
const MAX_CREATED: usize = 1000;

#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub question: Question,
    #[serde(default = "default_ldap_port")]
    pub ldap_port: u16,
    #[serde(default = "default_ldaps_port")]
    pub ldaps_port: u16,
}

fn default_ldap_port() -> u16 {
    389
}

fn default_ldaps_port() -> u16 {
    636
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ConnectorQuestion")]
pub enum Question {
    /// The connector's account exists; its SID, groups and server.
    Account,
    /// It may create computer objects in the OU.
    Rights,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "ConnectorStage")]
pub enum Stage {
    Bind,
    Read,
}

/// Where the OU came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OuSource {
    Profile,
    /// No `ou` in the profile: the Domain Join profile's empty OU means the default computers
    /// container (wellKnownObjects).
    DefaultComputersContainer,
}

/// How the account's group SIDs were learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupSource {
    /// The DC's own expansion of every nested group.
    TokenGroups,
    /// tokenGroups was not readable: memberOf followed group by group.
    MemberOf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorAccount")]
pub struct Account {
    pub name: String,
    pub dn: String,
    pub sid: Option<Sid>,
    pub managed_service_account: bool,
    pub computer: bool,
    /// msDS-HostServiceAccountBL: the servers it is installed on.
    pub hosts: Vec<String>,
    pub groups_from: GroupSource,
    /// Every SID the account's token holds, and how.
    pub token: Vec<TokenSid>,
    pub groups_truncated: bool,
    pub decision: Option<Decision>,
    /// Computers whose mS-DS-CreatorSID is this account (what the quota counts).
    pub created_computers: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "ConnectorEvidence")]
pub struct Evidence {
    pub question: Question,
    pub dc: String,
    /// The account that read; it needs no rights on the OU.
    pub reader: String,
    pub failed_at: Option<Stage>,
    pub error: Option<String>,
    /// The account the profile names; None: every msaODJ* managed service account.
    pub named_account: Option<String>,
    pub accounts: Vec<Account>,
    pub accounts_truncated: bool,
    pub ou: Option<String>,
    pub ou_source: Option<OuSource>,
    /// Why the profile's OU is not a value the Domain Join profile accepts.
    pub ou_problem: Option<String>,
    pub ou_exists: Option<bool>,
    pub descriptor_error: Option<String>,
    pub ace_count: Option<usize>,
    pub machine_account_quota: Option<u32>,
}

/// The Domain Join profile's rules for its OU (memdocs windows-autopilot-hybrid): no
/// CN=Computers (leave the field empty instead), DC= components required, no quotes.
pub fn check_ou_value(ou: &str, domain: &str) -> Result<(), String> {
    let dc_part: String = domain
        .split('.')
        .map(|label| format!("DC={label}"))
        .collect::<Vec<_>>()
        .join(",");
    if ou.contains(['"', '\'', '\u{201c}', '\u{201d}']) {
        let bare: String = ou
            .chars()
            .filter(|c| !matches!(c, '"' | '\'' | '\u{201c}' | '\u{201d}'))
            .collect();
        return Err(format!(
            "the OU `{ou}` has quotes, which the Domain Join profile does not accept: write `{}`",
            bare.trim()
        ));
    }
    let components: Vec<&str> = ou.split(',').map(str::trim).collect();
    if components
        .iter()
        .any(|c| c.replace(' ', "").eq_ignore_ascii_case("CN=Computers"))
    {
        return Err(format!(
            "the OU `{ou}` is the default Computers container, which the Domain Join profile rejects: leave its OU field empty (and remove `ou` from this profile) to use CN=Computers, or name an OU such as `OU=Autopilot,{dc_part}`"
        ));
    }
    let has_dc = components
        .iter()
        // `get`, not `[..3]`: a component may start with a multi-byte character.
        .any(|c| c.len() > 3 && c.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("DC=")));
    if !has_dc {
        return Err(format!(
            "the OU `{ou}` has no DC= components, which the Domain Join profile requires: write the full distinguished name, `{ou},{dc_part}`"
        ));
    }
    Ok(())
}

pub async fn observe(
    params: &Params,
    inputs: &Inputs,
    context: &CheckContext,
    deadline: Instant,
) -> Result<Evidence, NotObserved> {
    let settings = &context.settings;
    let Some(connector) = &settings.connector else {
        return Err(NotObserved::Skip(
            "no [connector] in the profile (ldap.ou_create_computer checks the bind account instead)".to_string(),
        ));
    };
    let Some(dc) = &inputs.chosen_dc else {
        return Err(NotObserved::Skip(
            "no DC was chosen by the DC locator".to_string(),
        ));
    };
    let (Some(user), Some(password)) = (&settings.ldap.bind_user, &context.password) else {
        return Err(NotObserved::Skip(
            "needs [ldap] bind_user (any domain account: it only reads the directory) and its password".to_string(),
        ));
    };
    let Some(address) = dc.address() else {
        return Err(NotObserved::Skip(format!(
            "DNS gave no address for {}",
            dc.hostname
        )));
    };
    let mut evidence = Evidence {
        question: params.question,
        dc: dc.hostname.clone(),
        reader: user.clone(),
        failed_at: None,
        error: None,
        named_account: connector.account.clone(),
        accounts: Vec::new(),
        accounts_truncated: false,
        ou: None,
        ou_source: None,
        ou_problem: None,
        ou_exists: None,
        descriptor_error: None,
        ace_count: None,
        machine_account_quota: None,
    };
    if params.question == Question::Rights {
        if let Some(ou) = &settings.ou {
            evidence.ou = Some(ou.clone());
            evidence.ou_source = Some(OuSource::Profile);
            if let Err(problem) = check_ou_value(ou, &settings.domain) {
                evidence.ou_problem = Some(problem);
                return Ok(evidence);
            }
        }
    }
    let trust = context.trust().await.map_err(NotObserved::Error)?;
    let (transport, port) =
        super::ldap_bind::transport(settings.ldap.tls, params.ldap_port, params.ldaps_port);
    let request = BindRequest {
        address: SocketAddr::new(address, port),
        hostname: &dc.hostname,
        transport,
        credentials: Some((user.as_str(), password.expose())),
        trust,
    };
    let mut ldap = match bind_session(request, deadline).await {
        Ok((ldap, _)) => ldap,
        Err(error) => {
            evidence.failed_at = Some(Stage::Bind);
            evidence.error = Some(error.to_string());
            return Ok(evidence);
        }
    };
    let mut reader = Reader {
        ldap: &mut ldap,
        port,
        deadline,
    };
    let asked = reader.ask(&mut evidence).await;
    let _ = ldap.unbind().await;
    if let Err(error) = asked {
        evidence.failed_at = Some(Stage::Read);
        evidence.error = Some(error.to_string());
    }
    if params.question == Question::Rights
        && evidence.failed_at.is_none()
        && evidence.accounts.is_empty()
    {
        return Err(NotObserved::Skip(
            "the connector's account was not found (see ldap.connector_account)".to_string(),
        ));
    }
    Ok(evidence)
}

/// One group to read while following memberOf: its DN, how the account is in it, how deep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStep {
    pub dn: String,
    pub via: String,
    pub depth: usize,
}

/// memberOf followed breadth-first from the account, as tokenGroups would expand it, bounded
/// in groups and depth and safe against membership cycles. Only the bookkeeping: the caller
/// reads each group, so the walk is testable without a directory.
#[derive(Debug, Default)]
pub struct GroupWalk {
    queue: std::collections::VecDeque<GroupStep>,
    visited: HashSet<String>,
    /// A bound cut the walk short: some groups were not read.
    pub truncated: bool,
}

impl GroupWalk {
    pub fn new(member_of: Vec<String>) -> GroupWalk {
        GroupWalk {
            queue: member_of
                .into_iter()
                .map(|dn| GroupStep {
                    via: format!("member of {dn}"),
                    dn,
                    depth: 1,
                })
                .collect(),
            ..GroupWalk::default()
        }
    }

    /// The next group not read yet; None when done or at the bound.
    pub fn next_group(&mut self) -> Option<GroupStep> {
        while let Some(step) = self.queue.pop_front() {
            if !self.visited.insert(step.dn.to_ascii_lowercase()) {
                continue;
            }
            if self.visited.len() > MAX_GROUPS {
                self.truncated = true;
                return None;
            }
            return Some(step);
        }
        None
    }

    /// The groups the group of `step` is itself a member of.
    pub fn read(&mut self, step: &GroupStep, member_of: Vec<String>) {
        if member_of.is_empty() {
            return;
        }
        if step.depth >= MAX_DEPTH {
            self.truncated = true;
            return;
        }
        for outer in member_of {
            self.queue.push_back(GroupStep {
                via: format!("member of {outer} through {}", step.dn),
                dn: outer,
                depth: step.depth + 1,
            });
        }
    }
}

struct Reader<'a> {
    ldap: &'a mut ldap3::Ldap,
    port: u16,
    deadline: Instant,
}

impl Reader<'_> {
    async fn ask(&mut self, evidence: &mut Evidence) -> Result<(), LdapError> {
        let root = read_entry(
            self.ldap,
            "",
            &["defaultNamingContext"],
            self.port,
            self.deadline,
        )
        .await?
        .unwrap_or_default();
        let head = root
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("defaultNamingContext"))
            .and_then(|(_, v)| v.first().cloned())
            .unwrap_or_default();
        let filter = match &evidence.named_account {
            Some(name) => format!("(sAMAccountName={})", ldap3::ldap_escape(name.as_str())),
            None => {
                "(&(objectClass=msDS-ManagedServiceAccount)(sAMAccountName=msaODJ*))".to_string()
            }
        };
        let found = search(
            self.ldap,
            &head,
            Scope::Subtree,
            &filter,
            &[
                "sAMAccountName",
                "objectSid",
                "objectClass",
                "msDS-HostServiceAccountBL",
                "memberOf",
            ],
            Vec::new(),
            MAX_ACCOUNTS,
            self.port,
            self.deadline,
        )
        .await?;
        evidence.accounts_truncated = found.truncated;
        for entry in &found.entries {
            let classes = values_text(entry, "objectClass");
            let has = |class: &str| classes.iter().any(|c| c.eq_ignore_ascii_case(class));
            let sid = values_bytes(entry, "objectSid")
                .first()
                .and_then(|b| Sid::from_bytes(b).ok());
            let mut account = Account {
                name: values_text(entry, "sAMAccountName")
                    .into_iter()
                    .next()
                    .unwrap_or_default(),
                dn: entry.dn.clone(),
                sid: sid.clone(),
                managed_service_account: has("msDS-ManagedServiceAccount"),
                computer: has("computer"),
                hosts: values_text(entry, "msDS-HostServiceAccountBL"),
                groups_from: GroupSource::TokenGroups,
                token: Vec::new(),
                groups_truncated: false,
                decision: None,
                created_computers: None,
            };
            if let Some(sid) = &sid {
                account.token = well_known(sid, account.computer);
                self.groups(&mut account, values_text(entry, "memberOf"))
                    .await?;
            }
            evidence.accounts.push(account);
        }
        if evidence.question == Question::Rights && !evidence.accounts.is_empty() {
            self.rights(evidence, &head).await?;
        }
        Ok(())
    }

    /// The account's group SIDs: tokenGroups when the reader may read it, else memberOf
    /// followed breadth-first, bounded in groups and depth.
    async fn groups(
        &mut self,
        account: &mut Account,
        member_of: Vec<String>,
    ) -> Result<(), LdapError> {
        let token_groups = search(
            self.ldap,
            &account.dn,
            Scope::Base,
            "(objectClass=*)",
            &["tokenGroups"],
            Vec::new(),
            1,
            self.port,
            self.deadline,
        )
        .await;
        let sids: Vec<Sid> = match &token_groups {
            Ok(found) => found
                .entries
                .first()
                .map(|e| values_bytes(e, "tokenGroups"))
                .unwrap_or_default()
                .iter()
                .filter_map(|b| Sid::from_bytes(b).ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut seen: HashSet<Sid> = account.token.iter().map(|t| t.sid.clone()).collect();
        if !sids.is_empty() {
            account.groups_from = GroupSource::TokenGroups;
            for sid in sids {
                if seen.insert(sid.clone()) {
                    account.token.push(TokenSid {
                        via: format!(
                            "member of {}",
                            sid.well_known_name().unwrap_or("a group (tokenGroups)")
                        ),
                        sid,
                    });
                }
            }
            return Ok(());
        }
        account.groups_from = GroupSource::MemberOf;
        let mut walk = GroupWalk::new(member_of);
        while let Some(step) = walk.next_group() {
            let found = search(
                self.ldap,
                &step.dn,
                Scope::Base,
                "(objectClass=*)",
                &["objectSid", "memberOf"],
                Vec::new(),
                1,
                self.port,
                self.deadline,
            )
            .await?;
            let Some(entry) = found.entries.first() else {
                continue;
            };
            if let Some(sid) = values_bytes(entry, "objectSid")
                .first()
                .and_then(|b| Sid::from_bytes(b).ok())
            {
                if seen.insert(sid.clone()) {
                    account.token.push(TokenSid {
                        sid,
                        via: step.via.clone(),
                    });
                }
            }
            walk.read(&step, values_text(entry, "memberOf"));
        }
        account.groups_truncated = walk.truncated;
        Ok(())
    }

    async fn rights(&mut self, evidence: &mut Evidence, head: &str) -> Result<(), LdapError> {
        let domain = read_entry(
            self.ldap,
            head,
            &["wellKnownObjects", "ms-DS-MachineAccountQuota"],
            self.port,
            self.deadline,
        )
        .await?
        .unwrap_or_default();
        let value = |name: &str| {
            domain
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .flat_map(|(_, v)| v.iter().cloned())
                .collect::<Vec<_>>()
        };
        evidence.machine_account_quota = value("ms-DS-MachineAccountQuota")
            .first()
            .and_then(|q| q.trim().parse().ok());
        if evidence.ou.is_none() {
            // B:32:<GUID>:<DN>
            evidence.ou = value("wellKnownObjects").iter().find_map(|v| {
                let mut parts = v.splitn(4, ':');
                let (_, _, guid, dn) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
                guid.eq_ignore_ascii_case(COMPUTERS_CONTAINER_GUID)
                    .then(|| dn.to_string())
            });
            evidence.ou_source = Some(OuSource::DefaultComputersContainer);
        }
        let Some(ou) = evidence.ou.clone() else {
            evidence.descriptor_error = Some(format!(
                "{head} names no default computers container in wellKnownObjects"
            ));
            return Ok(());
        };
        let control = RawControl {
            ctype: SD_FLAGS_OID.to_string(),
            crit: true,
            val: Some(SD_FLAGS_DACL.to_vec()),
        };
        let found = search(
            self.ldap,
            &ou,
            Scope::Base,
            "(objectClass=*)",
            &["nTSecurityDescriptor"],
            vec![control],
            1,
            self.port,
            self.deadline,
        )
        .await?;
        if found.no_such_object {
            evidence.ou_exists = Some(false);
            return Ok(());
        }
        evidence.ou_exists = Some(!found.entries.is_empty());
        let Some(bytes) = found
            .entries
            .first()
            .and_then(|e| values_bytes(e, "nTSecurityDescriptor").into_iter().next())
        else {
            evidence.descriptor_error = Some(format!(
                "the DC returned no nTSecurityDescriptor for {ou} to {}",
                evidence.reader
            ));
            return Ok(());
        };
        let descriptor = match SecurityDescriptor::decode(&bytes) {
            Ok(descriptor) => descriptor,
            Err(error) => {
                evidence.descriptor_error = Some(error.to_string());
                return Ok(());
            }
        };
        evidence.ace_count = descriptor.dacl.as_ref().map(|d| d.aces.len());
        for account in &mut evidence.accounts {
            let mut decision = may_create_computer(descriptor.dacl.as_ref(), &account.token);
            if let Some(matched) = &mut decision.matched {
                if matched.via.ends_with("(tokenGroups)") {
                    if let Some(name) = self.name_of(head, &matched.sid).await? {
                        matched.via = format!("member of {name}");
                    }
                }
            }
            if !decision.granted {
                if let Some(sid) = &account.sid {
                    let filter = format!(
                        "(&(objectClass=computer)(mS-DS-CreatorSID={}))",
                        filter_escape(&sid.to_bytes())
                    );
                    let created = search(
                        self.ldap,
                        head,
                        Scope::Subtree,
                        &filter,
                        &["1.1"],
                        Vec::new(),
                        MAX_CREATED,
                        self.port,
                        self.deadline,
                    )
                    .await?;
                    account.created_computers = Some(created.entries.len());
                }
            }
            account.decision = Some(decision);
        }
        Ok(())
    }

    /// The DN of the object with `sid`, to name the group an ACE matched through.
    async fn name_of(&mut self, head: &str, sid: &Sid) -> Result<Option<String>, LdapError> {
        let found = search(
            self.ldap,
            head,
            Scope::Subtree,
            &format!("(objectSid={})", filter_escape(&sid.to_bytes())),
            &["1.1"],
            Vec::new(),
            1,
            self.port,
            self.deadline,
        )
        .await?;
        Ok(found.entries.first().map(|e| e.dn.clone()))
    }
}

fn describe(account: &Account) -> String {
    let kind = match (account.managed_service_account, account.computer) {
        (true, _) => "managed service account",
        (false, true) => "computer account",
        (false, false) => "account",
    };
    let sid = account
        .sid
        .as_ref()
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    // A server's DN by its name: CN=CONNECTOR01,CN=Computers,… → CONNECTOR01.
    let hosts: Vec<&str> = account
        .hosts
        .iter()
        .map(|dn| {
            dn.split(',')
                .next()
                .and_then(|rdn| rdn.split_once('='))
                .map_or(dn.as_str(), |(_, name)| name)
        })
        .collect();
    let on = if hosts.is_empty() {
        String::new()
    } else {
        format!(", installed on {}", hosts.join(", "))
    };
    let sids = account.token.len().saturating_sub(1);
    let from = match account.groups_from {
        GroupSource::TokenGroups => "tokenGroups",
        GroupSource::MemberOf => "memberOf",
    };
    let cut = if account.groups_truncated {
        ", the first ones only"
    } else {
        ""
    };
    format!(
        "{} ({kind}{sid}{on}; {sids} group and well-known SIDs in its token from {from}{cut})",
        account.name
    )
}

pub fn judge(_params: &Params, evidence: &Evidence) -> Judgement {
    let on = &evidence.dc;
    let reader = &evidence.reader;
    if let Some(problem) = &evidence.ou_problem {
        return Judgement::fail(problem.clone());
    }
    match (evidence.failed_at, &evidence.error) {
        (Some(Stage::Bind), Some(error)) => {
            return Judgement::fail(format!(
                "cannot read the directory on {on} as {reader}: {error}"
            ))
        }
        (Some(_), Some(error)) => {
            return Judgement::fail(format!(
                "reading the directory on {on} as {reader} failed: {error}"
            ))
        }
        _ => {}
    }
    match evidence.question {
        Question::Account => judge_account(evidence),
        Question::Rights => judge_rights(evidence),
    }
}

fn judge_account(evidence: &Evidence) -> Judgement {
    let on = &evidence.dc;
    if evidence.accounts.is_empty() {
        return Judgement::fail(match &evidence.named_account {
            Some(name) => format!(
                "no account {name} in the domain (searched on {on} as {}): the Intune Connector cannot run as it",
                evidence.reader
            ),
            None => format!(
                "no managed service account named msaODJ* in the domain (searched on {on}): no Intune Connector 6.2501 or later is installed"
            ),
        })
        .with_remedy(match &evidence.named_account {
            Some(_) => "Set [connector] account to the account the \"Intune ODJ Connector Service\" runs as on the connector server (services.msc, Log On As): msaODJ#####$ for connector 6.2501 and later, the server's computer account (NAME$) for older ones.".to_string(),
            None => "Install or update the Intune Connector for Active Directory (6.2501.2000.5 or later; older versions no longer process enrollments): it creates its msaODJ##### account. If it runs as another account, name it in [connector] account.".to_string(),
        });
    }
    let described: Vec<String> = evidence.accounts.iter().map(describe).collect();
    let unhosted: Vec<&str> = evidence
        .accounts
        .iter()
        .filter(|a| a.managed_service_account && a.hosts.is_empty())
        .map(|a| a.name.as_str())
        .collect();
    let cut = if evidence.accounts_truncated {
        format!(" (only the first {MAX_ACCOUNTS} read)")
    } else {
        String::new()
    };
    if !unhosted.is_empty() && unhosted.len() == evidence.accounts.len() {
        return Judgement::warn(format!(
            "{}{cut}: installed on no server (msDS-HostServiceAccountBL is empty), so no connector runs as it",
            described.join("; ")
        ))
        .with_remedy("Reinstall the Intune Connector for Active Directory on its server (it links the managed service account to that server), or name the account the running connector uses in [connector] account.");
    }
    Judgement::pass(format!("{}{cut}", described.join("; ")))
}

fn judge_rights(evidence: &Evidence) -> Judgement {
    let ou = evidence.ou.as_deref().unwrap_or("(no OU)");
    let reader = &evidence.reader;
    let on = &evidence.dc;
    if evidence.ou_exists == Some(false) {
        return Judgement::fail(format!(
            "{ou} does not exist (read on {on}): the Intune Connector cannot create the computer object there"
        ))
        .with_remedy("Create the OU, or correct the Domain Join profile's OU (and `ou` in this profile) to its exact distinguished name.");
    }
    if let Some(error) = &evidence.descriptor_error {
        return Judgement::error(format!(
            "cannot read the permissions of {ou} as {reader} on {on}: {error}"
        ))
        .with_remedy("Bind as an ordinary domain account ([ldap] bind_user): any authenticated user may read an OU's DACL.");
    }
    let default_container = evidence.ou_source == Some(OuSource::DefaultComputersContainer);
    let mut granted = Vec::new();
    let mut refused = Vec::new();
    for account in &evidence.accounts {
        let Some(decision) = &account.decision else {
            continue;
        };
        if decision.granted {
            granted.push(grant_text(account, decision, ou));
        } else {
            refused.push((account, decision));
        }
    }
    if refused.is_empty() {
        return Judgement::pass(granted.join("; "));
    }
    let mut findings = Vec::new();
    let mut remedies = Vec::new();
    let mut quota_allows = true;
    for (account, decision) in &refused {
        let why = match (&decision.ace, &decision.matched) {
            (Some(ace), Some(matched)) => format!(
                "denied by {ace}{} ({})",
                if decision.inherited {
                    " (inherited)"
                } else {
                    ""
                },
                matched.via
            ),
            _ => "no ACE grants it \"Create Computer objects\"".to_string(),
        };
        findings.push(format!(
            "{} may not create computer objects in {ou}: {why}",
            account.name
        ));
        let (quota_text, allows) = quota(account, evidence.machine_account_quota);
        quota_allows &= allows;
        let deny = match (&decision.ace, &decision.matched) {
            (Some(ace), Some(matched)) => format!(
                "First remove the deny ACE {ace} ({}) or move the grant to an account it does not cover: a deny ahead of the allow wins. ",
                matched.via
            ),
            _ => String::new(),
        };
        remedies.push(format!(
            "{deny}Give {name} \"Create Computer objects\" on {ou}, applied to \"This object only\": Active Directory Users and Computers (View > Advanced Features) > the OU > Properties > Security > Advanced > Add > principal {name} (object types: Service Accounts, Computers) > Applies to: This object only > Create Computer objects; or on a domain member: dsacls \"{ou}\" /G \"{name}:CC;computer\". The ACE to expect: (OA;;CC;{class};;{sid}). Then list the OU in the connector's ODJConnectorEnrollmentWizard.exe.config (OrganizationalUnitsUsedForOfflineDomainJoin) and restart the Intune ODJ Connector Service. {quota_text}",
            name = account.name,
            class = crate::access::COMPUTER_CLASS,
            sid = account.sid.as_ref().map(Sid::to_string).unwrap_or_default(),
        ));
    }
    let finding = format!(
        "{}{}",
        findings.join("; "),
        if granted.is_empty() {
            String::new()
        } else {
            format!("; {}", granted.join("; "))
        }
    );
    // The default container without a grant still takes joins while the quota lasts.
    let judgement = if default_container && quota_allows {
        Judgement::warn(format!(
            "{finding}: joins there rely on the machine account quota until it runs out"
        ))
    } else {
        Judgement::fail(format!(
            "{finding}: the hybrid join's computer object cannot be created (connector event 30132, the device fails with 0x80070774)"
        ))
    };
    judgement.with_remedy(remedies.join(" "))
}

fn grant_text(account: &Account, decision: &Decision, ou: &str) -> String {
    let name = &account.name;
    if decision.null_dacl {
        return format!(
            "{name} may create computer objects in {ou}: the OU has no DACL, which grants everyone everything"
        );
    }
    format!(
        "{name} may create computer objects in {ou}: granted by {}{} ({})",
        decision.ace.as_deref().unwrap_or_default(),
        if decision.inherited {
            " (inherited)"
        } else {
            ""
        },
        decision
            .matched
            .as_ref()
            .map(|m| m.via.as_str())
            .unwrap_or_default()
    )
}

/// What the machine account quota still allows the account, and whether it allows any join.
fn quota(account: &Account, quota: Option<u32>) -> (String, bool) {
    let created = account.created_computers;
    match (quota, created) {
        (Some(0), _) => (
            "Without the grant no join works: ms-DS-MachineAccountQuota is 0.".to_string(),
            false,
        ),
        (Some(quota), Some(created)) if created >= quota as usize => (
            format!(
                "Without the grant joins stop in the default Computers container too: {} created {created} computers (mS-DS-CreatorSID), the ms-DS-MachineAccountQuota of {quota}.",
                account.name
            ),
            false,
        ),
        (Some(quota), Some(created)) => (
            format!(
                "Until then joins work only in the default Computers container, through the machine account quota: {} created {created} of the {quota} computers ms-DS-MachineAccountQuota allows.",
                account.name
            ),
            true,
        ),
        _ => (
            "The machine account quota could not be read.".to_string(),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_values_follow_the_domain_join_profile_rules() {
        let domain = "corp.example.com";
        assert_eq!(
            check_ou_value("OU=Autopilot,DC=corp,DC=example,DC=com", domain),
            Ok(())
        );
        let cases = [
            (
                "\"OU=Autopilot,DC=corp,DC=example,DC=com\"",
                "has quotes, which the Domain Join profile does not accept: write `OU=Autopilot,DC=corp,DC=example,DC=com`",
            ),
            (
                "CN=Computers,DC=corp,DC=example,DC=com",
                "is the default Computers container, which the Domain Join profile rejects: leave its OU field empty",
            ),
            (
                "OU=Autopilot",
                "has no DC= components, which the Domain Join profile requires: write the full distinguished name, `OU=Autopilot,DC=corp,DC=example,DC=com`",
            ),
        ];
        for (ou, expected) in cases {
            let error = check_ou_value(ou, domain).unwrap_err();
            assert!(error.contains(expected), "{ou}: {error}");
        }
    }

    #[test]
    fn filter_values_are_escaped() {
        assert_eq!(ldap3::ldap_escape("a*(b)\\"), "a\\2a\\28b\\29\\5c");
    }

    fn account(decision: Option<Decision>, created: Option<usize>) -> Account {
        let sid = Sid::parse("S-1-5-21-1-2-3-1109").unwrap();
        Account {
            name: "msaODJ10001$".to_string(),
            dn: "CN=msaODJ10001,CN=Managed Service Accounts,DC=corp,DC=example,DC=com".to_string(),
            token: well_known(&sid, true),
            sid: Some(sid),
            managed_service_account: true,
            computer: true,
            hosts: vec!["CN=CONNECTOR01,CN=Computers,DC=corp,DC=example,DC=com".to_string()],
            groups_from: GroupSource::TokenGroups,
            groups_truncated: false,
            decision,
            created_computers: created,
        }
    }

    fn evidence(question: Question, accounts: Vec<Account>) -> Evidence {
        Evidence {
            question,
            dc: "dc2.corp.example.com".to_string(),
            reader: "reader@corp.example.com".to_string(),
            failed_at: None,
            error: None,
            named_account: Some("msaODJ10001$".to_string()),
            accounts,
            accounts_truncated: false,
            ou: Some("OU=Autopilot,DC=corp,DC=example,DC=com".to_string()),
            ou_source: Some(OuSource::Profile),
            ou_problem: None,
            ou_exists: Some(true),
            descriptor_error: None,
            ace_count: Some(20),
            machine_account_quota: Some(10),
        }
    }

    fn params(question: Question) -> Params {
        Params {
            question,
            ldap_port: 389,
            ldaps_port: 636,
        }
    }

    const GRANT: &str = "(OA;;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-1-2-3-1108)";

    fn decision(granted: bool, ace: Option<&str>, via: &str) -> Decision {
        Decision {
            granted,
            ace: ace.map(str::to_string),
            ace_index: ace.map(|_| 0),
            inherited: false,
            matched: ace.map(|_| TokenSid {
                sid: Sid::parse("S-1-5-21-1-2-3-1108").unwrap(),
                via: via.to_string(),
            }),
            null_dacl: false,
        }
    }

    #[test]
    fn a_grant_passes_naming_the_ace_and_the_group() {
        let e = evidence(
            Question::Rights,
            vec![account(
                Some(decision(true, Some(GRANT), "member of CN=outer")),
                None,
            )],
        );
        let j = judge(&params(Question::Rights), &e);
        assert_eq!(j.status, crate::model::Status::Pass);
        assert_eq!(
            j.finding,
            format!("msaODJ10001$ may create computer objects in OU=Autopilot,DC=corp,DC=example,DC=com: granted by {GRANT} (member of CN=outer)")
        );
    }

    #[test]
    fn no_grant_fails_naming_account_ou_right_and_the_exact_delegation() {
        let e = evidence(
            Question::Rights,
            vec![account(Some(decision(false, None, "")), Some(3))],
        );
        let j = judge(&params(Question::Rights), &e);
        assert_eq!(j.status, crate::model::Status::Fail);
        assert!(
            j.finding.starts_with("msaODJ10001$ may not create computer objects in OU=Autopilot,DC=corp,DC=example,DC=com: no ACE grants it \"Create Computer objects\""),
            "{}",
            j.finding
        );
        let remedy = j.remedy.unwrap();
        for part in [
            "Give msaODJ10001$ \"Create Computer objects\" on OU=Autopilot,DC=corp,DC=example,DC=com, applied to \"This object only\"",
            "dsacls \"OU=Autopilot,DC=corp,DC=example,DC=com\" /G \"msaODJ10001$:CC;computer\"",
            "(OA;;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-1-2-3-1109)",
            "msaODJ10001$ created 3 of the 10 computers ms-DS-MachineAccountQuota allows",
        ] {
            assert!(remedy.contains(part), "{part}\n{remedy}");
        }
    }

    #[test]
    fn a_deny_is_named_with_how_to_undo_it_and_an_exhausted_quota_said() {
        let deny = "(OD;;CC;bf967a86-0de6-11d0-a285-00aa003049e2;;S-1-5-21-1-2-3-1108)";
        let e = evidence(
            Question::Rights,
            vec![account(
                Some(decision(false, Some(deny), "member of CN=outer")),
                Some(10),
            )],
        );
        let j = judge(&params(Question::Rights), &e);
        assert_eq!(j.status, crate::model::Status::Fail);
        assert!(
            j.finding
                .contains(&format!("denied by {deny} (member of CN=outer)")),
            "{}",
            j.finding
        );
        let remedy = j.remedy.unwrap();
        assert!(
            remedy.starts_with(&format!("First remove the deny ACE {deny}")),
            "{remedy}"
        );
        assert!(
            remedy.contains(
                "created 10 computers (mS-DS-CreatorSID), the ms-DS-MachineAccountQuota of 10"
            ),
            "{remedy}"
        );
    }

    #[test]
    fn the_default_container_without_a_grant_warns_while_the_quota_lasts() {
        let mut e = evidence(
            Question::Rights,
            vec![account(Some(decision(false, None, "")), Some(2))],
        );
        e.ou = Some("CN=Computers,DC=corp,DC=example,DC=com".to_string());
        e.ou_source = Some(OuSource::DefaultComputersContainer);
        assert_eq!(
            judge(&params(Question::Rights), &e).status,
            crate::model::Status::Warn
        );
        e.machine_account_quota = Some(0);
        assert_eq!(
            judge(&params(Question::Rights), &e).status,
            crate::model::Status::Fail
        );
    }

    #[test]
    fn a_bad_ou_value_and_a_missing_ou_fail_with_what_to_write() {
        let mut e = evidence(Question::Rights, vec![]);
        e.ou_problem = Some(check_ou_value("OU=Autopilot", "corp.example.com").unwrap_err());
        let j = judge(&params(Question::Rights), &e);
        assert_eq!(j.status, crate::model::Status::Fail);
        assert!(
            j.finding
                .contains("`OU=Autopilot,DC=corp,DC=example,DC=com`"),
            "{}",
            j.finding
        );
        let mut e = evidence(Question::Rights, vec![account(None, None)]);
        e.ou_exists = Some(false);
        let j = judge(&params(Question::Rights), &e);
        assert!(
            j.finding
                .starts_with("OU=Autopilot,DC=corp,DC=example,DC=com does not exist"),
            "{}",
            j.finding
        );
    }

    #[test]
    fn accounts_are_described_and_missing_or_unhosted_ones_named() {
        let e = evidence(Question::Account, vec![account(None, None)]);
        let j = judge(&params(Question::Account), &e);
        assert_eq!(j.status, crate::model::Status::Pass);
        assert_eq!(
            j.finding,
            "msaODJ10001$ (managed service account S-1-5-21-1-2-3-1109, installed on CONNECTOR01; 3 group and well-known SIDs in its token from tokenGroups)"
        );
        let mut unhosted = account(None, None);
        unhosted.hosts.clear();
        let j = judge(
            &params(Question::Account),
            &evidence(Question::Account, vec![unhosted]),
        );
        assert_eq!(j.status, crate::model::Status::Warn);
        assert!(
            j.finding.contains("installed on no server"),
            "{}",
            j.finding
        );
        let j = judge(
            &params(Question::Account),
            &evidence(Question::Account, vec![]),
        );
        assert_eq!(j.status, crate::model::Status::Fail);
        assert!(
            j.finding
                .starts_with("no account msaODJ10001$ in the domain"),
            "{}",
            j.finding
        );
        let mut e = evidence(Question::Account, vec![]);
        e.named_account = None;
        let j = judge(&params(Question::Account), &e);
        assert!(
            j.finding
                .starts_with("no managed service account named msaODJ*"),
            "{}",
            j.finding
        );
    }

    /// A directory as a map: group DN → the groups it is a member of.
    fn walk(start: &[&str], directory: &[(&str, &[&str])]) -> (Vec<GroupStep>, bool) {
        let mut walk = GroupWalk::new(start.iter().map(|s| s.to_string()).collect());
        let mut read = Vec::new();
        while let Some(step) = walk.next_group() {
            let outer = directory
                .iter()
                .find(|(dn, _)| dn.eq_ignore_ascii_case(&step.dn))
                .map(|(_, outer)| outer.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default();
            walk.read(&step, outer);
            read.push(step);
        }
        (read, walk.truncated)
    }

    #[test]
    fn member_of_is_followed_through_nesting_and_cycles_within_bounds() {
        let (read, truncated) = walk(
            &["CN=inner"],
            &[
                ("CN=inner", &["CN=outer"]),
                ("CN=outer", &["CN=INNER", "CN=top"]),
            ],
        );
        let vias: Vec<&str> = read.iter().map(|s| s.via.as_str()).collect();
        assert_eq!(
            vias,
            [
                "member of CN=inner",
                "member of CN=outer through CN=inner",
                "member of CN=top through CN=outer"
            ]
        );
        assert!(!truncated, "a cycle is not a cut");

        // A chain deeper than MAX_DEPTH stops there and says so.
        let names: Vec<String> = (0..30).map(|i| format!("CN=g{i}")).collect();
        let links: Vec<(String, Vec<String>)> = (0..29)
            .map(|i| (names[i].clone(), vec![names[i + 1].clone()]))
            .collect();
        let directory: Vec<(&str, Vec<&str>)> = links
            .iter()
            .map(|(dn, outer)| (dn.as_str(), outer.iter().map(String::as_str).collect()))
            .collect();
        let directory: Vec<(&str, &[&str])> = directory
            .iter()
            .map(|(dn, outer)| (*dn, outer.as_slice()))
            .collect();
        let (read, truncated) = walk(&["CN=g0"], &directory);
        assert_eq!(read.len(), MAX_DEPTH);
        assert!(truncated);

        // More groups than MAX_GROUPS: the first ones only, and said so.
        let many: Vec<String> = (0..MAX_GROUPS + 50).map(|i| format!("CN=m{i}")).collect();
        let start: Vec<&str> = many.iter().map(String::as_str).collect();
        let (read, truncated) = walk(&start, &[]);
        assert_eq!(read.len(), MAX_GROUPS);
        assert!(truncated);
    }
}
