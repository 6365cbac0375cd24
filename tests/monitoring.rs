//! Monitoring outputs, each checked by the real tool that consumes it: the JSON report against
//! `joinready schema` (a JSON Schema validator), `--format prometheus` with promtool,
//! `--format junit` with xmllint and a JUnit XML schema, `serve` over HTTP, and a real
//! Prometheus server scraping `serve` and answering through its HTTP API.
//!
//! These need no test environment: the preflight is aimed at a DNS server of the test's own on
//! 127.0.0.1 that answers every query REFUSED (or never answers), which makes a full NOT READY
//! report. Everything listens and connects on loopback only. promtool, xmllint and prometheus
//! come from Debian packages (prometheus, libxml2-utils) that fixtures/testenv/install.sh
//! installs: the tests that use them are `#[ignore]`d with that reason, and when run
//! (`cargo test -- --include-ignored`, as fixtures/test-all.sh does) a missing tool fails them.

// The harness re-exports what the end-to-end tests use; these tests need only part of it
// (tests/support/mod.rs allows that for every test binary).
mod support;

use joinready::report::Report;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::assert_matches_schema;

const BIN: &str = env!("CARGO_BIN_EXE_joinready");
/// Areas whose checks could aim at hosts named by the profile or built-in lists rather than at
/// the DCs the (loopback) DNS server names; skipped so that nothing leaves loopback, even once
/// such checks exist.
const STAY_LOCAL: [&str; 4] = ["--skip", "proxy", "--skip", "endpoints"];

/// A DNS server on 127.0.0.1 that answers every query REFUSED, or, `silent`, never answers.
/// It stops when dropped, and after two minutes at the latest.
struct LoopbackDns {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl LoopbackDns {
    fn start(silent: bool) -> LoopbackDns {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback UDP port");
        let address = socket.local_addr().expect("local address");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("read timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(120);
            let mut buffer = [0u8; 1500];
            while !stopped.load(Ordering::Relaxed) && Instant::now() < until {
                let Ok((length, peer)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                if silent || length < 12 {
                    continue;
                }
                let mut answer = buffer[..length].to_vec();
                answer[2] |= 0x80; // QR: a response
                answer[3] = (answer[3] & 0xf0) | 5; // RCODE 5: REFUSED
                let _ = socket.send_to(&answer, peer);
            }
        });
        LoopbackDns { address, stop }
    }
}

impl Drop for LoopbackDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A Debian tool the test needs; missing, it fails the test (only ignored tests call this).
fn tool(path: &str, package: &str) -> PathBuf {
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "{} is missing: install the Debian package {package} (as root: \
         `bash fixtures/testenv/install.sh`); a plain `cargo test` leaves this test out as ignored",
        path.display()
    );
    path
}

fn joinready(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .expect("run joinready")
}

fn refused_run_args<'a>(dns: &'a str, format: &'a str) -> Vec<&'a str> {
    let mut args = vec![
        "run",
        "--domain",
        "corp.jr.test",
        "--dns-server",
        dns,
        "--timeout",
        "1s",
        "--deadline",
        "5s",
        "--format",
        format,
    ];
    args.extend_from_slice(&STAY_LOCAL);
    args
}

