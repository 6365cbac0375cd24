//! The runner: checks as a dependency graph on tokio. Everything that can start starts at once;
//! a check that needs another waits for it; a check whose input failed is skipped with the
//! reason; per-DC checks fan out when the DC list is known. Every check has a timeout and the
//! whole run a deadline, both of which always hold.

use crate::catalog::CheckDef;
use crate::check::context::{CheckContext, Inputs, Target};
use crate::check::shape::{Fact, FanOut, NotObserved};
use crate::check::{self, target_label, Evidence, Params};
use crate::duration::format_duration;
use crate::endpoints::EndpointDef;
use crate::facts::{DomainController, ProxyDiscovery};
use crate::model::{Scenario, Status};
use crate::result::CheckResult;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Notify, Semaphore};

/// Probes in flight at once: enough for hundreds of DCs, few enough for a small machine.
const MAX_IN_FLIGHT: usize = 64;
/// Time a probe may overrun its own deadline before the runner stops waiting for it.
const GRACE: Duration = Duration::from_millis(250);

/// What the progress view is told.
#[derive(Debug, Clone)]
pub enum Event {
    Started { id: String, target: String },
    Finished(Box<CheckResult>),
}

pub struct RunOptions {
    pub timeout: Duration,
    pub deadline: Duration,
    pub scenario: Scenario,
}

pub struct RunOutput {
    /// One row per check and target, as each check judged its evidence; `verdict::policy`
    /// weighs them afterwards.
    pub results: Vec<CheckResult>,
    /// Why the run stopped early (deadline, interrupted); None when every check finished.
    pub incomplete: Option<String>,
    pub dcs: Vec<DomainController>,
}

type Key = (String, String);

/// The board: every result so far, and the typed facts checks have learnt.
#[derive(Default)]
struct State {
    results: HashMap<Key, CheckResult>,
    /// None: not known yet; Some(None): no DC list will come.
    dcs: Option<Option<Vec<DomainController>>>,
    /// The DCs the per-DC checks fan out over, when a check provides them; same encoding.
    checked_dcs: Option<Option<Vec<DomainController>>>,
    chosen_dc: Option<DomainController>,
    proxy: ProxyDiscovery,
    tenant: crate::facts::TenantFacts,
    /// Instances not finished yet, to report when the deadline cuts the run short.
    pending: HashMap<Key, (Arc<CheckDef>, String)>,
}

struct Board {
    state: Mutex<State>,
    changed: Notify,
}

impl Board {
    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            // A panicking task cannot leave the map half-written in a way that matters here.
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut state)
    }

    async fn wait<T>(&self, mut ready: impl FnMut(&State) -> Option<T>) -> T {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(value) = self.with_state(|state| ready(state)) {
                return value;
            }
            notified.await;
        }
    }

    fn publish(&self, key: Key, result: CheckResult) {
        self.with_state(|state| {
            state.pending.remove(&key);
            state.results.insert(key, result);
        });
        self.changed.notify_waiters();
    }

    fn set_dcs(&self, dcs: Option<Vec<DomainController>>) {
        self.with_state(|state| {
            if state.dcs.is_none() {
                state.dcs = Some(dcs.filter(|list| !list.is_empty()));
            }
        });
        self.changed.notify_waiters();
    }

    fn set_checked_dcs(&self, dcs: Option<Vec<DomainController>>) {
        self.with_state(|state| {
            if state.checked_dcs.is_none() {
                state.checked_dcs = Some(dcs.filter(|list| !list.is_empty()));
            }
        });
        self.changed.notify_waiters();
    }

    /// The facts a check reads, as they stand once its needs are met.
    fn inputs(&self) -> Inputs {
        self.with_state(|state| Inputs {
            dcs: state.dcs.clone().flatten().unwrap_or_default(),
            chosen_dc: state.chosen_dc.clone(),
            proxy: state.proxy.clone(),
            tenant: state.tenant.clone(),
        })
    }
}

struct Shared {
    board: Board,
    context: Arc<CheckContext>,
    options: RunOptions,
    permits: Semaphore,
    events: Option<mpsc::UnboundedSender<Event>>,
    selected: Vec<String>,
    per_target: Vec<String>,
    /// Whether a selected check provides the DCs to check; else per-DC checks take every DC.
    fans_over_checked: bool,
    /// Every result's `started_ms` counts from here.
    run_started: Instant,
}

