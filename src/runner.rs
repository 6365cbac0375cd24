//! The runner: checks as a dependency graph on tokio. Everything that can start starts at once;
//! a check that needs another waits for it; a check whose input failed is skipped with the
//! reason; per-DC checks fan out when the DC list is known. Every check has a timeout and the
//! whole run a deadline, both of which always hold.

use crate::catalog::{CheckDef, FactKind, ForEach};
use crate::check::{self, target_label, CheckContext, Target};
use crate::duration::format_duration;
use crate::facts::{DomainController, Facts};
use crate::model::{CheckResult, Outcome, Scenario, Status};
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
    pub results: Vec<CheckResult>,
    /// Why the run stopped early (deadline, interrupted); None when every check finished.
    pub incomplete: Option<String>,
    pub dcs: Vec<DomainController>,
}

type Key = (String, String);

#[derive(Default)]
struct State {
    results: HashMap<Key, CheckResult>,
    /// None: not known yet; Some(None): no DC list will come.
    dcs: Option<Option<Vec<DomainController>>>,
    chosen_dc: Option<DomainController>,
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
}

struct Shared {
    board: Board,
    context: Arc<CheckContext>,
    options: RunOptions,
    permits: Semaphore,
    events: Option<mpsc::UnboundedSender<Event>>,
    selected: Vec<String>,
    per_target: Vec<String>,
}

impl Shared {
    fn emit(&self, event: Event) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }

    fn result(
        &self,
        def: &CheckDef,
        target: String,
        outcome: Outcome,
        duration: Duration,
    ) -> CheckResult {
        let remedy = if outcome.status == Status::Pass {
            String::new()
        } else {
            def.remedy.clone()
        };
        let (finding, evidence) = match &self.context.password {
            Some(secret) => redact(outcome.finding, outcome.evidence, secret.expose()),
            None => (outcome.finding, outcome.evidence),
        };
        CheckResult {
            id: def.id.clone(),
            area: def.area,
            title: def.title.clone(),
            target,
            status: outcome.status,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            finding,
            remedy,
            needs: def.needs.clone(),
            evidence,
        }
    }
}

