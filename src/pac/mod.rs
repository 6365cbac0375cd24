//! The PAC engine: a proxy auto-config script run in QuickJS (rquickjs) with the standard
//! helpers and Microsoft's Ex set, inside limits a hostile script cannot escape: CPU time (the
//! interrupt handler, which QuickJS also calls from inside its regex engine), memory (the
//! runtime's allocation limit) and stack.
//!
//! DNS never blocks the runtime: the helpers answer from names resolved beforehand. A run that
//! asks for a name not resolved yet gets null/false, the names are resolved asynchronously, and
//! the script runs again with the answers — at most `MAX_DNS_ROUNDS` times.

use rquickjs::{CatchResultExt, CaughtError, Context, Function, Runtime};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HELPERS: &str = include_str!("helpers.js");

/// Runs of the script while it keeps asking for names not resolved yet.
pub const MAX_DNS_ROUNDS: usize = 3;
/// Names one run may ask for; more is hostile (or broken).
const MAX_NAMES: usize = 32;

/// What a PAC script may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub cpu: Duration,
    pub memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu: Duration::from_millis(1000),
            memory: 32 * 1024 * 1024,
        }
    }
}

#[derive(
    Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PacError {
    #[error("{file}:{}{}: {message}", line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()), column.map(|c| format!(":{c}")).unwrap_or_default())]
    Script {
        file: String,
        message: String,
        line: Option<u32>,
        column: Option<u32>,
    },
    #[error("the PAC script ran longer than its CPU limit of {} ms and was stopped (an endless loop or a catastrophic regular expression)", .limit_ms)]
    CpuLimit { limit_ms: u64 },
    #[error("the PAC script used more than its memory limit of {} MiB and was stopped", .limit_bytes / (1024 * 1024))]
    MemoryLimit { limit_bytes: usize },
    #[error("the PAC script defines no function FindProxyForURL(url, host)")]
    NoFunction,
    #[error("FindProxyForURL returned {value}, not a string such as \"PROXY proxy:3128; DIRECT\"")]
    NotString { value: String },
    #[error("the PAC script asked for more than {MAX_NAMES} DNS names in one run")]
    TooManyNames,
    #[error("the JavaScript engine failed: {message}")]
    Engine { message: String },
}

/// What the helpers know about this device and its DNS.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// myIpAddress(); the address this device uses toward its DNS server.
    pub my_ip: Option<IpAddr>,
    /// myIpAddressEx().
    pub my_ips: Vec<IpAddr>,
    /// Answers resolved so far; an empty list means "does not resolve".
    pub dns: BTreeMap<String, Vec<IpAddr>>,
    /// The clock the date and time helpers read, in ms since the epoch.
    pub now_ms: f64,
}

impl Environment {
    pub fn now() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or_default()
    }
}

/// One run: the result or the names the script asked for that are not resolved yet.
#[derive(Debug)]
pub struct Run {
    pub result: String,
    pub unresolved: Vec<String>,
}

