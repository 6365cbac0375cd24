//! The command line (clap). Names here are an interface contract: scripts rely on them.

use crate::model::Scenario;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "joinready",
    version,
    about = "Is this device ready for Windows Autopilot user-driven mode with Microsoft Entra hybrid join?",
    long_about = "Is this device ready for Windows Autopilot user-driven mode with Microsoft Entra hybrid join?\n\n\
joinready checks, all at once, what a hybrid join needs: the domain controllers in DNS (per DNS server, \
site-aware), ICMP and the CLDAP ping the DC locator uses, the join's ports, LDAP and the bind, the clock, \
the connector account's rights in the OU and the registration SCP, the proxy through WPAD and its PAC, \
the Microsoft endpoints along that route (TLS inspection included), and in the vpn scenario the VPN \
gateway. It prints a verdict with the root cause first and a remedy for every failure.\n\n\
With --scenario entra it checks Microsoft Entra join instead: no Active Directory (no domain needed), \
the Autopilot, Entra ID, Intune and activation endpoints along the route SYSTEM takes, with no proxy \
authentication and no TLS inspection where they are forbidden.",
    after_help = "Examples:\n  joinready run                                   # domain from this machine's DNS search suffix\n  joinready run --domain corp.example.com --dns-server 10.0.0.10\n  joinready run --profile contoso.toml --format json --output /var/lib/joinready/last.json\n  joinready run --scenario entra                  # a Microsoft Entra join (cloud-only) device\n  joinready checks                                # what is checked\n  joinready explain dc.srv                        # why it matters, how to fix it\n  joinready explain 0x80070774                    # an error code: what predicts it, what to run\n  joinready run --profile contoso.toml --format prometheus --output /var/lib/node_exporter/textfile/joinready.prom\n  joinready serve --profiles /etc/joinready       # /metrics and /probe?profile=NAME on 127.0.0.1:9469\n\nExit codes: 0 ready, 1 ready with warnings, 2 not ready, 3 unknown (bad input, tool failure, deadline)."
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
    /// What a check tests, why it matters, how to fix a failure; or what an error code from the
    /// Autopilot screen, NetSetup.log or the Intune Connector means and which checks predict it.
    Explain {
        /// A check id, e.g. dc.srv (see `joinready checks`), or an error code: 0x80070774,
        /// 80070774, -2147022988, 0x6D9, 30132 (an event id). An unknown code exits 3.
        #[arg(allow_hyphen_values = true)]
        id: String,
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// Print the JSON Schema of the report (`--format json`).
    Schema,
    /// Serve Prometheus metrics: /metrics (the last runs, the process) and /probe?profile=NAME
    /// (a preflight on demand, in the manner of blackbox_exporter).
    Serve(ServeArgs),
    /// What changed between two JSON reports: checks that started failing, were fixed, changed
    /// their finding, appeared or disappeared, and round-trip times that moved. Exit 0 nothing
    /// changed, 1 changed but nothing worse, 2 something got worse, 3 bad input.
    #[command(
        after_help = "Examples:\n  joinready diff yesterday.json today.json                # before vs after a firewall change\n  joinready diff managed.json guest-wifi.json --format html --output diff.html\n\nReports come from `joinready run --format json --output FILE` (schema_version 2 or 3)."
    )]
    Diff(DiffArgs),
    /// Print a shell completion script, e.g. `joinready completions bash > /etc/bash_completion.d/joinready`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff), e.g. `joinready man > /usr/local/share/man/man1/joinready.1`.
    Man {
        /// A subcommand, for its own page (joinready-run(1) for `run`).
        command: Option<String>,
    },
}