impl Shared {
    fn emit(&self, event: Event) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }

    fn row(
        &self,
        def: &CheckDef,
        target: String,
        status: Status,
        finding: String,
        evidence: Option<Evidence>,
        duration: Duration,
    ) -> CheckResult {
        let remedy = if status == Status::Pass {
            String::new()
        } else {
            def.remedy.clone()
        };
        let (finding, evidence) = match &self.context.password {
            Some(secret) => redact(finding, evidence, secret.expose()),
            None => (finding, evidence),
        };
        CheckResult {
            id: def.id.clone(),
            area: def.area,
            title: def.title.clone(),
            target,
            status,
            // A row is made the moment its check ends, so now minus its duration is its start.
            started_ms: u64::try_from(
                self.run_started
                    .elapsed()
                    .saturating_sub(duration)
                    .as_millis(),
            )
            .unwrap_or(u64::MAX),
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            finding,
            remedy,
            needs: def.needs.clone(),
            cut_short: false,
            evidence,
        }
    }

    fn skip(&self, def: &CheckDef, target: String, reason: String) -> CheckResult {
        self.row(def, target, Status::Skip, reason, None, Duration::ZERO)
    }
}

/// A server may echo what it was sent (a bind error quoting the request): no result ever
/// carries the bind password, whatever a probe put into its finding or evidence.
fn redact(finding: String, evidence: Option<Evidence>, secret: &str) -> (String, Option<Evidence>) {
    if secret.is_empty() {
        return (finding, evidence);
    }
    let evidence = evidence.and_then(|evidence| {
        let mut value = serde_json::to_value(&evidence).ok()?;
        if !contains(&value, secret) {
            return Some(evidence);
        }
        redact_value(&mut value, secret);
        // Evidence with a redacted string is still well-formed evidence; should it not read
        // back, dropping it beats leaking the secret.
        serde_json::from_value(value).ok()
    });
    (finding.replace(secret, "***"), evidence)
}

fn contains(value: &serde_json::Value, secret: &str) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains(secret),
        serde_json::Value::Array(items) => items.iter().any(|v| contains(v, secret)),
        serde_json::Value::Object(map) => map.values().any(|v| contains(v, secret)),
        _ => false,
    }
}

fn redact_value(value: &mut serde_json::Value, secret: &str) {
    match value {
        serde_json::Value::String(text) if text.contains(secret) => {
            *text = text.replace(secret, "***");
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, secret)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_value(v, secret)),
        _ => {}
    }
}