#[test]
fn a_refusing_dns_server_gives_a_full_not_ready_report_that_matches_the_schema() {
    let dns = LoopbackDns::start(false);
    let server = dns.address.to_string();
    let output = joinready(&refused_run_args(&server, "json"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_matches_schema(&stdout);
    let report: Report = serde_json::from_str(&stdout).expect("one report");
    let root = report.verdict.root_cause.expect("a root cause");
    assert_eq!(root.check, "dc.srv");
    assert!(
        root.finding.contains(&format!(
            "the DNS server {} answers REFUSED for _ldap._tcp.dc._msdcs.corp.jr.test",
            dns.address
        )),
        "{}",
        root.finding
    );
    // Every catalog check has a row: the per-DC ones skipped for want of a DC.
    assert!(report.checks.len() > 5, "{stdout}");
    assert!(report.checks.iter().any(|c| c.id == "ldap.rootdse"));
}

#[test]
fn the_schema_rejects_a_report_that_breaks_it() {
    let dns = LoopbackDns::start(false);
    let server = dns.address.to_string();
    let output = joinready(&refused_run_args(&server, "json"));
    let mut report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one report");
    report["checks"][0]["status"] = "maybe".into();
    let broken = serde_json::to_string(&report).expect("serialize");
    let caught = std::panic::catch_unwind(|| assert_matches_schema(&broken));
    assert!(caught.is_err(), "a status of \"maybe\" passed the schema");
}

fn assert_promtool_accepts(promtool: &Path, text: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("feed promtool");
    let output = child.wait_with_output().expect("promtool result");
    assert!(
        output.status.success(),
        "promtool check metrics refused the output:\n{}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

#[test]
#[ignore = "needs promtool, prometheus or xmllint (fixtures/testenv/install.sh): run fixtures/test-all.sh as root"]
fn prometheus_output_is_written_atomically_and_passes_promtool() {
    let promtool = tool("/usr/bin/promtool", "prometheus");
    let dns = LoopbackDns::start(false);
    let server = dns.address.to_string();
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("joinready.prom");
    let file_arg = file.display().to_string();
    let mut args = refused_run_args(&server, "prometheus");
    args.extend(["--output", &file_arg]);
    let output = joinready(&args);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "--output leaves stdout empty");
    let text = std::fs::read_to_string(&file).expect("the metrics file");
    let names: Vec<String> = std::fs::read_dir(directory.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["joinready.prom"],
        "no temporary file left behind"
    );

    assert_promtool_accepts(&promtool, &text);
    for line in [
        "# TYPE joinready_check_success gauge",
        "joinready_ready 0",
        "joinready_run_complete 1",
        "joinready_verdict{status=\"not_ready\"} 1",
        "joinready_check_success{check=\"dc.srv\",area=\"dns\",target=\"_ldap._tcp.dc._msdcs.corp.jr.test\"} 0",
        "joinready_check_status{check=\"dc.srv\",area=\"dns\",target=\"_ldap._tcp.dc._msdcs.corp.jr.test\",status=\"fail\"} 1",
    ] {
        assert!(has_line(&text, line), "missing {line}:\n{text}");
    }
    let rtt = format!(
        "joinready_dns_rtt_seconds{{check=\"dc.srv\",area=\"dns\",target=\"_ldap._tcp.dc._msdcs.corp.jr.test\",server=\"{server}\"}} "
    );
    assert!(
        text.lines().any(|l| l.starts_with(&rtt)),
        "missing {rtt}:\n{text}"
    );
    assert!(
        text.contains("\njoinready_last_run_timestamp_seconds 1"),
        "{text}"
    );
}

#[test]
#[ignore = "needs promtool, prometheus or xmllint (fixtures/testenv/install.sh): run fixtures/test-all.sh as root"]
fn junit_output_matches_the_junit_schema() {
    let xmllint = tool("/usr/bin/xmllint", "libxml2-utils");
    let dns = LoopbackDns::start(false);
    let server = dns.address.to_string();
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("joinready.xml");
    let file_arg = file.display().to_string();
    let mut args = refused_run_args(&server, "junit");
    args.extend(["--output", &file_arg]);
    assert_eq!(joinready(&args).status.code(), Some(2));
    let xsd = support::repo().join("fixtures/junit/junit.xsd");
    let output = Command::new(xmllint)
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("run xmllint");
    let xml = std::fs::read_to_string(&file).expect("the JUnit file");
    assert!(
        output.status.success(),
        "xmllint refused the JUnit output:\n{}\n{xml}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        xml.contains(
            "<testcase classname=\"dns\" name=\"dc.srv _ldap._tcp.dc._msdcs.corp.jr.test\""
        ),
        "{xml}"
    );
    assert!(
        xml.contains("<failure type=\"fail\" message=\"the DNS server "),
        "{xml}"
    );
    assert!(xml.contains("<skipped message="), "{xml}");
}

#[test]
fn completions_and_man_pages_come_from_the_cli_definition() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = joinready(&["completions", shell]);
        assert!(output.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&output.stdout);
        assert!(script.contains("dns-server"), "{shell}: {script}");
        assert!(script.contains("serve"), "{shell}");
    }
    let page = joinready(&["man"]);
    assert!(page.status.success());
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH joinready 1"),
        "{page}"
    );
    assert!(page.contains("joinready\\-serve(1)"), "{page}");
    let run = joinready(&["man", "run"]);
    let run = String::from_utf8_lossy(&run.stdout);
    assert!(run.contains(".TH joinready-run 1"), "{run}");
    assert!(run.contains("\\-\\-format"), "{run}");
    let unknown = joinready(&["man", "nosuch"]);
    assert_eq!(unknown.status.code(), Some(3));
}