fn ip_list(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

fn prefer_v4(ips: &[IpAddr]) -> Option<IpAddr> {
    ips.iter()
        .find(|ip| ip.is_ipv4())
        .or_else(|| ips.first())
        .copied()
}

/// isInNetEx: `prefix` is "10.0.0.0/8" or "2001:db8::/32".
fn in_net_ex(ip: IpAddr, prefix: &str) -> bool {
    let Some((network, bits)) = prefix.split_once('/') else {
        return false;
    };
    let (Ok(network), Ok(bits)) = (network.trim().parse::<IpAddr>(), bits.trim().parse::<u32>())
    else {
        return false;
    };
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

/// sortIpAddressList: IPv6 first, then IPv4, each ascending; "" when an element is no address.
fn sort_ips(list: &str) -> String {
    let parsed: Result<Vec<IpAddr>, _> = list
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse::<IpAddr>)
        .collect();
    match parsed {
        Ok(mut ips) if !ips.is_empty() => {
            ips.sort_by_key(|ip| (ip.is_ipv4(), *ip));
            ip_list(&ips)
        }
        _ => String::new(),
    }
}

/// The line and column of an error from QuickJS's stack ("at f (wpad.dat:3:12)").
fn locate(stack: &str, file: &str) -> (Option<u32>, Option<u32>) {
    let needle = format!("{file}:");
    let Some(at) = stack.find(&needle) else {
        return (None, None);
    };
    let mut numbers = stack[at + needle.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .take(2)
        .map(|n| n.parse::<u32>().ok());
    let line = numbers.next().flatten();
    let column = numbers.next().flatten();
    (line, column)
}

/// Runs `FindProxyForURLEx` (when defined, as Windows does) or `FindProxyForURL` once.
/// Blocking: call it from `spawn_blocking`.
pub fn run_once(
    source: &str,
    file: &str,
    url: &str,
    host: &str,
    env: &Environment,
    limits: Limits,
) -> Result<Run, PacError> {
    let engine = |e: rquickjs::Error| PacError::Engine {
        message: e.to_string(),
    };
    let runtime = Runtime::new().map_err(engine)?;
    runtime.set_memory_limit(limits.memory);
    runtime.set_max_stack_size(256 * 1024);
    let stop_at = Instant::now() + limits.cpu;
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let over = Instant::now() >= stop_at;
        if over {
            flag.store(true, Ordering::Relaxed);
        }
        over
    })));
    let context = Context::full(&runtime).map_err(engine)?;
    let asked: Rc<RefCell<Vec<String>>> = Rc::new(RefCell::new(Vec::new()));
    let outcome = context.with(|ctx| -> Result<String, PacError> {
        let caught = |error: CaughtError<'_>| -> PacError {
            if interrupted.load(Ordering::Relaxed) {
                return PacError::CpuLimit {
                    limit_ms: u64::try_from(limits.cpu.as_millis()).unwrap_or(u64::MAX),
                };
            }
            let (message, stack) = match &error {
                CaughtError::Exception(exception) => (
                    exception.message().unwrap_or_default(),
                    exception.stack().unwrap_or_default(),
                ),
                CaughtError::Value(value) => (
                    value
                        .as_string()
                        .and_then(|s| s.to_string().ok())
                        .unwrap_or_else(|| format!("{value:?}")),
                    String::new(),
                ),
                CaughtError::Error(rquickjs::Error::Allocation) => {
                    return PacError::MemoryLimit {
                        limit_bytes: limits.memory,
                    }
                }
                CaughtError::Error(other) => (other.to_string(), String::new()),
            };
            if message.contains("out of memory") {
                return PacError::MemoryLimit {
                    limit_bytes: limits.memory,
                };
            }
            let (line, column) = locate(&stack, file);
            let message = if message.is_empty() {
                "uncaught exception".to_string()
            } else {
                message.chars().take(300).collect()
            };
            PacError::Script {
                file: file.to_string(),
                message,
                line,
                column,
            }
        };
        let globals = ctx.globals();
        let dns = env.dns.clone();
        let asked_dns = asked.clone();
        let lookup = move |host: &str| -> Option<Vec<IpAddr>> {
            if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
                return Some(vec![ip]);
            }
            let key = host.trim_end_matches('.').to_ascii_lowercase();
            match dns.get(&key) {
                Some(ips) => Some(ips.clone()),
                None => {
                    let mut asked = asked_dns.borrow_mut();
                    if !asked.contains(&key) {
                        asked.push(key);
                    }
                    None
                }
            }
        };
        let lookup = Rc::new(lookup);
        let first = lookup.clone();
        let resolve = Function::new(ctx.clone(), move |host: String| -> Option<String> {
            first(&host)
                .and_then(|ips| prefer_v4(&ips))
                .map(|ip| ip.to_string())
        })
        .map_err(engine)?;
        globals.set("__jr_dns", resolve).map_err(engine)?;
        let all = lookup.clone();
        let resolve_ex = Function::new(ctx.clone(), move |host: String| -> String {
            all(&host).map(|ips| ip_list(&ips)).unwrap_or_default()
        })
        .map_err(engine)?;
        globals.set("__jr_dns_ex", resolve_ex).map_err(engine)?;
        let net = lookup;
        let in_net = Function::new(ctx.clone(), move |ip: String, prefix: String| -> bool {
            net(&ip)
                .and_then(|ips| ips.first().copied())
                .is_some_and(|ip| in_net_ex(ip, &prefix))
        })
        .map_err(engine)?;
        globals.set("__jr_in_net_ex", in_net).map_err(engine)?;
        let sort = Function::new(ctx.clone(), |list: String| -> String { sort_ips(&list) })
            .map_err(engine)?;
        globals.set("__jr_sort_ips", sort).map_err(engine)?;
        globals
            .set(
                "__jr_my_ip",
                env.my_ip
                    .map(|ip| ip.to_string())
                    .unwrap_or_else(|| "127.0.0.1".to_string()),
            )
            .map_err(engine)?;
        globals
            .set("__jr_my_ips", ip_list(&env.my_ips))
            .map_err(engine)?;
        globals.set("__jr_now_ms", env.now_ms).map_err(engine)?;
        ctx.eval::<(), _>(HELPERS)
            .catch(&ctx)
            .map_err(|e| PacError::Engine {
                message: format!("helpers: {}", caught(e)),
            })?;
        let mut options = rquickjs::context::EvalOptions::default();
        options.global = true;
        options.strict = false;
        options.filename = Some(file.to_string());
        ctx.eval_with_options::<(), _>(source, options)
            .catch(&ctx)
            .map_err(caught)?;
        let function: Function = ["FindProxyForURLEx", "FindProxyForURL"]
            .iter()
            .find_map(|name| globals.get::<_, Function>(*name).ok())
            .ok_or(PacError::NoFunction)?;
        let value: rquickjs::Value = function
            .call((url.to_string(), host.to_string()))
            .catch(&ctx)
            .map_err(caught)?;
        match value.as_string() {
            Some(text) => text.to_string().map_err(engine),
            None => Err(PacError::NotString {
                value: format!("{value:?}").chars().take(80).collect(),
            }),
        }
    });
    let unresolved = asked.borrow().clone();
    if unresolved.len() > MAX_NAMES {
        return Err(PacError::TooManyNames);
    }
    outcome.map(|result| Run { result, unresolved })
}

