//! End-to-end: the reports people read, made from real runs in the test environment
//! (fixtures/testenv) once, then looked at the way people look at them: the console view in a
//! pseudo-terminal (tmux) at 80 and 120 columns, the HTML report in headless Chromium (the DOM,
//! screenshots at desktop and phone widths, a PDF print), and `joinready diff` on pairs of the
//! same reports. Chromium runs in a network namespace of its own with no interface up
//! (`unshare --net`), so the report is proven to open offline and nothing can leave the machine.
//!
//! Every artifact lands in target/reports-artifacts/; with JR_UPDATE_DOCS=1 the screenshots the
//! README shows are copied to docs/.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::*;

const EP: &str = "ep.corp.jr.test";
const EP_DIRECT: &str = "ep.corp.jr.test:8443";
const OPEN_PROXY: &str = "10.77.0.30:3128";
const VPN_IP: &str = "10.77.0.20";
const DCS: [&str; 2] = ["dc1.corp.jr.test", "dc2.corp.jr.test"];

fn artifacts() -> PathBuf {
    let dir = repo().join("target/reports-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/reports-artifacts");
    dir
}

/// One run set-up: the arguments after `run`, and the environment.
struct Case {
    name: &'static str,
    args: Vec<String>,
    vars: Vec<(&'static str, String)>,
}

impl Case {
    fn args_with(&self, more: &[&str]) -> Vec<String> {
        let mut all = vec!["run".to_string()];
        all.extend(self.args.iter().cloned());
        all.extend(more.iter().map(|s| s.to_string()));
        all
    }
}

fn run_case(env: &TestEnv, case: &Case, more: &[&str]) -> Output {
    let args = case.args_with(more);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let vars: Vec<(&str, &str)> = case.vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.run_raw(CLIENT, &args, &vars)
}

/// The JSON report of `case`, kept as target/reports-artifacts/NAME.json for the diffs.
fn json_report(env: &TestEnv, case: &Case, file: &str) -> (Run, PathBuf) {
    let started = Instant::now();
    let output = run_case(env, case, &["--format", "json"]);
    let run = TestEnv::finish(output, started.elapsed());
    let path = artifacts().join(file);
    std::fs::write(&path, &run.stdout).expect("write the JSON report");
    (run, path)
}

/// The HTML report of `case`, written by the binary itself through --output.
fn html_report(env: &TestEnv, case: &Case, expected_exit: i32) -> PathBuf {
    let path = artifacts().join(format!("{}.html", case.name));
    let _ = std::fs::remove_file(&path);
    let path_text = path.display().to_string();
    let output = run_case(env, case, &["--format", "html", "--output", &path_text]);
    assert_eq!(
        output.status.code(),
        Some(expected_exit),
        "{}: html run: {}",
        case.name,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "--output leaves stdout empty");
    path
}

// ---------------------------------------------------------------- Chromium

/// Headless Chromium in an empty network namespace, bounded in time, with a fresh profile.
fn chromium(name: &str, args: &[String]) -> Output {
    let profile = tempfile::tempdir().expect("a Chromium profile dir");
    let output = Command::new("timeout")
        .args(["90", "unshare", "--net", "--", "chromium"])
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .expect("run chromium (fixtures/testenv/install.sh installs it)");
    assert!(
        output.status.success(),
        "chromium {name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The DOM after Chromium loaded the file, and every URL it asked the network for.
fn dom_and_requests(path: &Path) -> (String, Vec<String>) {
    let netlog = tempfile::NamedTempFile::new().expect("a net log file");
    let output = chromium(
        "--dump-dom",
        &[
            format!("--log-net-log={}", netlog.path().display()),
            "--dump-dom".into(),
            file_url(path),
        ],
    );
    let log = std::fs::read_to_string(netlog.path()).unwrap_or_default();
    let mut urls = Vec::new();
    let mut rest = log.as_str();
    while let Some(at) = rest.find("\"url\":\"") {
        rest = &rest[at + 7..];
        let end = rest.find('"').unwrap_or(rest.len());
        urls.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    (String::from_utf8_lossy(&output.stdout).into_owned(), urls)
}

/// Chromium's own background services (time, component updates) try the network whatever
/// the flags say; in the empty namespace they fail. Anything else came from the page.
fn from_the_page(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':', '?']).next())
        .unwrap_or("");
    let chromium_own = ["google.com", "googleapis.com", "gstatic.com", "gvt1.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")));
    (url.starts_with("http:") || url.starts_with("https:") || url.starts_with("ws"))
        && !chromium_own
}

