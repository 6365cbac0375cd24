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

/// The module a source file is, as a path under the crate: `src/check/mod.rs` is `check`,
/// `src/check/tcp.rs` is `check::tcp`, `src/lib.rs` is the crate itself.
fn module_of(file: &Path) -> String {
    let relative = file
        .strip_prefix(support::repo().join("src"))
        .unwrap_or(file)
        .with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        return "crate".to_string();
    }
    parts.join("::")
}

/// Every module a file's non-test code names through `crate::` or `super::`, mapped to the
/// longest known module path.
fn imports(module: &str, source: &str, modules: &[String]) -> Vec<String> {
    let code = source
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or(source);
    let base: Vec<&str> = module.split("::").collect();
    let parent = &base[..base.len().saturating_sub(1)];
    let mut found = Vec::new();
    for (prefix, root) in [("crate::", Vec::new()), ("super::", parent.to_vec())] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == ':'
                })
                .collect();
            let mut parts: Vec<&str> = root.clone();
            parts.extend(path.split("::").filter(|p| !p.is_empty()));
            while !parts.is_empty() {
                let candidate = parts.join("::");
                if modules.contains(&candidate) {
                    if candidate != module {
                        found.push(candidate);
                    }
                    break;
                }
                parts.pop();
            }
        }
    }
    // A parent names its own submodules without a prefix (`use shape::Fact`).
    for child in modules {
        let Some((parent, name)) = child.rsplit_once("::") else {
            continue;
        };
        let parent = if parent.is_empty() { "crate" } else { parent };
        let own = parent == module || (module == "crate" && !child.contains("::"));
        if own && code.contains(&format!("{name}::")) {
            found.push(child.clone());
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut files = Vec::new();
    rust_files(&support::repo().join("src"), &mut files);
    let modules: Vec<String> = files.iter().map(|f| module_of(f)).collect();
    let graph: Vec<(String, Vec<String>)> = files
        .iter()
        .map(|file| {
            let module = module_of(file);
            let source = std::fs::read_to_string(file).unwrap();
            let found = imports(&module, &source, &modules);
            (module, found)
        })
        .collect();
    assert!(graph.len() > 40, "too few modules found: {}", graph.len());
    let edges = |m: &str| {
        graph
            .iter()
            .find(|(name, _)| name == m)
            .map(|(_, to)| to.clone())
            .unwrap_or_default()
    };
    // A path back to the start from any module it imports is a cycle; the graph is small, so a
    // bounded search from every module is enough.
    for (start, first) in &graph {
        let mut queue: Vec<Vec<String>> = first
            .iter()
            .map(|m| vec![start.clone(), m.clone()])
            .collect();
        let mut seen: Vec<String> = Vec::new();
        while let Some(path) = queue.pop() {
            let last = path.last().cloned().unwrap_or_default();
            if last == *start {
                panic!("import cycle: {}", path.join(" → "));
            }
            if seen.contains(&last) {
                continue;
            }
            seen.push(last.clone());
            for next in edges(&last) {
                let mut longer = path.clone();
                longer.push(next);
                queue.push(longer);
            }
        }
    }
}