/// `joinready serve` on 127.0.0.1, a free port chosen by the kernel; killed when dropped.
struct Serve {
    child: Child,
    address: SocketAddr,
    _stderr: std::thread::JoinHandle<()>,
}

impl Serve {
    fn start(profiles: &Path, extra: &[&str]) -> Serve {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--profiles")
            .arg(profiles)
            .args(STAY_LOCAL)
            .args(extra)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start joinready serve");
        let stderr = child.stderr.take().expect("stderr");
        let (address, rest) = read_listen_line(stderr);
        // Keep draining stderr so serve never blocks on a full pipe.
        let drain = std::thread::spawn(move || {
            let mut rest = rest;
            let mut sink = Vec::new();
            let _ = rest.read_to_end(&mut sink);
        });
        Serve {
            child,
            address,
            _stderr: drain,
        }
    }

    fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads serve's first stderr line, "joinready: listening on http://ADDR (...)".
fn read_listen_line(mut stderr: ChildStderr) -> (SocketAddr, ChildStderr) {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 400 {
        match stderr.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => break,
            Ok(1) => line.push(byte[0]),
            _ => break,
        }
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|address| address.parse().ok())
        .unwrap_or_else(|| panic!("serve did not say where it listens: {line:?}"));
    (address, stderr)
}

/// A plain HTTP/1.0 GET on loopback: status and body.
fn http_get(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    assert!(address.ip().is_loopback(), "tests talk to loopback only");
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: {address}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response");
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    (status, body.to_string())
}

fn write_profile(directory: &Path, name: &str, dns: SocketAddr) {
    std::fs::write(
        directory.join(format!("{name}.toml")),
        format!("domain = \"corp.jr.test\"\ndns_servers = [\"{dns}\"]\ntimeout = \"2s\"\ndeadline = \"8s\"\n"),
    )
    .expect("write profile");
}