fn screenshot(page: &Path, png: &Path, width: u32, height: u32) {
    let _ = std::fs::remove_file(png);
    chromium(
        "--screenshot",
        &[
            format!("--window-size={width},{height}"),
            format!("--screenshot={}", png.display()),
            file_url(page),
        ],
    );
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000,
        "{} is not a real screenshot ({} bytes)",
        png.display(),
        bytes.len()
    );
    // The PNG's own header says how big the picture is.
    let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    assert_eq!(w, width, "{}", png.display());
}

fn update_docs(from: &Path, name: &str) {
    if std::env::var_os("JR_UPDATE_DOCS").is_some() {
        let docs = repo().join("docs");
        std::fs::copy(from, docs.join(name)).expect("copy a screenshot into docs/");
    }
}

/// Text as Chromium serializes it in the DOM (only &, < and > escaped).
fn dom_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn check_html(case: &str, run: &Run, page: &Path) {
    let report = &run.report;
    let (dom, requests) = dom_and_requests(page);
    std::fs::write(artifacts().join(format!("{case}.dom.html")), &dom).expect("keep the DOM");

    // The verdict and its root cause, as the browser shows them.
    let headline = report.verdict.status.headline();
    assert!(
        dom.contains(&format!(
            "<h1>{headline} <span class=\"mono\">corp.jr.test</span></h1>"
        )),
        "{case}: no verdict heading in the DOM"
    );
    assert!(
        dom.contains(&dom_text(&report.verdict.summary)),
        "{case}: no summary"
    );
    if let Some(root) = &report.verdict.root_cause {
        assert!(dom.contains("id=\"root-cause\""), "{case}: no root cause");
        assert!(
            dom.contains(&dom_text(&root.finding)),
            "{case}: root finding"
        );
    }

    // One matrix cell per DC × per-DC check, counted from the JSON report.
    let dcs: Vec<&str> = DCS
        .into_iter()
        .filter(|dc| report.checks.iter().any(|c| c.target == *dc))
        .collect();
    let mut per_dc: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| dcs.contains(&c.target.as_str()))
        .map(|c| c.id.as_str())
        .collect();
    per_dc.dedup();
    per_dc.sort();
    per_dc.dedup();
    let cells = dom.matches("<td class=\"cell ").count();
    assert_eq!(
        cells,
        dcs.len() * per_dc.len(),
        "{case}: {} DCs × {} per-DC checks ({per_dc:?})",
        dcs.len(),
        per_dc.len()
    );
    for check in &report.checks {
        if dcs.contains(&check.target.as_str()) {
            let cell = format!(
                "<td class=\"cell s-{}\" data-check=\"{}\" data-dc=\"{}\"",
                check.status, check.id, check.target
            );
            assert!(dom.contains(&cell), "{case}: no cell {cell}");
        }
    }

    // One timeline bar per result, each with its start and width.
    assert_eq!(
        dom.matches("<div class=\"bar ").count(),
        report.checks.len(),
        "{case}: timeline bars"
    );
    assert!(
        dom.contains(" critical\" data-check="),
        "{case}: no slowest chain"
    );

    // Nothing fetched: no remote reference in the DOM, a policy that forbids any, and no
    // request in the browser's own network log but its background services'.
    for needle in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "<script",
        "@import",
    ] {
        assert!(!dom.contains(needle), "{case}: {needle} in the DOM");
    }
    assert!(
        dom.contains("content=\"default-src 'none';"),
        "{case}: no CSP"
    );
    let external: Vec<&String> = requests.iter().filter(|u| from_the_page(u)).collect();
    assert!(
        external.is_empty(),
        "{case}: the page asked for {external:?}"
    );

    // Screenshots at desktop and phone widths, and a PDF print.
    let desktop = artifacts().join(format!("{case}-desktop.png"));
    screenshot(page, &desktop, 1280, 1500);
    let narrow = artifacts().join(format!("{case}-narrow.png"));
    screenshot(page, &narrow, 420, 1500);
    let pdf = artifacts().join(format!("{case}.pdf"));
    let _ = std::fs::remove_file(&pdf);
    chromium(
        "--print-to-pdf",
        &[
            "--no-pdf-header-footer".into(),
            format!("--print-to-pdf={}", pdf.display()),
            file_url(page),
        ],
    );
    let bytes = std::fs::read(&pdf).expect("the PDF");
    assert!(
        bytes.starts_with(b"%PDF") && bytes.len() > 10_000,
        "{case}: PDF"
    );
}

