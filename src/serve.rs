//! `joinready serve`: Prometheus metrics over HTTP, in the manner of blackbox_exporter.
//! `/probe?profile=NAME` runs a preflight with NAME.toml from the profiles directory, its
//! deadline taken from the scrape's timeout; `/metrics` shows the last run of every profile
//! and the process itself.
//!
//! The HTTP side is a deliberately small HTTP/1.1 server (GET only, one request per
//! connection, bounded request size and read time): a scrape endpoint needs nothing more, and
//! it keeps a web framework out of a tool that runs on every device.

use crate::catalog::Catalog;
use crate::cli::ServeArgs;
use crate::duration::parse_duration;
use crate::preflight::{preflight, PreflightRequest};
use crate::report::prometheus::{self, Family};
use crate::report::Report;
use anyhow::Context;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// Prometheus sends its scrape timeout in this header; the probe must answer before it.
const TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";
/// Taken off the scrape timeout so the answer still reaches Prometheus in time (as
/// blackbox_exporter's default timeout offset).
const TIMEOUT_MARGIN: Duration = Duration::from_millis(500);
/// A request head larger than this is not a scrape.
const MAX_REQUEST: usize = 16 * 1024;
/// A client that has not sent its request head by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// After SIGTERM, how long answers already in progress may take before the process exits.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Profile names: letters, digits, '-', '_' and '.', not starting with '.', so that a name can
/// never leave the profiles directory.
const MAX_NAME: usize = 64;

const METRICS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

struct State {
    profiles: PathBuf,
    checks: Vec<PathBuf>,
    only: Vec<String>,
    skip: Vec<String>,
    default_timeout: Duration,
    limit: usize,
    probes: Semaphore,
    started_unix: f64,
    /// The last report of each profile, for /metrics.
    last: Mutex<BTreeMap<String, Report>>,
    /// Becomes true on SIGTERM/SIGINT: probes in flight stop and answer with what they have.
    shutdown: watch::Receiver<bool>,
}

pub fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let default_timeout = parse_duration(&args.default_timeout).context("--default-timeout")?;
    // Broken catalog files and selectors are the operator's to fix now, not at each scrape.
    let catalog = Catalog::load(&args.catalog.checks)?;
    crate::preflight::select(&catalog, &args.only, &args.skip)?;
    if !args.profiles.is_dir() {
        anyhow::bail!(
            "--profiles {}: not a directory (it holds the NAME.toml files /probe?profile=NAME runs)",
            args.profiles.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let address = listener
            .local_addr()
            .context("cannot read the listening address")?;
        // Tests and operators read the real port from here when --listen asked for port 0.
        eprintln!("joinready: listening on http://{address} (/metrics, /probe?profile=NAME)");
        let (stop, shutdown) = watch::channel(false);
        let limit = usize::from(args.max_concurrent);
        let state = Arc::new(State {
            profiles: args.profiles.clone(),
            checks: args.catalog.checks.clone(),
            only: args.only.clone(),
            skip: args.skip.clone(),
            default_timeout,
            limit,
            probes: Semaphore::new(limit),
            started_unix: unix_now(),
            last: Mutex::new(BTreeMap::new()),
            shutdown,
        });
        accept_until_signal(listener, state, stop).await
    });
    // Probe tasks abandoned at shutdown must not hold the process open.
    runtime.shutdown_background();
    result.map(|()| 0)
}

async fn accept_until_signal(
    listener: TcpListener,
    state: Arc<State>,
    stop: watch::Sender<bool>,
) -> anyhow::Result<()> {
    let terminate = terminate_signal()?;
    tokio::pin!(terminate);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let state = state.clone();
                    connections.spawn(async move { handle(stream, peer, state).await });
                }
                // Out of file descriptors and the like: keep serving, but do not spin.
                Err(error) => {
                    eprintln!("joinready: accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished connections so the set does not grow with every scrape.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = &mut terminate => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    eprintln!("joinready: shutting down");
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
    Ok(())
}

/// Resolves on SIGTERM (systemd's stop, Kubernetes' and Docker's too).
#[cfg(unix)]
fn terminate_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate =
        signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
    Ok(async move {
        terminate.recv().await;
    })
}

