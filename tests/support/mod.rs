//! The harness for end-to-end tests: one test at a time (faults are shared state), the
//! environment reset before and after each, the binary always run inside a client namespace.
//!
//! A test that cannot run under a plain `cargo test` is `#[ignore]`d, so that it shows as
//! ignored with its reason and never as passed. The reason is one of [`IGNORE_REASONS`], word
//! for word (`ignore = ` takes only a literal; tests/conventions.rs holds every test to the
//! list). `cargo test -- --include-ignored` runs them all, as fixtures/test-all.sh does as
//! root with the environment up; there, whatever is missing fails the test, never skips it.

// Each test binary uses a different part of the harness.
#![allow(dead_code, unused_imports)]

pub mod loopback;

pub use joinready::model::Status;
pub use joinready::report::Report;
pub use joinready::result::CheckResult;
pub use joinready::verdict::VerdictStatus;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

pub const CLIENT: &str = "jr-client";
pub const BRANCH_CLIENT: &str = "jr-client-branch";
pub const DC1_IP: &str = "10.77.0.11";
pub const DC2_IP: &str = "10.77.0.12";
pub const TARPIT_IP: &str = "10.77.0.13";
pub const BLACKHOLE_IP: &str = "10.77.9.9";
pub const SVC_PASSWORD: &str = "Join-Passw0rd.1";

/// Every `#[ignore = "…"]` reason the tests may carry; anything else is dragged into
/// fixtures/test-all.sh's `--include-ignored` run unplanned, so tests/conventions.rs refuses it.
pub const IGNORE_REASONS: [&str; 3] = [
    // Calls TestEnv::acquire(): Samba DCs and the rest of fixtures/testenv, in namespaces.
    "needs the real-server test environment: run fixtures/test-all.sh as root",
    // Binds 389, 636, 88, 500 or 80 on 127.0.77.x / 127.0.78.x (tests/support/loopback.rs).
    "needs root to bind ports below 1024 on loopback: run fixtures/test-all.sh as root",
    // Runs /usr/bin/promtool, /usr/bin/prometheus or /usr/bin/xmllint (tests/monitoring.rs).
    "needs promtool, prometheus or xmllint (fixtures/testenv/install.sh): run fixtures/test-all.sh as root",
];

/// The marker `testenv.sh up` writes into the state dir (fixtures/testenv/lib/common.sh).
const STATE_MARKER: &str = ".joinready-testenv";

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn state_dir() -> PathBuf {
    std::env::var_os("JR_TESTENV_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/joinready-testenv"))
}

pub struct TestEnv {
    _guard: MutexGuard<'static, ()>,
    scratch: tempfile::TempDir,
}

pub struct Run {
    pub exit_code: i32,
    pub report: Report,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub fn summary(&self) -> String {
        let rows: Vec<String> = self
            .report
            .checks
            .iter()
            .map(|c| format!("  {} {} {}: {}", c.id, c.target, c.status, c.finding))
            .collect();
        format!(
            "exit {} verdict {:?}: {}\n{}\nstderr: {}",
            self.exit_code,
            self.report.verdict.status,
            self.report.verdict.summary,
            rows.join("\n"),
            self.stderr
        )
    }

    pub fn check(&self, id: &str, target: &str) -> &CheckResult {
        self.report
            .checks
            .iter()
            .find(|c| c.id == id && c.target == target)
            .unwrap_or_else(|| panic!("no result for {id} on {target}\n{}", self.summary()))
    }

    pub fn check_id(&self, id: &str) -> &CheckResult {
        self.report
            .checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no result for {id}\n{}", self.summary()))
    }
}

/// The effective user id, from /proc (the tests run on Linux only).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// What keeps the test environment from being used here, if anything.
fn environment_missing() -> Option<String> {
    match effective_uid() {
        Some(0) => {}
        Some(uid) => {
            return Some(format!(
                "this test runs as uid {uid}, not root (it runs the binary with `ip netns exec`)"
            ))
        }
        None => return Some("cannot tell whether this test runs as root".to_string()),
    }
    let marker = state_dir().join(STATE_MARKER);
    if !marker.is_file() {
        return Some(format!(
            "{} does not exist (the state dir is $JR_TESTENV_DIR, default /tmp/joinready-testenv)",
            marker.display()
        ));
    }
    for namespace in [CLIENT, BRANCH_CLIENT] {
        if !Path::new("/run/netns").join(namespace).exists() {
            return Some(format!("network namespace {namespace} does not exist"));
        }
    }
    None
}

