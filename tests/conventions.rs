//! How the tests that cannot run under a plain `cargo test` are marked, checked on the sources:
//! each carries `#[ignore = "…"]` with one of `support::IGNORE_REASONS` word for word, so that
//! `cargo test` lists it as ignored with its reason (never as passed), and
//! fixtures/test-all.sh's `cargo test -- --include-ignored` runs exactly these and nothing
//! ignored for another reason. Runs everywhere: it reads files only.

mod support;

use std::path::{Path, PathBuf};
use support::IGNORE_REASONS;

const ENVIRONMENT: &str = IGNORE_REASONS[0];
const ROOT: &str = IGNORE_REASONS[1];
const TOOLS: &str = IGNORE_REASONS[2];

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(directory).unwrap_or_else(|e| panic!("{}: {e}", directory.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() && !path.ends_with("target") {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every `#[test]` function of `source`: its name, its attributes' text, its body's text.
fn test_functions(source: &str) -> Vec<(String, String, String)> {
    let mut functions = Vec::new();
    for chunk in source.split("#[test]\n").skip(1) {
        let Some(at) = chunk.find("fn ") else {
            continue;
        };
        let (attributes, rest) = chunk.split_at(at);
        let name: String = rest[3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let body = rest.split("\n}\n").next().unwrap_or(rest);
        functions.push((name, attributes.to_string(), body.to_string()));
    }
    functions
}

/// The ports below 1024 that `body` binds: `bind_tcp`/`bind_udp(SocketAddr::from((IP, PORT)))`,
/// and the loopback fakes that bind 389 or 80 themselves.
fn binds_a_privileged_port(body: &str) -> bool {
    let fakes = [
        "FakeLdap::start(",
        "cldap_responder(",
        "serve_wpad(",
        "run_hostile_pac(",
    ];
    if fakes.iter().any(|f| body.contains(f)) {
        return true;
    }
    body.split("bind_").skip(1).any(|after| {
        let Some(call) = after
            .strip_prefix("tcp(SocketAddr::from((")
            .or_else(|| after.strip_prefix("udp(SocketAddr::from(("))
        else {
            return false;
        };
        let call = call.split("))").next().unwrap_or("");
        call.rsplit(", ")
            .next()
            .and_then(|port| port.trim().parse::<u16>().ok())
            .is_some_and(|port| port < 1024)
    })
}

#[test]
fn every_ignore_has_a_known_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for directory in ["src", "tests", "fuzz"] {
        rust_files(&root.join(directory), &mut files);
    }
    let mut wrong = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("read source");
        for (line_number, line) in source.lines().enumerate() {
            let line = line.trim();
            // An ignored doctest would be dragged into `--include-ignored` just the same.
            let doc_fence = (line.starts_with("///") || line.starts_with("//!"))
                && line.contains("```")
                && line.contains("ignore");
            if doc_fence {
                wrong.push(format!("{}:{}: {line}", file.display(), line_number + 1));
            }
            if !line.starts_with("#[ignore") {
                continue;
            }
            let known = IGNORE_REASONS
                .iter()
                .any(|reason| line == format!("#[ignore = \"{reason}\"]"));
            if !known {
                wrong.push(format!("{}:{}: {line}", file.display(), line_number + 1));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "an #[ignore] whose reason is not one of support::IGNORE_REASONS, or an ignored doctest \
         (fixtures/test-all.sh runs every ignored test, so each must be one of those, word for \
         word):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn tests_that_need_the_environment_root_or_tools_are_ignored_and_no_others() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("tests"), &mut files);
    // This file names what it looks for.
    files.retain(|file| !file.ends_with("conventions.rs"));
    let mut wrong = Vec::new();
    let mut ignored = 0;
    for file in &files {
        let source = std::fs::read_to_string(file).expect("read source");
        for (name, attributes, body) in test_functions(&source) {
            let needs = if body.contains("TestEnv::acquire()") {
                Some(ENVIRONMENT)
            } else if binds_a_privileged_port(&body) {
                Some(ROOT)
            } else if body.contains(" tool(\"") {
                Some(TOOLS)
            } else {
                None
            };
            let has = IGNORE_REASONS
                .into_iter()
                .find(|reason| attributes.contains(&format!("#[ignore = \"{reason}\"]")));
            if has.is_some() {
                ignored += 1;
            }
            if has != needs {
                wrong.push(format!(
                    "{} {name}: should be {}, is {}",
                    file.display(),
                    needs.map_or("not ignored".to_string(), |r| format!("ignored ({r})")),
                    has.map_or("not ignored".to_string(), |r| format!("ignored ({r})")),
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        ignored > 0,
        "no ignored test found: is this reading tests/?"
    );
}

/// JOINREADY_E2E=1 used to select the end-to-end tests; now `--include-ignored` does, and a
/// run that still sets it would believe it ran them.
#[test]
fn joinready_e2e_is_no_longer_used() {
    assert!(
        std::env::var_os("JOINREADY_E2E").is_none(),
        "JOINREADY_E2E no longer selects the end-to-end tests: they are #[ignore]d, and \
         `cargo test -- --include-ignored` (as root, environment up) runs them, as \
         fixtures/test-all.sh does. Unset JOINREADY_E2E."
    );
}