#[test]
#[ignore = "needs promtool, prometheus or xmllint (fixtures/testenv/install.sh): run fixtures/test-all.sh as root"]
fn serve_probes_on_demand_and_exports_the_last_run_and_the_process() {
    let promtool = tool("/usr/bin/promtool", "prometheus");
    let refusing = LoopbackDns::start(false);
    let silent = LoopbackDns::start(true);
    let profiles = tempfile::tempdir().expect("temp dir");
    write_profile(profiles.path(), "refused", refusing.address);
    write_profile(profiles.path(), "silent", silent.address);
    std::fs::write(profiles.path().join("broken.toml"), "domian = \"x\"\n").expect("write");
    let mut serve = Serve::start(profiles.path(), &["--max-concurrent", "1"]);

    let (status, body) = http_get(
        serve.address,
        "/probe?profile=refused",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "4")],
    );
    assert_eq!(status, 200, "{body}");
    assert_promtool_accepts(&promtool, &body);
    assert!(has_line(&body, "joinready_ready 0"), "{body}");
    assert!(
        has_line(
            &body,
            "joinready_check_success{check=\"dc.srv\",area=\"dns\",target=\"_ldap._tcp.dc._msdcs.corp.jr.test\"} 0"
        ),
        "{body}"
    );

    // The scrape timeout caps the profile's 8 s deadline (and so its 2 s check timeout):
    // 1.5 s less the 0.5 s margin.
    let started = Instant::now();
    let (status, body) = http_get(
        serve.address,
        "/probe?profile=silent",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "1.5")],
    );
    let took = started.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(
        // Uncapped, the silent server would hold the run for the profile's 2 s timeout.
        took >= Duration::from_millis(900) && took < Duration::from_millis(1900),
        "took {took:?}"
    );
    assert!(has_line(&body, "joinready_ready 0"), "{body}");

    // One probe at a time (--max-concurrent 1): a second one meanwhile is refused with 503.
    let address = serve.address;
    let slow = std::thread::spawn(move || {
        http_get(
            address,
            "/probe?profile=silent",
            &[("X-Prometheus-Scrape-Timeout-Seconds", "3")],
        )
    });
    let mut refused = None;
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        let (_, metrics) = http_get(serve.address, "/metrics", &[]);
        if has_line(&metrics, "joinready_probes_in_flight 1") {
            refused = Some(http_get(serve.address, "/probe?profile=refused", &[]));
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, body) = refused.expect("the slow probe never showed as in flight");
    assert_eq!(status, 503, "{body}");
    assert_eq!(slow.join().expect("slow probe").0, 200);

    for (path, expected) in [
        ("/probe?profile=../../etc/passwd", 400),
        ("/probe?profile=%2e%2e%2fetc%2fpasswd", 400),
        ("/probe?profile=.hidden", 400),
        ("/probe", 400),
        ("/probe?profile=nosuch", 404),
        ("/probe?profile=broken", 500),
        ("/nosuch", 404),
    ] {
        let (status, body) = http_get(serve.address, path, &[]);
        assert_eq!(status, expected, "{path}: {body}");
    }
    let (_, broken) = http_get(serve.address, "/probe?profile=broken", &[]);
    assert!(broken.contains("domian"), "names the bad key: {broken}");
    let (status, _) = http_get(
        serve.address,
        "/probe?profile=refused",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "soon")],
    );
    assert_eq!(status, 400);

    let (status, metrics) = http_get(serve.address, "/metrics", &[]);
    assert_eq!(status, 200);
    assert_promtool_accepts(&promtool, &metrics);
    for line in [
        "joinready_ready{profile=\"refused\"} 0",
        "joinready_ready{profile=\"silent\"} 0",
        "joinready_probes_in_flight 0",
        "joinready_probes_limit 1",
    ] {
        assert!(has_line(&metrics, line), "missing {line}:\n{metrics}");
    }
    for name in [
        "process_start_time_seconds ",
        "process_resident_memory_bytes ",
    ] {
        assert!(
            metrics.lines().any(|l| l.starts_with(name)),
            "missing {name}:\n{metrics}"
        );
    }

    assert_eq!(serve.terminate(), Some(0), "SIGTERM ends serve cleanly");
}