impl TestEnv {
    /// The test environment, this test's alone until dropped, reset to healthy. Only tests
    /// `#[ignore = "needs the real-server test environment: …"]` call this; when one runs
    /// without the environment up, it fails here saying what is missing, never passes unrun.
    pub fn acquire() -> TestEnv {
        if let Some(missing) = environment_missing() {
            panic!(
                "the real-server test environment is not up: {missing}.\n\
                 Build it as root with `bash fixtures/testenv/install.sh && bash \
                 fixtures/testenv/testenv.sh up`, then run `cargo test -- --include-ignored`; \
                 or run everything as root with `bash fixtures/test-all.sh`. A plain `cargo test` \
                 leaves the end-to-end tests out as ignored."
            );
        }
        let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let env = TestEnv {
            _guard: guard,
            scratch: tempfile::tempdir().expect("scratch dir"),
        };
        env.testenv(&["reset"]);
        env
    }

    pub fn testenv(&self, args: &[&str]) {
        let output = Command::new("bash")
            .arg(repo().join("fixtures/testenv/testenv.sh"))
            .args(args)
            .output()
            .expect("run testenv.sh");
        assert!(
            output.status.success(),
            "testenv.sh {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    pub fn fault(&self, args: &[&str]) {
        let mut all = vec!["fault"];
        all.extend_from_slice(args);
        self.testenv(&all);
    }

    pub fn write_profile(&self, text: &str) -> String {
        let path = self
            .scratch
            .path()
            .join(format!("profile-{}.toml", rand_suffix()));
        std::fs::write(&path, text).expect("write profile");
        path.display().to_string()
    }

    /// The test CA and DC1's own Samba CA in one PEM file.
    pub fn ca_bundle(&self) -> String {
        let mut pem = std::fs::read_to_string(state_dir().join("ca.pem")).expect("test CA");
        let samba_ca = state_dir().join("dc1/private/tls/ca.pem");
        pem.push_str(
            &std::fs::read_to_string(&samba_ca)
                .unwrap_or_else(|e| panic!("{}: {e}", samba_ca.display())),
        );
        let path = self.scratch.path().join("bundle.pem");
        std::fs::write(&path, pem).expect("write bundle");
        path.display().to_string()
    }

    /// The binary inside `namespace`, with a clean environment (no proxy variables, no colour).
    pub fn run_raw(&self, namespace: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", namespace])
            .arg(env!("CARGO_BIN_EXE_joinready"))
            .args(args);
        command
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("run joinready")
    }

    pub fn finish(output: Output, elapsed: Duration) -> Run {
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_matches_schema(&stdout);
        let report: Report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("stdout is not one report ({e}):\n{stdout}\nstderr: {stderr}")
        });
        Run {
            exit_code: output.status.code().unwrap_or(-1),
            report,
            stdout,
            stderr,
            elapsed,
        }
    }

    /// `joinready run --format json ARGS` in `namespace`.
    pub fn run(&self, namespace: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["run", "--format", "json"];
        all.extend_from_slice(args);
        self.run_plain(namespace, &all, env)
    }

    pub fn run_plain(&self, namespace: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let started = Instant::now();
        let output = self.run_raw(namespace, args, env);
        Self::finish(output, started.elapsed())
    }

    /// With this device's clock shifted by `offset` (libfaketime, e.g. "+15m"); monotonic time
    /// stays real so timeouts still hold.
    pub fn run_faketime(&self, namespace: &str, offset: &str, args: &[&str]) -> Run {
        let started = Instant::now();
        let output = Command::new("ip")
            .args(["netns", "exec", namespace, "faketime", "-f", offset])
            .arg(env!("CARGO_BIN_EXE_joinready"))
            .args(["run", "--format", "json"])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .output()
            .expect("run joinready under faketime");
        Self::finish(output, started.elapsed())
    }

    /// As user nobody, to see the unprivileged paths.
    pub fn run_as_nobody(&self, namespace: &str, args: &[&str]) -> Run {
        let started = Instant::now();
        let output = Command::new("ip")
            .args([
                "netns",
                "exec",
                namespace,
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
            ])
            .arg(env!("CARGO_BIN_EXE_joinready"))
            .args(["run", "--format", "json"])
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .expect("run joinready as nobody");
        Self::finish(output, started.elapsed())
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        // Leave no fault behind for the next test, even when this one failed.
        let _ = Command::new("bash")
            .arg(repo().join("fixtures/testenv/testenv.sh"))
            .arg("reset")
            .output();
    }
}

/// The JSON Schema the binary ships (`joinready schema`), compiled once per test binary.
fn report_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let output = Command::new(env!("CARGO_BIN_EXE_joinready"))
            .arg("schema")
            .output()
            .expect("run joinready schema");
        assert!(output.status.success(), "joinready schema failed");
        let schema: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("joinready schema prints JSON");
        jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("joinready schema is not a valid JSON Schema: {e}"))
    })
}

/// Holds a report (the stdout of `run --format json`) to the schema the binary ships: every
/// report the tests produce goes through here.
pub fn assert_matches_schema(stdout: &str) {
    let instance: serde_json::Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    let errors: Vec<String> = report_schema()
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the report does not match `joinready schema`:\n{}\n{stdout}",
        errors.join("\n")
    );
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