/// A server may echo what it was sent (a bind error quoting the request): no result ever
/// carries the bind password, whatever a probe put into its finding or evidence.
fn redact(
    finding: String,
    mut evidence: serde_json::Value,
    secret: &str,
) -> (String, serde_json::Value) {
    if secret.is_empty() {
        return (finding, evidence);
    }
    redact_value(&mut evidence, secret);
    (finding.replace(secret, "***"), evidence)
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
            .filter(|c| c.for_each.is_some())
            .map(|c| c.id.clone())
            .collect(),
        context,
        options,
        permits: Semaphore::new(MAX_IN_FLIGHT),
        events,
    });
    if !checks.iter().any(|c| c.provides.contains(&FactKind::Dcs)) {
        shared.board.set_dcs(None);
    }

    let mut tasks = tokio::task::JoinSet::new();
    for def in checks {
        let def = Arc::new(def);
        let shared = shared.clone();
        match def.for_each {
            None => {
                let target = target_label(&def, &Target::Once, &shared.context.settings);
                shared.board.with_state(|s| {
                    s.pending
                        .insert((def.id.clone(), String::new()), (def.clone(), target))
                });
                tasks.spawn(async move { run_instance(shared, def, Target::Once).await });
            }
            Some(ForEach::VpnGateway) => {
                let kind = def.probe.vpn_kind();
                let gateways: Vec<_> = shared
                    .context
                    .settings
                    .vpn
                    .iter()
                    .filter(|gateway| Some(gateway.kind) == kind)
                    .cloned()
                    .collect();
                let irrelevant = shared.options.scenario == Scenario::OnPrem
                    && shared.context.settings.vpn.is_empty();
                if gateways.is_empty() && !irrelevant {
                    let outcome = Outcome::skip(format!(
                        "no [[vpn]] gateway of kind {} in the profile",
                        kind.map(|k| k.as_str()).unwrap_or("?")
                    ));
                    let result =
                        shared.result(&def, "(no gateway)".into(), outcome, Duration::ZERO);
                    shared
                        .board
                        .publish((def.id.clone(), "(no gateway)".into()), result);
                }
                for gateway in gateways {
                    let target = Target::VpnGateway(gateway);
                    let key = (def.id.clone(), dc_key(&target));
                    let label = target_label(&def, &target, &shared.context.settings);
                    shared
                        .board
                        .with_state(|s| s.pending.insert(key, (def.clone(), label)));
                    let (shared, def) = (shared.clone(), def.clone());
                    tasks.spawn(async move { run_instance(shared, def, target).await });
                }
            }
            Some(ForEach::Endpoint) => {
                let endpoints = selected_endpoints(&def, &shared.context.settings);
                if endpoints.is_empty() {
                    let outcome = Outcome::skip(
                        "no endpoints selected: add `[endpoints] sets = [\"autopilot\", \"hybrid-join\", \"intune\"]` or [[endpoints.extra]] to the profile",
                    );
                    let result =
                        shared.result(&def, "(no endpoint)".into(), outcome, Duration::ZERO);
                    shared
                        .board
                        .publish((def.id.clone(), "(no endpoint)".into()), result);
                }
                for endpoint in endpoints {
                    let target = Target::Endpoint(endpoint);
                    let key = (def.id.clone(), dc_key(&target));
                    let label = target_label(&def, &target, &shared.context.settings);
                    shared
                        .board
                        .with_state(|s| s.pending.insert(key, (def.clone(), label)));
                    let (shared, def) = (shared.clone(), def.clone());
                    tasks.spawn(async move { run_instance(shared, def, target).await });
                }
            }
            Some(ForEach::Dc) => {
                shared.board.with_state(|s| {
                    s.pending.insert(
                        (def.id.clone(), "*".into()),
                        (def.clone(), "(waiting for the DC list)".into()),
                    )
                });
                tasks.spawn(async move { fan_out(shared, def).await });
            }
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
                let outcome = Outcome::error(format!("not finished: {reason}"));
                results.push(shared.result(def, target.clone(), outcome, Duration::ZERO));
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
    let dcs = shared.board.wait(|state| state.dcs.clone()).await;
    let fan_key = (def.id.clone(), "*".to_string());
    match dcs {
        None => {
            let provider = "the DC list";
            let outcome = Outcome::skip(format!(
                "skipped: no domain controller to check ({provider} is empty or failed)"
            ));
            let result = shared.result(&def, "(no DC)".into(), outcome, Duration::ZERO);
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
fn selected_endpoints(
    def: &CheckDef,
    settings: &crate::profile::Settings,
) -> Vec<crate::catalog::EndpointDef> {
    let crate::catalog::Params::Endpoint(params) = &def.params else {
        return Vec::new();
    };
    let mut chosen: Vec<crate::catalog::EndpointDef> = params
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

/// The per-target part of a result's key: the DC's or the gateway's name.
fn dc_key(target: &Target) -> String {
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
        (need.to_string(), dc_key(target))
    } else {
        (need.to_string(), String::new())
    }
}

async fn run_instance(shared: Arc<Shared>, def: Arc<CheckDef>, target: Target) {
    let key = (def.id.clone(), dc_key(&target));
    let label = target_label(&def, &target, &shared.context.settings);

    if let Some(reason) = blocked_by_needs(&shared, &def, &target).await {
        let result = shared.result(&def, label, Outcome::skip(reason), Duration::ZERO);
        shared.emit(Event::Finished(Box::new(result.clone())));
        if def.provides.contains(&FactKind::Dcs) {
            shared.board.set_dcs(None);
        }
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
    let facts = shared.board.with_state(|state| Facts {
        dcs: state.dcs.clone().flatten().unwrap_or_default(),
        chosen_dc: state.chosen_dc.clone(),
    });
    let probe = check::run(&def, &target, &shared.context, &facts, started + timeout);
    let output = match tokio::time::timeout(timeout + GRACE, probe).await {
        Ok(output) => output,
        Err(_) => Outcome::error(format!(
            "the check did not finish within its timeout of {}",
            format_duration(timeout)
        ))
        .into(),
    };
    drop(permit);
    let elapsed = started.elapsed();
    if def.provides.contains(&FactKind::Dcs) {
        let usable = output.outcome.status.lets_dependents_run();
        shared.board.set_dcs(output.dcs.clone().filter(|_| usable));
    }
    if output.chosen_dc.is_some() {
        let chosen = output.chosen_dc.clone();
        shared.board.with_state(|state| state.chosen_dc = chosen);
    }
    let mut outcome = output.outcome;
    if outcome.status == Status::Fail {
        if let Some(other) = &def.downgrade_if_passed {
            outcome = downgrade(&shared, other, &target, outcome).await;
        }
    }
    if def.optional && outcome.status == Status::Fail {
        outcome.status = Status::Warn;
        outcome.finding = format!("{} (optional)", outcome.finding);
    }
    if outcome.status == Status::Fail
        && !def.required_in.is_empty()
        && !def.required_in.contains(&shared.options.scenario)
    {
        outcome.status = Status::Warn;
        outcome.finding = format!(
            "{} (not required in the {} scenario)",
            outcome.finding, shared.options.scenario
        );
    }
    if shared.options.scenario == Scenario::Vpn
        && def.corporate_network
        && matches!(outcome.status, Status::Fail | Status::Error)
    {
        outcome.status = Status::Skip;
        outcome.finding = format!(
            "expected before the VPN is up (vpn scenario): {}; a DC is still needed at the user's first sign-in",
            outcome.finding
        );
    }
    let result = shared.result(&def, label, outcome, elapsed);
    shared.emit(Event::Finished(Box::new(result.clone())));
    shared.board.publish(key, result);
}

/// A failure that another check on the same target contradicts is only a warning.
async fn downgrade(shared: &Shared, other: &str, target: &Target, outcome: Outcome) -> Outcome {
    if !shared.selected.iter().any(|id| id == other) {
        return outcome;
    }
    let key = dependency_key(shared, other, target);
    let other_status = shared
        .board
        .wait(|state| state.results.get(&key).map(|r| r.status))
        .await;
    if other_status.lets_dependents_run() {
        Outcome {
            status: Status::Warn,
            finding: format!(
                "{}, but {other} answers: the host is up and only this probe is blocked",
                outcome.finding
            ),
            evidence: outcome.evidence,
        }
    } else {
        outcome
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
        let (finding, evidence) = redact(
            "server says: bad password hunter2".into(),
            serde_json::json!({ "text": "hunter2", "nested": ["x hunter2 y"], "q": "a\"hunter2" }),
            "hunter2",
        );
        assert_eq!(finding, "server says: bad password ***");
        assert_eq!(
            evidence,
            serde_json::json!({ "text": "***", "nested": ["x *** y"], "q": "a\"***" })
        );
    }
    use crate::catalog::{Catalog, Params};
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