/// Runs `checks` (already selected, in catalog order) until all finish, the deadline passes,
/// or `cancel` completes.
pub async fn run(
    checks: Vec<CheckDef>,
    context: Arc<CheckContext>,
    options: RunOptions,
    events: Option<mpsc::UnboundedSender<Event>>,
    cancel: impl Future<Output = ()>,
) -> RunOutput {
    let deadline = options.deadline;
    // Armed before any check starts: a check can then never outlive the deadline merely
    // because it was spawned before the deadline's timer was created.
    let deadline_reached = tokio::time::sleep(deadline);
    let order: Vec<String> = checks.iter().map(|c| c.id.clone()).collect();
    let shared = Arc::new(Shared {
        board: Board {
            state: Mutex::new(State::default()),
            changed: Notify::new(),
        },
        selected: order.clone(),
        per_target: checks
            .iter()
            .filter(|c| c.fan_out() != FanOut::Once)
            .map(|c| c.id.clone())
            .collect(),
        fans_over_checked: checks
            .iter()
            .any(|c| c.provides.contains(&Fact::CheckedDcs)),
        context,
        options,
        permits: Semaphore::new(MAX_IN_FLIGHT),
        events,
        run_started: Instant::now(),
    });
    if !checks.iter().any(|c| c.provides.contains(&Fact::Dcs)) {
        shared.board.set_dcs(None);
    }

    let mut tasks = tokio::task::JoinSet::new();
    for def in checks {
        let def = Arc::new(def);
        let shared = shared.clone();
        let settings = shared.context.settings.clone();
        let targets: Vec<Target> = match def.fan_out() {
            FanOut::Once => vec![Target::Once],
            FanOut::Dc => {
                shared.board.with_state(|s| {
                    s.pending.insert(
                        (def.id.clone(), "*".into()),
                        (def.clone(), "(waiting for the DC list)".into()),
                    )
                });
                tasks.spawn(async move { fan_out(shared, def).await });
                continue;
            }
            FanOut::VpnGateway => {
                let kind = def.kind.vpn_kind();
                let gateways: Vec<Target> = settings
                    .vpn
                    .iter()
                    .filter(|gateway| Some(gateway.kind) == kind)
                    .cloned()
                    .map(Target::VpnGateway)
                    .collect();
                let irrelevant =
                    shared.options.scenario == Scenario::OnPrem && settings.vpn.is_empty();
                if gateways.is_empty() && !irrelevant {
                    let reason = format!(
                        "no [[vpn]] gateway of kind {} in the profile",
                        kind.map(|k| k.as_str()).unwrap_or("?")
                    );
                    let result = shared.skip(&def, "(no gateway)".into(), reason);
                    shared
                        .board
                        .publish((def.id.clone(), "(no gateway)".into()), result);
                }
                gateways
            }
            FanOut::Endpoint => {
                let endpoints = selected_endpoints(&def, &settings);
                if endpoints.is_empty() {
                    let result = shared.skip(
                        &def,
                        "(no endpoint)".into(),
                        "no endpoints selected: add `[endpoints] sets = [\"autopilot\", \"hybrid-join\", \"intune\"]` or [[endpoints.extra]] to the profile".to_string(),
                    );
                    shared
                        .board
                        .publish((def.id.clone(), "(no endpoint)".into()), result);
                }
                endpoints.into_iter().map(Target::Endpoint).collect()
            }
        };
        for target in targets {
            let key = (def.id.clone(), target_key(&target));
            let label = target_label(&def.params, &target, &settings);
            shared
                .board
                .with_state(|s| s.pending.insert(key, (def.clone(), label)));
            let (shared, def) = (shared.clone(), def.clone());
            tasks.spawn(async move { run_instance(shared, def, target).await });
        }
    }

    let all_done = async { while tasks.join_next().await.is_some() {} };
    // Biased, deadline first: on a loaded machine the run may be polled only after both the
    // deadline and the last check have come; the deadline then decides, not a coin toss.
    let incomplete = tokio::select! {
        biased;
        _ = deadline_reached => Some(format!("the run's deadline of {} was reached", format_duration(deadline))),
        _ = cancel => Some("interrupted".to_string()),
        _ = all_done => None,
    };
    tasks.abort_all();
    // Every check may have finished in the same instant the deadline came: then nothing is
    // missing and the run is complete.
    let incomplete =
        incomplete.filter(|_| shared.board.with_state(|state| !state.pending.is_empty()));

    let (mut results, dcs) = shared.board.with_state(|state| {
        let mut results: Vec<CheckResult> = state.results.values().cloned().collect();
        if let Some(reason) = &incomplete {
            for (def, target) in state.pending.values() {
                let mut row = shared.row(
                    def,
                    target.clone(),
                    Status::Error,
                    format!("not finished: {reason}"),
                    None,
                    Duration::ZERO,
                );
                row.cut_short = true;
                results.push(row);
            }
        }
        (results, state.dcs.clone().flatten().unwrap_or_default())
    });
    let dc_rank: HashMap<&str, usize> = dcs
        .iter()
        .enumerate()
        .map(|(i, dc)| (dc.hostname.as_str(), i))
        .collect();
    let check_rank: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    results.sort_by(|a, b| {
        let rank = |r: &CheckResult| {
            (
                check_rank.get(r.id.as_str()).copied().unwrap_or(usize::MAX),
                dc_rank
                    .get(r.target.as_str())
                    .copied()
                    .unwrap_or(usize::MAX),
                r.target.clone(),
            )
        };
        rank(a).cmp(&rank(b))
    });
    RunOutput {
        results,
        incomplete,
        dcs,
    }
}

async fn fan_out(shared: Arc<Shared>, def: Arc<CheckDef>) {
    let dcs = if shared.fans_over_checked {
        shared.board.wait(|state| state.checked_dcs.clone()).await
    } else {
        shared.board.wait(|state| state.dcs.clone()).await
    };
    let fan_key = (def.id.clone(), "*".to_string());
    match dcs {
        None => {
            let result = shared.skip(
                &def,
                "(no DC)".into(),
                "skipped: no domain controller to check (the DC list is empty or failed)"
                    .to_string(),
            );
            shared.emit(Event::Finished(Box::new(result.clone())));
            shared.board.publish(fan_key, result);
        }
        Some(list) => {
            shared.board.with_state(|state| {
                state.pending.remove(&fan_key);
                for dc in &list {
                    state.pending.insert(
                        (def.id.clone(), dc.hostname.clone()),
                        (def.clone(), dc.hostname.clone()),
                    );
                }
            });
            let instances = list
                .into_iter()
                .map(|dc| run_instance(shared.clone(), def.clone(), Target::Dc(dc)));
            futures::future::join_all(instances).await;
        }
    }
}

