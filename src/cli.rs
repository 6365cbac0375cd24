//! The command line (clap). Names here are an interface contract: scripts rely on them.

use crate::model::Scenario;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "joinready",
    version,
    about = "Is this device ready for Windows Autopilot user-driven mode with Microsoft Entra hybrid join?",
    long_about = "Is this device ready for Windows Autopilot user-driven mode with Microsoft Entra hybrid join?\n\n\
joinready finds the domain controllers through DNS (per DNS server, site-aware), pings them, reads their \
rootDSE and binds the way the profile says, all at once, and prints a verdict with the root cause first \
and a remedy for every failure.",
    after_help = "Examples:\n  joinready run                                   # domain from this machine's DNS search suffix\n  joinready run --domain corp.example.com --dns-server 10.0.0.10\n  joinready run --profile contoso.toml --format json --output /var/lib/joinready/last.json\n  joinready checks                                # what is checked\n  joinready explain dc.srv                        # why it matters, how to fix it\n\nExit codes: 0 ready, 1 ready with warnings, 2 not ready, 3 unknown (bad input, tool failure, deadline)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the preflight and print the verdict.
    Run(RunArgs),
    /// List the checks: id, area, title.
    Checks(CatalogArgs),
    /// What a check tests, why it matters, how to fix a failure.
    Explain {
        /// A check id, e.g. dc.srv (see `joinready checks`).
        id: String,
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// Print the JSON Schema of the report (`--format json`).
    Schema,
}

#[derive(Debug, Args, Default)]
pub struct CatalogArgs {
    /// Add the checks in every *.toml file of DIR to the built-in catalog (repeatable).
    #[arg(long = "checks", value_name = "DIR")]
    pub checks: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Verdict, one row per check, remedies (for people).
    Table,
    /// One JSON document (schema: `joinready schema`).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScenarioArg {
    /// The DC must be reachable during Autopilot.
    #[value(name = "on-prem")]
    OnPrem,
    /// "Skip domain connectivity check" on: the VPN gateway must be reachable, the DC later.
    Vpn,
}

impl From<ScenarioArg> for Scenario {
    fn from(value: ScenarioArg) -> Self {
        match value {
            ScenarioArg::OnPrem => Scenario::OnPrem,
            ScenarioArg::Vpn => Scenario::Vpn,
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The organisation's profile (TOML). Without one, the domain comes from --domain or the
    /// system's DNS search suffix.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// The Active Directory DNS domain, e.g. corp.example.com (overrides the profile).
    #[arg(long, value_name = "NAME")]
    pub domain: Option<String>,
    /// A DNS server to ask, each separately (repeatable; default: the profile's, else the system's).
    #[arg(long = "dns-server", value_name = "IP[:PORT]")]
    pub dns_servers: Vec<String>,
    /// on-prem: the DC must answer now. vpn: "Skip domain connectivity check" is on.
    #[arg(long, value_enum, value_name = "SCENARIO")]
    pub scenario: Option<ScenarioArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Per-check timeout, e.g. 500ms, 2s (default 3s).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Whole-run deadline, e.g. 20s, 1m (default 20s); the report is written even when it hits.
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// Run only these checks or areas (repeatable); the checks they need run too.
    #[arg(long, value_name = "ID|AREA")]
    pub only: Vec<String>,
    /// Do not run these checks or areas (repeatable).
    #[arg(long, value_name = "ID|AREA")]
    pub skip: Vec<String>,
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// More detail: -v shows evidence in the table, -vv also logs probe steps to stderr.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only the verdict line (table format); no progress view.
    #[arg(short, long)]
    pub quiet: bool,
}