/// What the PAC decided for one URL and the DNS answers it used.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub result: String,
    /// name → addresses ("" when it did not resolve), as the script saw them.
    pub dns: BTreeMap<String, Vec<IpAddr>>,
    pub runs: usize,
    pub ms: f64,
}

/// Runs the script for `url`, resolving the names it asks for with `resolve` between runs.
pub async fn find_proxy<F, Fut>(
    source: Arc<str>,
    file: &str,
    url: &str,
    host: &str,
    mut env: Environment,
    limits: Limits,
    resolve: F,
) -> Result<Decision, PacError>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Vec<IpAddr>>,
{
    let started = Instant::now();
    for round in 1..=MAX_DNS_ROUNDS {
        let (source, file_name, url_owned, host_owned, snapshot) = (
            source.clone(),
            file.to_string(),
            url.to_string(),
            host.to_string(),
            env.clone(),
        );
        let run = tokio::task::spawn_blocking(move || {
            run_once(
                &source,
                &file_name,
                &url_owned,
                &host_owned,
                &snapshot,
                limits,
            )
        })
        .await
        .map_err(|e| PacError::Engine {
            message: e.to_string(),
        })??;
        if run.unresolved.is_empty() || round == MAX_DNS_ROUNDS {
            return Ok(Decision {
                result: run.result,
                dns: env.dns,
                runs: round,
                ms: crate::probe::tcp::millis(started.elapsed()),
            });
        }
        let answers =
            futures::future::join_all(run.unresolved.iter().map(|name| resolve(name.clone())))
                .await;
        for (name, ips) in run.unresolved.into_iter().zip(answers) {
            env.dns.insert(name, ips);
        }
    }
    Err(PacError::Engine {
        message: "no run of the script".to_string(),
    })
}

#[cfg(test)]
mod tests;