/// The catalog's endpoints of the sets the profile chose, then the profile's own; an extra
/// endpoint that the catalog already lists is run once.
fn selected_endpoints(def: &CheckDef, settings: &crate::profile::Settings) -> Vec<EndpointDef> {
    let Params::Endpoint(params) = &def.params else {
        return Vec::new();
    };
    let mut chosen: Vec<EndpointDef> = params
        .endpoints
        .iter()
        .filter(|e| e.sets.iter().any(|s| settings.endpoints.sets.contains(s)))
        .cloned()
        .collect();
    for extra in &settings.endpoints.extra {
        if !chosen
            .iter()
            .any(|e| e.host == extra.host && e.port == extra.port)
        {
            chosen.push(extra.clone());
        }
    }
    chosen
}

/// The per-target part of a result's key.
fn target_key(target: &Target) -> String {
    match target {
        Target::Once => String::new(),
        Target::Dc(dc) => dc.hostname.clone(),
        Target::VpnGateway(gateway) => format!("vpn:{}", gateway.host),
        Target::Endpoint(endpoint) => format!("endpoint:{}:{}", endpoint.host, endpoint.port),
    }
}

/// The key a dependency's result is stored under, seen from `target`.
fn dependency_key(shared: &Shared, need: &str, target: &Target) -> Key {
    if shared.per_target.iter().any(|id| id == need) {
        (need.to_string(), target_key(target))
    } else {
        (need.to_string(), String::new())
    }
}

async fn run_instance(shared: Arc<Shared>, def: Arc<CheckDef>, target: Target) {
    let key = (def.id.clone(), target_key(&target));
    let label = target_label(&def.params, &target, &shared.context.settings);

    if let Some(reason) = blocked_by_needs(&shared, &def, &target).await {
        let result = shared.skip(&def, label, reason);
        shared.emit(Event::Finished(Box::new(result.clone())));
        forget_facts(&shared, &def);
        shared.board.publish(key, result);
        return;
    }

    let permit = shared.permits.acquire().await;
    shared.emit(Event::Started {
        id: def.id.clone(),
        target: label.clone(),
    });
    let started = Instant::now();
    let timeout = shared.options.timeout;
    let inputs = shared.board.inputs();
    let observing = check::observe(
        &def.params,
        &def.provides,
        &target,
        &shared.context,
        &inputs,
        started + timeout,
    );
    let observed = match tokio::time::timeout(timeout + GRACE, observing).await {
        Ok(observed) => observed,
        Err(_) => Err(NotObserved::Error(format!(
            "the check did not finish within its timeout of {}",
            format_duration(timeout)
        ))),
    };
    drop(permit);
    let elapsed = started.elapsed();
    let result = match observed {
        Ok(observation) => {
            let judgement = check::judge(&def.params, &observation.evidence);
            publish_facts(&shared, &def, &observation, judgement.status);
            let mut row = shared.row(
                &def,
                label,
                judgement.status,
                judgement.finding,
                Some(observation.evidence),
                elapsed,
            );
            if let (Some(remedy), false) = (judgement.remedy, row.remedy.is_empty()) {
                row.remedy = remedy;
            }
            row
        }
        Err(not) => {
            forget_facts(&shared, &def);
            let (status, finding) = match not {
                NotObserved::Skip(reason) => (Status::Skip, reason),
                NotObserved::Error(reason) => (Status::Error, reason),
            };
            shared.row(&def, label, status, finding, None, elapsed)
        }
    };
    shared.emit(Event::Finished(Box::new(result.clone())));
    shared.board.publish(key, result);
}

/// Puts the facts this check declares it provides on the board. A DC list that failed its
/// judgement is no list: the per-DC checks are then skipped, not run against half an answer.
fn publish_facts(
    shared: &Shared,
    def: &CheckDef,
    observation: &check::Observation,
    status: Status,
) {
    if def.provides.contains(&Fact::Dcs) {
        let usable = status.lets_dependents_run();
        shared
            .board
            .set_dcs(observation.dcs.clone().filter(|_| usable));
    }
    // The DCs to check come even when the locator fails: the deep checks then say why.
    if def.provides.contains(&Fact::CheckedDcs) {
        shared
            .board
            .set_checked_dcs(observation.checked_dcs.clone());
    }
    if def.provides.contains(&Fact::ChosenDc) {
        if let Some(chosen) = &observation.chosen_dc {
            let chosen = chosen.clone();
            shared
                .board
                .with_state(|state| state.chosen_dc = Some(chosen));
        }
    }
    if def.provides.contains(&Fact::ProxyRoute) {
        if let Some(proxy) = &observation.proxy {
            let proxy = proxy.clone();
            shared.board.with_state(|state| state.proxy = proxy);
        }
    }
    let tenant = &observation.tenant;
    let learnt = crate::facts::TenantFacts {
        tenant_id: tenant
            .tenant_id
            .clone()
            .filter(|_| def.provides.contains(&Fact::TenantId)),
        registration_scp: tenant
            .registration_scp
            .clone()
            .filter(|_| def.provides.contains(&Fact::RegistrationScp)),
        user_realm: tenant
            .user_realm
            .clone()
            .filter(|_| def.provides.contains(&Fact::UserRealm)),
    };
    shared.board.with_state(|state| state.tenant.merge(learnt));
}

