//! Thin: parse, run, exit. Usage errors exit 3 so a typo never reads as "not ready".

use clap::Parser;
use joinready::app::{execute, EXIT_UNKNOWN};
use joinready::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => EXIT_UNKNOWN,
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match execute(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("joinready: {error:#}");
            ExitCode::from(EXIT_UNKNOWN)
        }
    }
}