// ---------------------------------------------------------------- the console in a pty

/// A tmux server of this test's own, killed when dropped (even when the test fails).
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(label: &str) -> Tmux {
        Tmux {
            socket: format!("jr-reports-{}-{label}", std::process::id()),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]);
        command
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// The console view as a terminal of `width` columns shows it: (lines as drawn, joined where
/// the terminal had to wrap a line; the same with colour escapes; the exit code).
fn console(case: &Case, width: u16, extra: &[&str]) -> (Vec<String>, String, i32) {
    let tmux = Tmux::new(&format!("{}-{width}", case.name));
    let mut line = format!(
        "ip netns exec {CLIENT} env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=xterm-256color"
    );
    for (key, value) in &case.vars {
        line.push_str(&format!(" {key}={}", shell_quote(value)));
    }
    line.push(' ');
    line.push_str(&shell_quote(env!("CARGO_BIN_EXE_joinready")));
    for arg in case.args_with(extra) {
        line.push(' ');
        line.push_str(&shell_quote(&arg));
    }
    line.push_str("; echo \"::exit=$?\"; sleep 120");
    let started = tmux
        .command()
        .args([
            "new-session",
            "-d",
            "-s",
            "jr",
            "-x",
            &width.to_string(),
            "-y",
            "200",
        ])
        .arg(&line)
        .output()
        .expect("tmux (fixtures/testenv/install.sh installs it)");
    assert!(
        started.status.success(),
        "tmux: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    let capture = |flags: &[&str]| -> String {
        let output = tmux
            .command()
            .args(["capture-pane", "-p", "-t", "jr"])
            .args(flags)
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let screen = loop {
        let screen = capture(&["-J"]);
        if screen.contains("::exit=") {
            break screen;
        }
        assert!(
            Instant::now() < deadline,
            "{}: no end in 60 s:\n{screen}",
            case.name
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let coloured = capture(&["-e"]);
    let mut lines: Vec<String> = screen.lines().map(|l| l.trim_end().to_string()).collect();
    let exit_at = lines
        .iter()
        .position(|l| l.starts_with("::exit="))
        .expect("the exit line");
    let code = lines[exit_at]["::exit=".len()..]
        .trim()
        .parse()
        .unwrap_or(-1);
    lines.truncate(exit_at);
    let coloured: String = coloured
        .lines()
        .take_while(|l| !l.starts_with("::exit="))
        .collect::<Vec<_>>()
        .join("\n");
    (lines, coloured, code)
}

/// Colours of a tmux capture (SGR only) as HTML spans, to screenshot the console.
fn ansi_to_html(text: &str) -> String {
    let mut out = String::new();
    let mut open = false;
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&dom_text(&rest[..at]));
        rest = &rest[at + 2..];
        let end = rest.find('m').unwrap_or(rest.len());
        let codes = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        if open {
            out.push_str("</span>");
            open = false;
        }
        let color = codes.split(';').find_map(|c| match c {
            "31" | "91" => Some("#ff6b6b"),
            "32" | "92" => Some("#5fd068"),
            "33" | "93" => Some("#f5c542"),
            "35" | "95" => Some("#c792ea"),
            "90" => Some("#8b949e"),
            _ => None,
        });
        if let Some(color) = color {
            out.push_str(&format!("<span style=\"color:{color};font-weight:bold\">"));
            open = true;
        }
    }
    out.push_str(&dom_text(rest));
    if open {
        out.push_str("</span>");
    }
    out
}

fn console_png(case: &str, width: u16, coloured: &str) -> PathBuf {
    let page = artifacts().join(format!("{case}-console-{width}.html"));
    let rows = coloured.lines().count() as u32;
    std::fs::write(
        &page,
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{{margin:0;background:#0d1117;color:#e6edf3}}\
             pre{{margin:0;padding:8px;font:14px/18px 'DejaVu Sans Mono',monospace}}</style></head><body><pre>{}</pre></body></html>",
            ansi_to_html(coloured)
        ),
    )
    .expect("write the console page");
    let png = artifacts().join(format!("{case}-console-{width}.png"));
    // DejaVu Sans Mono at 14 px is 8.43 px a column.
    let pixels = (f64::from(width) * 8.43).ceil() as u32 + 16;
    screenshot(&page, &png, pixels, rows * 18 + 16);
    png
}

/// What every console view must do, whatever the run found.
fn check_console(case: &str, run: &Run, width: u16, lines: &[String], code: i32) {
    let text = lines.join("\n");
    assert_eq!(code, run.exit_code, "{case} at {width}: exit code\n{text}");
    let headline = run.report.verdict.status.headline();
    let verdict = format!("{headline} corp.jr.test ({}", run.report.scenario);
    assert!(
        lines[0].starts_with(&verdict),
        "{case} at {width}: first line\n{text}"
    );
    // The verdict again at the end: its first line comes after the legend.
    let legend = lines
        .iter()
        .rposition(|l| l.starts_with("✓ pass  ! warn  ✗ fail  · skip  ? error"))
        .unwrap_or_else(|| panic!("{case} at {width}: no legend\n{text}"));
    assert!(
        lines[legend + 1].starts_with(&verdict),
        "{case} at {width}: last\n{text}"
    );
    for line in lines {
        assert!(
            line.chars().count() <= usize::from(width),
            "{case} at {width}: the terminal had to wrap {line:?}"
        );
    }
    // One row per check, each with one mark per target; a check skipped for every target is
    // instead named once on the "skipped" line.
    let mut ids: Vec<&str> = run.report.checks.iter().map(|c| c.id.as_str()).collect();
    ids.dedup();
    let skipped_line = text
        .split("skipped (")
        .nth(1)
        .map(|rest| rest.split("\n\n").next().unwrap_or(rest))
        .unwrap_or("");
    let skipped_ids: Vec<&str> = skipped_line.split_whitespace().collect();
    for id in &ids {
        let rows = lines
            .iter()
            .filter(|l| row_id(l).as_deref() == Some(*id))
            .count();
        let all_skipped = run
            .report
            .checks
            .iter()
            .filter(|c| c.id == *id)
            .all(|c| c.status == Status::Skip);
        if all_skipped {
            assert_eq!(
                rows, 0,
                "{case} at {width}: {id} skipped, yet a row\n{text}"
            );
            assert_eq!(
                skipped_ids.iter().filter(|w| **w == *id).count(),
                1,
                "{case} at {width}: {id} not on the skipped line once\n{text}"
            );
        } else {
            assert_eq!(rows, 1, "{case} at {width}: rows of {id}\n{text}");
        }
    }
    // What did not pass is expanded with every word of its finding whole.
    let tokens: Vec<&str> = text.split_whitespace().collect();
    for check in &run.report.checks {
        if matches!(check.status, Status::Fail | Status::Warn | Status::Error) {
            for word in check.finding.split_whitespace() {
                assert!(
                    tokens.contains(&word),
                    "{case} at {width}: {word:?} of {}'s finding is broken or missing\n{text}",
                    check.id
                );
            }
        }
    }
}

/// The view between the verdict and the legend, held to tests/snapshots/console-NAME.txt:
/// the verdict lines carry the run's duration, which moves, and are checked on their own.
/// JR_UPDATE_SNAPSHOTS=1 writes the files instead (review the diff before committing).
fn snapshot(name: &str, lines: &[String]) {
    let start = lines.iter().position(String::is_empty).map_or(0, |i| i + 1);
    let end = lines
        .iter()
        .rposition(|l| l.contains(" pass  ") && l.contains(" error"))
        .map_or(lines.len(), |i| i + 1);
    let mut body = lines[start..end].join("\n");
    body.push('\n');
    let path = repo().join(format!("tests/snapshots/console-{name}.txt"));
    if std::env::var_os("JR_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(repo().join("tests/snapshots")).expect("tests/snapshots");
        std::fs::write(&path, &body).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (JR_UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert!(
        body == expected,
        "the console view of {name} differs from {}:\n--- expected\n{expected}\n--- got\n{body}",
        path.display()
    );
}

/// The check id of a row (`✗ dc.ping  dc1 ✓  dc2 ✗`): after a status mark and a space.
fn row_id(line: &str) -> Option<String> {
    let mut chars = line.chars();
    let mark = chars.next()?;
    if !"✓!✗·?+X-".contains(mark) || chars.next() != Some(' ') {
        return None;
    }
    chars.as_str().split_whitespace().next().map(str::to_string)
}

fn row<'a>(lines: &'a [String], id: &str) -> &'a str {
    lines
        .iter()
        .find(|l| row_id(l).as_deref() == Some(id))
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no row for {id}:\n{}", lines.join("\n")))
}

// ---------------------------------------------------------------- diff

fn diff(old: &Path, new: &Path, more: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_joinready"))
        .arg("diff")
        .arg(old)
        .arg(new)
        .args(more)
        .env_clear()
        .output()
        .expect("run joinready diff")
}

// ---------------------------------------------------------------- the test

#[test]
#[ignore = "needs the real-server test environment: run fixtures/test-all.sh as root"]
fn reports_of_real_runs_in_a_terminal_a_browser_and_a_diff() {
    let env = TestEnv::acquire();
    let ca = state_dir().join("ca.pem").display().to_string();
    let roots = vec![("JOINREADY_PUBLIC_ROOTS", ca.clone())];
    // Two DCs, both endpoints of jr-web through the open proxy: everything answers.
    let office = env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{DC1_IP}\"]\n[ldap]\nca_file = \"{ca}\"\n\
         [proxy]\nurl = \"http://{OPEN_PROXY}\"\n\
         [[endpoints.extra]]\nurl = \"https://{EP}/\"\ntls_inspection = \"forbidden\"\n\
         [[endpoints.extra]]\nurl = \"https://{EP_DIRECT}/\"\ntls_inspection = \"allowed\"\n"
    ));
    let healthy = Case {
        name: "healthy",
        args: vec![
            "--profile".into(),
            office.clone(),
            "--timeout".into(),
            "2s".into(),
        ],
        vars: roots.clone(),
    };
    // At home before the VPN: the corporate DNS is a black hole, the gateway answers.
    let home = env.write_profile(&format!(
        "domain = \"corp.jr.test\"\ndns_servers = [\"{BLACKHOLE_IP}\"]\n[ldap]\nca_file = \"{ca}\"\n\
         [[vpn]]\nhost = \"{VPN_IP}\"\nkind = \"ikev2\"\n[[vpn]]\nhost = \"{VPN_IP}\"\nkind = \"tls\"\n"
    ));
    let vpn = Case {
        name: "vpn",
        args: vec![
            "--profile".into(),
            home,
            "--scenario".into(),
            "vpn".into(),
            "--timeout".into(),
            "1s".into(),
        ],
        vars: vec![],
    };

    // Healthy: the console fits 40 lines at 120 columns with the verdict last.
    let (healthy_run, healthy_json) = json_report(&env, &healthy, "healthy.json");
    assert_eq!(healthy_run.exit_code, 0, "{}", healthy_run.summary());
    let (again, healthy_again_json) = json_report(&env, &healthy, "healthy-again.json");
    assert_eq!(again.exit_code, 0, "{}", again.summary());
    let healthy_html = html_report(&env, &healthy, 0);
    check_html("healthy", &healthy_run, &healthy_html);
    assert_eq!(
        std::fs::read_to_string(&healthy_html)
            .expect("the page")
            .matches("<div class=\"route\"")
            .count(),
        2,
        "one route per endpoint"
    );
    let mut shots = Vec::new();
    for width in [120u16, 80] {
        let (lines, coloured, code) = console(&healthy, width, &[]);
        std::fs::write(
            artifacts().join(format!("healthy-{width}.txt")),
            lines.join("\n"),
        )
        .expect("keep the screen");
        check_console("healthy", &healthy_run, width, &lines, code);
        snapshot(&format!("healthy-{width}"), &lines);
        if width == 120 {
            assert!(
                lines.len() <= 40,
                "{} lines at 120:\n{}",
                lines.len(),
                lines.join("\n")
            );
            let smb = row(&lines, "dc.port.smb_tcp");
            assert!(smb.contains("dc1 ✓") && smb.contains("dc2 ✓"), "{smb}");
            let endpoints = row(&lines, "endpoints.reach");
            assert!(endpoints.contains(&format!("{EP} ✓")), "{endpoints}");
            shots.push(console_png("healthy", width, &coloured));
        }
    }
    // ASCII when asked.
    let (ascii, _, _) = console(&healthy, 120, &["--ascii"]);
    snapshot("healthy-120-ascii", &ascii);
    assert!(ascii.iter().all(|l| l.is_ascii()), "{}", ascii.join("\n"));
    let smb = row(&ascii, "dc.port.smb_tcp");
    assert!(smb.contains("dc1 +") && smb.contains("dc2 +"), "{smb}");

    // Not ready: LDAP filtered on both DCs, SMB refused on dc2.
    env.fault(&["filter", "1", "tcp", "389"]);
    env.fault(&["filter", "2", "tcp", "389"]);
    env.fault(&["reject", "2", "tcp", "445"]);
    let broken = Case {
        name: "not-ready",
        args: vec!["--profile".into(), office, "--timeout".into(), "1s".into()],
        vars: roots,
    };
    let (broken_run, broken_json) = json_report(&env, &broken, "not-ready.json");
    assert_eq!(broken_run.exit_code, 2, "{}", broken_run.summary());
    let broken_html = html_report(&env, &broken, 2);
    check_html("not-ready", &broken_run, &broken_html);
    for width in [120u16, 80] {
        let (lines, coloured, code) = console(&broken, width, &[]);
        std::fs::write(
            artifacts().join(format!("not-ready-{width}.txt")),
            lines.join("\n"),
        )
        .expect("keep the screen");
        check_console("not-ready", &broken_run, width, &lines, code);
        snapshot(&format!("not-ready-{width}"), &lines);
        let smb = row(&lines, "dc.port.smb_tcp");
        assert!(smb.contains("dc1 ✓") && smb.contains("dc2 ✗"), "{smb}");
        let text = lines.join("\n");
        assert!(text.contains("\nWhat to do:\n"), "{text}");
        if width == 120 {
            shots.push(console_png("not-ready", width, &coloured));
        }
    }
    env.testenv(&["reset"]);

    // The vpn scenario: no DC yet, the gateways answer, the sign-in note is there.
    let (vpn_run, _) = json_report(&env, &vpn, "vpn.json");
    assert!(matches!(vpn_run.exit_code, 0 | 1), "{}", vpn_run.summary());
    let vpn_html = html_report(&env, &vpn, vpn_run.exit_code);
    check_html("vpn", &vpn_run, &vpn_html);
    for width in [120u16, 80] {
        let (lines, _, code) = console(&vpn, width, &[]);
        std::fs::write(
            artifacts().join(format!("vpn-{width}.txt")),
            lines.join("\n"),
        )
        .expect("keep the screen");
        check_console("vpn", &vpn_run, width, &lines, code);
        snapshot(&format!("vpn-{width}"), &lines);
        assert!(row(&lines, "vpn.ike").contains(&format!("{VPN_IP} ✓")));
        assert!(
            lines.iter().any(|l| l.starts_with("  note: ")),
            "{}",
            lines.join("\n")
        );
    }

    // diff: the same network twice is nothing worse (the locator may pick the other DC, and
    // times on a busy machine move: exit 0 or 1); healthy → broken is worse (exit 2) and names
    // what started failing; broken → healthy is better (exit 1) and names the fix.
    let same = diff(&healthy_json, &healthy_again_json, &[]);
    let same_text = String::from_utf8_lossy(&same.stdout);
    assert!(matches!(same.status.code(), Some(0 | 1)), "{same_text}");
    assert!(
        same_text.starts_with("UNCHANGED corp.jr.test: 0 worse")
            || same_text.starts_with("CHANGED corp.jr.test: 0 worse, 0 better"),
        "{same_text}"
    );
    let lenient = diff(
        &healthy_json,
        &healthy_again_json,
        &["--rtt-threshold", "10s"],
    );
    let lenient_text = String::from_utf8_lossy(&lenient.stdout);
    assert!(
        !lenient_text.contains("Round-trip time changed"),
        "{lenient_text}"
    );
    let worse = diff(&healthy_json, &broken_json, &[]);
    let worse_text = String::from_utf8_lossy(&worse.stdout);
    assert_eq!(worse.status.code(), Some(2), "{worse_text}");
    assert!(
        worse_text.starts_with("WORSE corp.jr.test: "),
        "{worse_text}"
    );
    assert!(
        worse_text.contains("verdict READY → NOT READY"),
        "{worse_text}"
    );
    assert!(
        worse_text.contains("\nStarted failing:\n")
            && worse_text.contains("  dc.port.smb_tcp dc2.corp.jr.test: pass → fail: "),
        "{worse_text}"
    );
    let as_json = diff(&healthy_json, &broken_json, &["--format", "json"]);
    assert_eq!(as_json.status.code(), Some(2));
    let value: serde_json::Value = serde_json::from_slice(&as_json.stdout).expect("diff JSON");
    assert_eq!(value["outcome"], "worse");
    assert!(value["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .any(|c| c["kind"] == "started_failing"
            && c["id"] == "ldap.rootdse"
            && c["target"] == "dc1.corp.jr.test"));
    let better = diff(&broken_json, &healthy_json, &[]);
    let better_text = String::from_utf8_lossy(&better.stdout);
    assert_eq!(better.status.code(), Some(1), "{better_text}");
    assert!(better_text.contains("\nFixed:\n  "), "{better_text}");
    let page = artifacts().join("diff.html");
    let page_text = page.display().to_string();
    let as_html = diff(
        &healthy_json,
        &broken_json,
        &["--format", "html", "--output", &page_text],
    );
    assert_eq!(as_html.status.code(), Some(2));
    let (dom, requests) = dom_and_requests(&page);
    assert!(dom.contains("<h1>WORSE <span class=\"mono\">corp.jr.test</span></h1>"));
    assert!(dom.contains("data-kind=\"started_failing\""));
    assert!(requests.iter().all(|u| !from_the_page(u)), "{requests:?}");

    update_docs(
        &artifacts().join("not-ready-desktop.png"),
        "report-html-desktop.png",
    );
    update_docs(
        &artifacts().join("not-ready-narrow.png"),
        "report-html-narrow.png",
    );
    for shot in shots {
        let name = shot
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        update_docs(&shot, &name);
    }
}

/// Bad input to diff exits 3 and names the file and what is wrong; no environment needed.
#[test]
fn diff_refuses_what_is_not_a_report_it_can_read() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"schema_version": 3, "started_at": "2026-12-01T08:00:00Z", "scenario": "entra",
            "domain": "corp.example.com", "verdict": {"status": "ready", "summary": "ok"},
            "checks": [{"id": "entra.x", "target": "t", "status": "pass", "finding": "f",
                        "evidence": {"kind": "a.kind.from.the.future"}}]}"#,
    )
    .expect("write");
    let old = dir.path().join("old.json");
    std::fs::write(&old, r#"{"schema_version": 1, "checks": []}"#).expect("write");
    let output = diff(&old, &good, &[]);
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{} has schema_version 1; this joinready reads 2 and 3",
            old.display()
        )),
        "{stderr}"
    );
    let missing = dir.path().join("missing.json");
    let output = diff(&good, &missing, &[]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
    // A schema 3 report (the entra scenario, an unknown evidence kind) against itself.
    let output = diff(&good, &good, &[]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