/// Windows has no SIGTERM; Ctrl-C (and a service stop through it) is handled separately.
#[cfg(not(unix))]
fn terminate_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(std::future::pending::<()>())
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    }
}

struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Response {
    fn text(status: u16, body: impl Into<String>) -> Response {
        let mut body = body.into();
        body.push('\n');
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    fn metrics(body: String) -> Response {
        Response {
            status: 200,
            content_type: METRICS_TYPE,
            body,
        }
    }
}

async fn handle(mut stream: TcpStream, peer: SocketAddr, state: Arc<State>) {
    let response = match tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream)).await {
        Err(_) => return,
        Ok(Err(reason)) => Response::text(400, reason),
        Ok(Ok(request)) => route(&request, &state).await,
    };
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    let written = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(response.body.as_bytes()).await?;
        stream.shutdown().await
    };
    if let Err(error) = tokio::time::timeout(READ_TIMEOUT, written)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    {
        eprintln!("joinready: cannot answer {peer}: {error}");
    }
}

/// Reads the request head (up to the blank line); a body, if any, is ignored.
async fn read_request(stream: &mut TcpStream) -> Result<Request, String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buffer.len() > MAX_REQUEST {
            return Err(format!("request head over {MAX_REQUEST} bytes"));
        }
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("cannot read the request: {e}"))?;
        if read == 0 {
            return Err("the connection closed before the request ended".to_string());
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = std::str::from_utf8(&buffer[..end]).map_err(|_| "request head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("malformed request line: {request_line}"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("unsupported protocol {version}"));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect();
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
    })
}

async fn route(request: &Request, state: &State) -> Response {
    if request.method != "GET" {
        return Response::text(405, "only GET is served");
    }
    match request.path.as_str() {
        "/metrics" => Response::metrics(metrics(state)),
        "/probe" => probe(request, state).await,
        "/" => Response::text(
            200,
            "joinready serve\n\n/metrics                the last run of each profile, and the process\n/probe?profile=NAME     run the preflight with NAME.toml from the profiles directory",
        ),
        _ => Response::text(404, format!("no page {}", request.path)),
    }
}

/// Whether `name` can only ever mean a file directly inside the profiles directory.
pub fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The probe's deadline: the scrape timeout less a margin for the answer to travel; when the
/// timeout is too short for the margin, half of it. Without the header, the default.
pub fn probe_deadline(header: Option<&str>, default: Duration) -> Result<Duration, String> {
    let Some(text) = header else {
        return Ok(default);
    };
    let seconds: f64 = text
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0)
        .ok_or_else(|| format!("{TIMEOUT_HEADER}: {text:?} is not a positive number of seconds"))?;
    // Days-long timeouts are not scrapes; capping keeps Duration arithmetic safe.
    let timeout = Duration::from_secs_f64(seconds.min(86_400.0));
    Ok(if timeout > TIMEOUT_MARGIN * 2 {
        timeout - TIMEOUT_MARGIN
    } else {
        timeout / 2
    })
}