/// A check that asked nothing provides nothing: the checks waiting for its lists stop waiting.
fn forget_facts(shared: &Shared, def: &CheckDef) {
    if def.provides.contains(&Fact::Dcs) {
        shared.board.set_dcs(None);
    }
    if def.provides.contains(&Fact::CheckedDcs) {
        shared.board.set_checked_dcs(None);
    }
}

/// Waits for the checks `def` needs; Some(reason) when one of them did not pass.
async fn blocked_by_needs(shared: &Shared, def: &CheckDef, target: &Target) -> Option<String> {
    for need in &def.needs {
        if !shared.selected.iter().any(|id| id == need) {
            return Some(format!(
                "skipped: needs {need}, which is not selected (--only/--skip)"
            ));
        }
        let key = dependency_key(shared, need, target);
        let status = shared
            .board
            .wait(|state| state.results.get(&key).map(|r| r.status))
            .await;
        if !status.lets_dependents_run() {
            return Some(format!(
                "skipped: needs {need}, which did not pass ({status})"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bind_password_is_redacted_from_findings_and_evidence() {
        let evidence = Evidence::LdapBind(check::ldap_bind::Evidence {
            address: "127.0.0.1:389".parse().unwrap(),
            transport: crate::probe::ldap::Transport::Plain,
            user: Some("svc".into()),
            reach: crate::model::Reach::Open,
            error: Some("server says: hunter2".into()),
            result_code: Some(49),
            server_message: Some("a\"hunter2 and hunter2".into()),
            tls: None,
            bind_ms: None,
        });
        let (finding, evidence) = redact(
            "server says: bad password hunter2".into(),
            Some(evidence),
            "hunter2",
        );
        assert_eq!(finding, "server says: bad password ***");
        let Some(Evidence::LdapBind(bind)) = evidence else {
            panic!("the evidence survives redaction: {evidence:?}")
        };
        assert_eq!(bind.error.as_deref(), Some("server says: ***"));
        assert_eq!(bind.server_message.as_deref(), Some("a\"*** and ***"));
        assert_eq!(bind.result_code, Some(49));
    }
    use crate::catalog::Catalog;
    use crate::profile::{LoadedProfile, Overrides, Settings};

    fn settings(text: &str) -> Settings {
        let profile = LoadedProfile::parse(std::path::Path::new("p.toml"), text.into()).unwrap();
        Settings::resolve(Some(&profile), &Overrides::default(), || None).unwrap()
    }

    #[test]
    fn endpoints_fan_out_over_the_chosen_sets_then_the_profiles_own() {
        let catalog = Catalog::load(&[]).unwrap();
        let def = catalog.get("endpoints.reach").unwrap();
        let Params::Endpoint(params) = &def.params else {
            panic!("endpoint params")
        };
        let none = selected_endpoints(def, &settings("domain = \"a.test\"\n"));
        assert!(none.is_empty(), "no set chosen, no endpoint");
        let chosen = selected_endpoints(
            def,
            &settings("domain = \"a.test\"\n[endpoints]\nsets = [\"hybrid-join\"]\n[[endpoints.extra]]\nurl = \"https://sts.a.test/adfs/ls/\"\n[[endpoints.extra]]\nurl = \"https://login.microsoftonline.com/\"\n"),
        );
        let in_set = params
            .endpoints
            .iter()
            .filter(|e| e.sets.iter().any(|s| s == "hybrid-join"))
            .count();
        // The extra that the set already lists runs once; the other one comes last.
        assert_eq!(chosen.len(), in_set + 1);
        assert_eq!(chosen.last().unwrap().host, "sts.a.test");
        assert!(chosen.iter().all(|e| e.host != "manage.microsoft.com"));
    }
}