/// A free port on 127.0.0.1 (the kernel's pick; released for the server to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs promtool, prometheus or xmllint (fixtures/testenv/install.sh): run fixtures/test-all.sh as root"]
fn a_real_prometheus_scrapes_serve_and_answers_with_the_series() {
    let prometheus_bin = tool("/usr/bin/prometheus", "prometheus");
    let dns = LoopbackDns::start(false);
    let profiles = tempfile::tempdir().expect("temp dir");
    write_profile(profiles.path(), "branch", dns.address);
    let serve = Serve::start(profiles.path(), &[]);

    let scratch = tempfile::tempdir().expect("temp dir");
    let config = scratch.path().join("prometheus.yml");
    // The blackbox_exporter pattern: the target is the profile name, handed to /probe as a
    // parameter and kept as the instance label; the address is joinready's.
    std::fs::write(
        &config,
        format!(
            "global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: joinready
    metrics_path: /probe
    static_configs:
      - targets: [branch]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_profile
      - source_labels: [__param_profile]
        target_label: instance
      - target_label: __address__
        replacement: {serve}
  - job_name: joinready_exporter
    static_configs:
      - targets: ['{serve}']
",
            serve = serve.address
        ),
    )
    .expect("write prometheus.yml");
    let web = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let log = std::fs::File::create(scratch.path().join("prometheus.log")).expect("log file");
    let _prometheus = Prometheus(
        Command::new(prometheus_bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                scratch.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={web}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus"),
    );

    let query = |expression: &str| -> Vec<serde_json::Value> {
        let path = format!("/api/v1/query?query={expression}");
        match TcpStream::connect_timeout(&web, Duration::from_millis(500)) {
            Err(_) => Vec::new(),
            Ok(_) => {
                let (status, body) = http_get(web, &path, &[]);
                if status != 200 {
                    return Vec::new();
                }
                let answer: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                answer["data"]["result"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            }
        }
    };
    let until = Instant::now() + Duration::from_secs(60);
    let mut series = Vec::new();
    let mut process = Vec::new();
    while Instant::now() < until {
        series = query("joinready_check_success");
        process = query("process_start_time_seconds%7Bjob%3D%22joinready_exporter%22%7D");
        if !series.is_empty() && !process.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let log = std::fs::read_to_string(scratch.path().join("prometheus.log")).unwrap_or_default();
    assert!(
        !series.is_empty() && !process.is_empty(),
        "Prometheus never had joinready_check_success and serve's process metrics within 60 s; its log:\n{log}"
    );
    let srv = series
        .iter()
        .find(|s| s["metric"]["check"] == "dc.srv" && s["metric"]["job"] == "joinready")
        .unwrap_or_else(|| panic!("no dc.srv series: {series:?}"));
    assert_eq!(srv["metric"]["job"], "joinready", "{srv}");
    assert_eq!(srv["metric"]["instance"], "branch", "{srv}");
    assert_eq!(srv["metric"]["area"], "dns", "{srv}");
    assert_eq!(
        srv["metric"]["target"], "_ldap._tcp.dc._msdcs.corp.jr.test",
        "{srv}"
    );
    assert_eq!(srv["value"][1], "0", "{srv}");

    let ready = query("joinready_ready%7Bjob%3D%22joinready%22%7D");
    assert_eq!(ready.len(), 1, "{ready:?}");
    assert_eq!(ready[0]["value"][1], "0", "{ready:?}");
    let up = query("up%7Bjob%3D%22joinready%22%7D");
    assert_eq!(
        up.first().map(|s| s["value"][1].clone()),
        Some("1".into()),
        "{up:?}"
    );
}

/// The evidence metrics from real DCs (fixtures/testenv), so a change in an evidence shape that
/// the renderer reads shows here, not in a dashboard.
#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn prometheus_output_carries_the_evidence_of_real_dcs() {
    let env = support::TestEnv::acquire();
    let promtool = tool("/usr/bin/promtool", "prometheus");
    let bundle = env.ca_bundle();
    let profile = env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{}\"]\n[ldap]\nbind_user = \"svc-join@corp.jr.test\"\ntls = \"ldaps\"\nca_file = \"{bundle}\"\n",
        support::DC1_IP
    ));
    let mut args = vec!["run", "--format", "prometheus", "--profile", &profile];
    args.extend_from_slice(&STAY_LOCAL);
    let output = env.run_raw(
        support::CLIENT,
        &args,
        &[("JOINREADY_BIND_PASSWORD", support::SVC_PASSWORD)],
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_promtool_accepts(&promtool, &text);
    let dc2 = "dc2.corp.jr.test";
    for prefix in [
        format!("joinready_tls_certificate_expiry_timestamp_seconds{{check=\"ldap.bind\",area=\"ldap\",target=\"{dc2}\"}} "),
        format!("joinready_icmp_rtt_seconds{{check=\"dc.ping\",area=\"dc\",target=\"{dc2}\"}} "),
        format!("joinready_rtt_seconds{{check=\"dc.cldap\",area=\"dc\",target=\"{dc2}\",phase=\"ldap_ping\"}} "),
        format!("joinready_rtt_seconds{{check=\"ldap.bind\",area=\"ldap\",target=\"{dc2}\",phase=\"bind\"}} "),
        format!("joinready_rtt_seconds{{check=\"dc.port.kerberos_tcp\",area=\"dc\",target=\"{dc2}\",phase=\"connect\"}} "),
        format!("joinready_clock_offset_seconds{{check=\"time.dc_skew\",area=\"time\",target=\"{dc2}\"}} "),
        format!(
            "joinready_dns_rtt_seconds{{check=\"dc.srv\",area=\"dns\",target=\"_ldap._tcp.dc._msdcs.corp.jr.test\",server=\"{}:53\"}} ",
            support::DC1_IP
        ),
        format!("joinready_check_success{{check=\"ldap.bind\",area=\"ldap\",target=\"{dc2}\"}} 1"),
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&prefix)),
            "missing {prefix}:\n{text}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // The certificate expires in the future, and within the test CA's lifetime.
    let expiry: f64 = text
        .lines()
        .find(|l| {
            l.starts_with("joinready_tls_certificate_expiry_timestamp_seconds{") && l.contains(dc2)
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("an expiry value");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    assert!(
        expiry > now && expiry < now + 40.0 * 365.0 * 86400.0,
        "{expiry}"
    );
}