#[derive(Debug, Args, Default)]
pub struct CatalogArgs {
    /// Add the checks in every *.toml file of DIR to the built-in catalog (repeatable).
    #[arg(long = "checks", value_name = "DIR")]
    pub checks: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: the verdict, one row per check with one mark per DC, gateway or endpoint,
    /// what did not pass, the remedies.
    Table,
    /// One JSON document (schema: `joinready schema`).
    Json,
    /// Prometheus text exposition (gauges; for node_exporter's textfile collector).
    Prometheus,
    /// JUnit XML: one testcase per check row (for CI pipelines).
    Junit,
    /// One self-contained HTML file (no scripts, fonts or images fetched; prints to PDF): the
    /// verdict, remedies, a DC x check matrix, each endpoint's route, a timeline of the checks.
    Html,
    /// The wide table: one row per check and target with its time and finding (for logs and
    /// tickets read in a wide window).
    Wide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScenarioArg {
    /// The DC must be reachable during Autopilot.
    #[value(name = "on-prem")]
    OnPrem,
    /// "Skip domain connectivity check" on: the VPN gateway must be reachable, the DC later.
    Vpn,
    /// Microsoft Entra join: no Active Directory; the cloud endpoints, tenant and activation.
    Entra,
}

impl From<ScenarioArg> for Scenario {
    fn from(value: ScenarioArg) -> Self {
        match value {
            ScenarioArg::OnPrem => Scenario::OnPrem,
            ScenarioArg::Vpn => Scenario::Vpn,
            ScenarioArg::Entra => Scenario::Entra,
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
    /// on-prem: the DC must answer now. vpn: "Skip domain connectivity check" is on. entra:
    /// Microsoft Entra join (no AD: DNS, DC, LDAP and VPN checks are not run).
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
    /// More detail in the table: -v shows every finding, -vv adds the evidence.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// ASCII status marks (+ ! X - ?) instead of ✓ ✗ in the table; the default when TERM=dumb,
    /// the locale is not UTF-8, or on the Windows console outside Windows Terminal.
    #[arg(long)]
    pub ascii: bool,
    /// Print only the verdict line (table format); no progress view.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// For people: the outcome, then the changes grouped by kind, worst first.
    Table,
    /// One JSON document: outcome, both reports' verdicts, every change.
    Json,
    /// One self-contained HTML file.
    Html,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (or the one from the network that works).
    #[arg(value_name = "OLD.json")]
    pub old: PathBuf,
    /// The later report (or the one from the network under suspicion).
    #[arg(value_name = "NEW.json")]
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Write the diff to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Flag a round-trip or answer time (rtt_ms, connect_ms, tls_ms, ...) that moved by more
    /// than this, e.g. 20ms, 1s.
    #[arg(long, value_name = "DURATION", default_value = "20ms")]
    pub rtt_threshold: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on. Loopback by default: put a reverse proxy or a firewall rule in
    /// front before listening elsewhere.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9469")]
    pub listen: SocketAddr,
    /// The directory of profiles: /probe?profile=NAME runs NAME.toml from here.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub profiles: PathBuf,
    /// Probes allowed to run at once; more are answered 503.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent: u16,
    /// Deadline of a probe when the scrape sends no X-Prometheus-Scrape-Timeout-Seconds header,
    /// e.g. 10s (the profile's deadline still applies when shorter).
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub default_timeout: String,
    /// Run only these checks or areas in every probe (repeatable).
    #[arg(long, value_name = "ID|AREA")]
    pub only: Vec<String>,
    /// Do not run these checks or areas in any probe (repeatable).
    #[arg(long, value_name = "ID|AREA")]
    pub skip: Vec<String>,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// The completion script for `shell`, generated from the definitions above.
pub fn completions(shell: clap_complete::Shell) -> String {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "joinready", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug, thiserror::Error)]
pub enum ManError {
    #[error("no command {0} (choose one of: {1})")]
    UnknownCommand(String, String),
    #[error("cannot render the man page: {0}")]
    Render(#[from] std::io::Error),
}

/// The man page (roff) of joinready, or of one subcommand (named `joinready-<command>`, as git
/// names its pages), generated from the definitions above.
pub fn man_page(subcommand: Option<&str>) -> Result<String, ManError> {
    let mut command = Cli::command();
    command.build();
    let page = match subcommand {
        None => command,
        Some(name) => {
            let Some(sub) = command.find_subcommand(name) else {
                let names: Vec<String> = command
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .collect();
                return Err(ManError::UnknownCommand(name.to_string(), names.join(", ")));
            };
            let full = format!("joinready-{name}");
            sub.clone().display_name(full.clone()).bin_name(full)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .source(format!("joinready {}", env!("CARGO_PKG_VERSION")))
        .render(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
