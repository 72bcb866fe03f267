//! The command line (docs/cli.md): clap definitions and one function per subcommand. `main.rs`
//! only calls `cli::main()`; exit codes are decided here. `run` and `demo` hand over to `daemon`;
//! `rotate` is in [`rotate`].

mod rotate;

use crate::app::App;
use crate::clock::SystemClock;
use crate::config::{self, Config};
use crate::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Exit status for an invalid configuration or an unreachable tenant (Nagios UNKNOWN).
pub const EXIT_UNKNOWN: u8 = 3;

/// certwatch: watches every certificate an Auth0 tenant depends on.
#[derive(Debug, Parser)]
#[command(name = "certwatch", version, about, long_about = None)]
pub struct Cli {
    /// Config file [default: /etc/certwatch/certwatch.toml].
    #[arg(long, global = true, env = "CERTWATCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Log level or filter (RUST_LOG wins when set), e.g. `info`, `certwatch=debug`.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Report format of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned, coloured table.
    Table,
    /// The JSON report (see docs/json.md).
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: poll on the schedule and serve /metrics, /api and the status page.
    Run {
        /// Listen address (overrides server.listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Poll once, print the report and exit with the Nagios status (0 ok, 1 warning, 2 critical, 3 unknown).
    Scan {
        /// Output format [default: table on a terminal, json otherwise].
        #[arg(long, value_enum)]
        output: Option<Output>,
        /// Only these tenants (repeatable).
        #[arg(long = "tenant")]
        tenants: Vec<String>,
        /// Table: list `info` findings too (by default they are only counted).
        #[arg(long)]
        verbose: bool,
    },
    /// One rotation pass (dry run unless --apply).
    Rotate {
        /// Carry out the plan.
        #[arg(long)]
        apply: bool,
    },
    /// Start a simulated Auth0 tenant and a daemon watching it; no configuration needed.
    Demo {
        /// Listen address of the daemon.
        #[arg(long, default_value = config::DEFAULT_LISTEN)]
        listen: SocketAddr,
    },
    /// Validate the configuration and print it with secrets masked (exit 0 valid, 3 invalid).
    CheckConfig,
}

/// The async runtime a command runs on (docs/polling.md, CPU). Measured: with a worker per CPU,
/// a poll's responses wake whichever worker is idle and its tasks migrate between threads, so
/// the kernel's switching between runtime threads costs a large part of an I/O-bound poll's
/// CPU. `scan`, `check-config` and `rotate` are one pass of such I/O: one thread.
/// `run` and `demo` also serve HTTP while a poll decodes certificates and renders metrics: two
/// workers, so `/healthz` and scrapes are answered during a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Everything on the calling thread (`current_thread`).
    CurrentThread,
    /// A multi-threaded runtime with this many workers.
    Workers(usize),
}

impl Flavour {
    /// Worker threads of the daemon (`run`, `demo`).
    pub const DAEMON_WORKERS: usize = 2;

    /// The runtime of `command`.
    pub fn for_command(command: &Command) -> Self {
        match command {
            Command::Run { .. } | Command::Demo { .. } => Self::Workers(Self::DAEMON_WORKERS),
            Command::Scan { .. } | Command::Rotate { .. } | Command::CheckConfig => {
                Self::CurrentThread
            }
        }
    }

    /// The runtime of `scan` (also what the poll benchmark measures).
    pub fn for_scan() -> Self {
        Self::CurrentThread
    }
}

/// Build the runtime of `flavour` (timers and I/O enabled).
pub fn runtime(flavour: Flavour) -> std::io::Result<tokio::runtime::Runtime> {
    match flavour {
        Flavour::CurrentThread => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Flavour::Workers(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n.max(1))
            .enable_all()
            .build(),
    }
}

/// Parse arguments and run; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format, cli.log_level.as_deref());
    let runtime = match runtime(Flavour::for_command(&cli.command)) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("certwatch: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_UNKNOWN);
        }
    };
    let code = runtime.block_on(dispatch(cli));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    ExitCode::from(code)
}

fn load(path: &Option<PathBuf>) -> Result<Config, u8> {
    config::load(path.as_deref()).map_err(|e| {
        eprintln!("certwatch: invalid configuration: {e}");
        EXIT_UNKNOWN
    })
}

async fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::CheckConfig => check_config(&cli.config),
        Command::Scan {
            output,
            tenants,
            verbose,
        } => match load(&cli.config) {
            Ok(c) => scan(c, output, &tenants, verbose).await,
            Err(code) => code,
        },
        Command::Run { listen } => match load(&cli.config) {
            Ok(mut c) => {
                if let Some(l) = listen {
                    c.listen = l;
                }
                crate::daemon::run(c, Some((cli.config.clone(), listen))).await
            }
            Err(code) => code,
        },
        Command::Demo { listen } => crate::demo::run(listen).await,
        Command::Rotate { apply } => match load(&cli.config) {
            Ok(c) => rotate::run(c, apply).await,
            Err(code) => code,
        },
    }
}

/// `check-config`: everything `run` and a reload check but binding the port (docs/cli.md).
fn check_config(path: &Option<PathBuf>) -> u8 {
    let c = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Err(e) = c.check_state_dir(false) {
        eprintln!("certwatch: invalid configuration: {e}");
        return EXIT_UNKNOWN;
    }
    print!("{}", c.render_masked());
    eprintln!(
        "certwatch: configuration is valid ({} tenant(s){})",
        c.tenants.len(),
        c.file
            .as_ref()
            .map(|f| format!(", {}", f.display()))
            .unwrap_or_default()
    );
    0
}

async fn scan(mut c: Config, output: Option<Output>, only: &[String], verbose: bool) -> u8 {
    if !only.is_empty() {
        if let Some(missing) = only
            .iter()
            .find(|n| !c.tenants.iter().any(|t| &t.name == *n))
        {
            eprintln!("certwatch: no tenant named {missing:?} in the configuration");
            return EXIT_UNKNOWN;
        }
        c.tenants.retain(|t| only.contains(&t.name));
    }
    let app = match poll_once(c).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    let report = app.report();
    let stdout = std::io::stdout();
    let output = output.unwrap_or(if stdout.is_terminal() {
        Output::Table
    } else {
        Output::Json
    });
    match output {
        Output::Json => println!("{}", report.to_json()),
        Output::Table => print!("{}", report.to_table_with(stdout.is_terminal(), verbose)),
    }
    report.exit_code()
}

/// Build the app for a one-shot command (`scan`, `rotate`) and poll every tenant once; when the
/// app cannot be built, the message is printed and the exit status returned.
async fn poll_once(c: Config) -> Result<App, u8> {
    let app = App::build(c, Arc::new(SystemClock)).map_err(|e| {
        eprintln!("certwatch: {e:#}");
        EXIT_UNKNOWN
    })?;
    app.poll_now().await;
    Ok(app)
}
