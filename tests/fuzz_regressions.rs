//! Replays every kept fuzz input (fixtures/fuzz/<target>/: the minimized corpus and any input
//! that ever crashed) through the same code the cargo fuzz targets run (fuzz/harness.rs), so
//! CI checks them without cargo fuzz or a nightly toolchain. See fuzz/Cargo.toml for how to
//! fuzz further and README "Guarantees".

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

/// The corpus kept in the repository stays small: it is for regressions, not for fuzzing.
const MAX_FILES: usize = 60;
const MAX_BYTES: u64 = 200 * 1024;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_kept_fuzz_input_is_handled_without_a_panic() {
    for (target, run) in harness::TARGETS {
        let files = corpus(target);
        assert!(!files.is_empty(), "fixtures/fuzz/{target} is empty");
        assert!(
            files.len() <= MAX_FILES,
            "fixtures/fuzz/{target} has {} files: minimize it (cargo fuzz cmin)",
            files.len()
        );
        let bytes: u64 = files
            .iter()
            .map(|f| f.metadata().map(|m| m.len()).unwrap_or(0))
            .sum();
        assert!(
            bytes <= MAX_BYTES,
            "fixtures/fuzz/{target} holds {bytes} bytes"
        );
        for file in files {
            let data = std::fs::read(&file).expect("read a corpus file");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(
                outcome.is_ok(),
                "{target} panics on {} (replay: cargo fuzz run {target} {})",
                file.display(),
                file.display()
            );
        }
    }
}