async fn probe(request: &Request, state: &State) -> Response {
    let Some(name) = request.param("profile") else {
        return Response::text(400, "missing parameter: /probe?profile=NAME");
    };
    if !valid_profile_name(name) {
        return Response::text(
            400,
            format!("bad profile name {name:?}: use letters, digits, '-', '_' and '.' (the file NAME.toml in the profiles directory)"),
        );
    }
    let path = state.profiles.join(format!("{name}.toml"));
    if !path.is_file() {
        return Response::text(
            404,
            format!("no profile {name}: {} does not exist", path.display()),
        );
    }
    let deadline = match probe_deadline(request.header(TIMEOUT_HEADER), state.default_timeout) {
        Ok(deadline) => deadline,
        Err(reason) => return Response::text(400, reason),
    };
    let Ok(_permit) = state.probes.try_acquire() else {
        return Response::text(
            503,
            format!(
                "{} probes already running (the limit, --max-concurrent)",
                state.limit
            ),
        );
    };
    let preflight_request = PreflightRequest {
        profile: Some(path),
        checks: state.checks.clone(),
        only: state.only.clone(),
        skip: state.skip.clone(),
        deadline_cap: Some(deadline),
        ..PreflightRequest::default()
    };
    let mut shutdown = state.shutdown.clone();
    let cancel = async move {
        // A dropped sender also means shutdown.
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    match preflight(&preflight_request, cancel).await {
        Ok(report) => {
            let body = prometheus::render(&report);
            if let Ok(mut last) = state.last.lock() {
                last.insert(name.to_string(), report);
            }
            Response::metrics(body)
        }
        Err(error) => Response::text(500, format!("profile {name}: {error:#}")),
    }
}

fn metrics(state: &State) -> String {
    let mut groups: Vec<Vec<Family>> = Vec::new();
    if let Ok(last) = state.last.lock() {
        for (name, report) in last.iter() {
            let mut families = prometheus::families(report);
            prometheus::add_labels(&mut families, &[("profile", name.clone())]);
            groups.push(families);
        }
    }
    groups.push(process_families(state));
    prometheus::render_families(&prometheus::merge(groups))
}

fn gauge(name: &'static str, help: &'static str, value: Option<f64>) -> Family {
    let mut family = Family::new(name, help);
    if let Some(value) = value {
        family.push(vec![], value);
    }
    family
}

fn process_families(state: &State) -> Vec<Family> {
    let in_flight = state.limit - state.probes.available_permits().min(state.limit);
    let (resident, virtual_bytes) = memory();
    vec![
        gauge(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            Some(state.started_unix),
        ),
        gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            resident,
        ),
        gauge(
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            virtual_bytes,
        ),
        gauge(
            "joinready_probes_in_flight",
            "Probes (/probe requests) running now.",
            Some(in_flight as f64),
        ),
        gauge(
            "joinready_probes_limit",
            "How many probes may run at once (--max-concurrent); more are answered 503.",
            Some(state.limit as f64),
        ),
    ]
}

/// Resident and virtual size. Read from VmRSS and VmSize in /proc/self/status (in kB) rather
/// than /proc/self/statm, which counts pages: its page size would have to be assumed (arm64
/// kernels use 4, 16 or 64 KiB) or asked of libc. None off Linux.
fn memory() -> (Option<f64>, Option<f64>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse::<f64>().ok())
            .map(|kib| kib * 1024.0)
    };
    (kib("VmRSS:"), kib("VmSize:"))
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_cannot_leave_the_directory() {
        for good in ["corp", "branch-1", "eu_west.v2"] {
            assert!(valid_profile_name(good), "{good}");
        }
        for bad in [
            "",
            "..",
            "../etc/passwd",
            ".hidden",
            "a/b",
            "a\\b",
            "%2e%2e%2fetc",
            "name\0",
            &"x".repeat(65),
        ] {
            assert!(!valid_profile_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_scrape_timeout_header_sets_the_deadline() {
        let default = Duration::from_secs(10);
        assert_eq!(probe_deadline(None, default), Ok(default));
        assert_eq!(
            probe_deadline(Some("5"), default),
            Ok(Duration::from_millis(4500))
        );
        assert_eq!(
            probe_deadline(Some("0.8"), default),
            Ok(Duration::from_millis(400))
        );
        assert!(probe_deadline(Some("soon"), default).is_err());
        assert!(probe_deadline(Some("-1"), default).is_err());
        assert!(probe_deadline(Some("NaN"), default).is_err());
    }

    #[test]
    fn memory_is_read_from_proc() {
        let (resident, virtual_bytes) = memory();
        assert!(resident.is_some_and(|r| r > 0.0));
        assert!(virtual_bytes.is_some_and(|v| v >= resident.unwrap_or_default()));
    }
}
