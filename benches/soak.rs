//! Soak benchmark: a `certwatch run` child against the simulator's demo tenant, measured from
//! outside (`/proc/PID`): its file descriptors and resident memory across many configuration
//! reloads (SIGHUP), then how fast `/healthz` and `/metrics` answer while a client holds many
//! idle connections open (reopening each one the server closes), under an open-files limit like
//! the systemd unit's. Numbers are printed, never asserted.
//!
//! ```text
//! cargo bench --bench soak -- --certwatch-bin PATH [--reloads N] [--connections N]
//!                             [--hold SECS] [--fd-limit N] [--markdown PATH]
//! ```
//! Defaults: 200 reloads, 1,000 connections held for 600 s, the unit's `LimitNOFILE=8192`.
//! `scripts/bench.sh --soak` builds the release binary and passes these flags. Linux only.

use certwatch::clock::Clock as _;
use certwatch::sim::{Sim, demo};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    // Like benches/poll.rs: without `--bench` (as under `cargo test --all-targets`) it does not
    // run; it takes minutes and measures wall time.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("soak bench: run it with `cargo bench --bench soak` or scripts/bench.sh --soak");
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = args.into_iter().filter(|a| a != "--bench").collect();
    let result = Options::parse(&args).and_then(|o| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run(o))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("soak bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

struct Options {
    bin: PathBuf,
    reloads: usize,
    connections: usize,
    hold: Duration,
    fd_limit: u64,
    markdown: Option<PathBuf>,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Self> {
        let mut o = Options {
            bin: PathBuf::from("target/release/certwatch"),
            reloads: 200,
            connections: 1_000,
            hold: Duration::from_secs(600),
            fd_limit: 8_192,
            markdown: None,
        };
        let args: Vec<&String> = args.iter().filter(|a| *a != "--soak").collect();
        for pair in args.chunks(2) {
            let [key, value] = pair else {
                anyhow::bail!("{} needs a value", pair[0]);
            };
            match key.as_str() {
                "--certwatch-bin" => o.bin = PathBuf::from(value),
                "--reloads" => o.reloads = value.parse()?,
                "--connections" => o.connections = value.parse()?,
                "--hold" => o.hold = Duration::from_secs(value.parse()?),
                "--fd-limit" => o.fd_limit = value.parse()?,
                "--markdown" => o.markdown = Some(PathBuf::from(value)),
                other => anyhow::bail!("unknown option {other:?}"),
            }
        }
        Ok(o)
    }
}

async fn run(o: Options) -> anyhow::Result<()> {
    let sim = Sim::spawn(demo::tenant(certwatch::clock::SystemClock.now())).await?;
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let cfg = dir.path().join("certwatch.toml");
    std::fs::write(&cfg, config(&sim, dir.path(), port))?;
    let logs = dir.path().join("certwatch.log");
    let mut child = spawn(&o, &cfg, &logs)?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("the child has no pid"))?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(0)
        .build()?;
    wait_until("the first poll", Duration::from_secs(60), async || {
        status(&client, &format!("{base}/readyz")).await == Some(200)
    })
    .await?;
    let mut report = format!("## certwatch soak ({})\n\n", o.bin.display());
    let table = "| phase | fds | RSS (MiB) | note |\n|---|---|---|---|\n";
    report.push_str(table);
    let row = |report: &mut String, phase: &str, note: &str| {
        let _ = writeln!(
            report,
            "| {phase} | {} | {:.1} | {note} |",
            fds(pid),
            rss_kib(pid) as f64 / 1024.0
        );
    };
    row(&mut report, "started", "");

    let reloads = reload(&o, &client, &base, pid, &logs).await;
    if let Err(e) = &reloads {
        let log = std::fs::read_to_string(&logs).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        eprintln!("soak bench: {e}; the daemon's last log lines:");
        for line in tail.iter().rev() {
            eprintln!("  {line}");
        }
    }
    row(
        &mut report,
        &format!("after {} reloads", o.reloads),
        &format!("{:.1} s", reloads?.as_secs_f64()),
    );

    let held = hold(&o, &client, &base, pid).await?;
    let _ = write!(report, "\n{held}\n\n{table}");
    // The daemon notices the closed connections.
    tokio::time::sleep(Duration::from_secs(2)).await;
    row(&mut report, "after holding", "connections closed");

    signal(pid, "-TERM")?;
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    let _ = writeln!(report, "\nexit: {exit:?}");
    sim.shutdown().await;
    print!("{report}");
    if let Some(path) = &o.markdown {
        std::fs::write(path, &report)?;
    }
    Ok(())
}

/// Send `o.reloads` SIGHUPs, each after the previous reload is logged and the daemon ready
/// again; how long they took.
async fn reload(
    o: &Options,
    client: &reqwest::Client,
    base: &str,
    pid: u32,
    logs: &Path,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for i in 1..=o.reloads {
        signal(pid, "-HUP")?;
        wait_until("a reload", Duration::from_secs(30), async || {
            logged(logs, "configuration reloaded") >= i && logged(logs, "certwatch listening") > i
        })
        .await?;
        // A build that registers its SIGHUP handler only once serving would miss a signal
        // sent at once (and the runs would not compare).
        tokio::time::sleep(Duration::from_millis(100)).await;
        wait_until(
            "ready after the reload",
            Duration::from_secs(30),
            async || status(client, &format!("{base}/readyz")).await == Some(200),
        )
        .await?;
    }
    Ok(started.elapsed())
}

/// The daemon's configuration: one tenant on the simulator, one (never used) alert channel,
/// nothing a build before connection limits would reject.
fn config(sim: &Sim, state: &Path, port: u16) -> String {
    format!(
        "state_dir = {state:?}\n[server]\nlisten = \"127.0.0.1:{port}\"\n\
         [schedule]\ninterval = \"1h\"\nrun_on_start = true\n\
         [[tenants]]\nname = \"demo\"\ndomain = \"{domain}\"\nbase_url = \"{url}\"\n\
         client_id = \"{id}\"\nclient_secret = \"{secret}\"\n\
         [[alerts.webhook]]\nname = \"ops\"\nurl = \"http://127.0.0.1:9/hook\"\n",
        state = state.join("state").display().to_string(),
        domain = demo::DEMO_DOMAIN,
        url = sim.url(),
        id = demo::DEMO_CLIENT_ID,
        secret = demo::DEMO_CLIENT_SECRET,
    )
}

/// `certwatch run` with the open-files limit set by the shell, logs to a file.
fn spawn(o: &Options, cfg: &Path, logs: &Path) -> anyhow::Result<tokio::process::Child> {
    let log = std::fs::File::create(logs)?;
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n {} && exec \"$0\" run --config \"$1\"",
            o.fd_limit
        ))
        .arg(&o.bin)
        .arg(cfg)
        .env_remove("RUST_LOG")
        .env_remove("CERTWATCH_CONFIG")
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()?;
    Ok(child)
}

/// Hold `o.connections` idle connections for `o.hold`, reopening each one the server closes;
/// meanwhile time `/healthz` and `/metrics` every few seconds. A Markdown summary.
async fn hold(
    o: &Options,
    client: &reqwest::Client,
    base: &str,
    pid: u32,
) -> anyhow::Result<String> {
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse()?;
    let reopened = Arc::new(AtomicU64::new(0));
    let stop = tokio_util::sync::CancellationToken::new();
    let mut hoarders = tokio::task::JoinSet::new();
    for i in 0..o.connections {
        let (reopened, stop) = (reopened.clone(), stop.clone());
        // Paced, so the listen backlog never overflows (dropped SYNs are retried only after
        // seconds, and the connections would trickle in instead of being held).
        let start = Duration::from_micros(500) * i as u32;
        hoarders.spawn(async move {
            use tokio::io::AsyncReadExt as _;
            tokio::time::sleep(start).await;
            let mut first = true;
            while !stop.is_cancelled() {
                if let Ok(mut s) = tokio::net::TcpStream::connect(addr).await {
                    if !std::mem::take(&mut first) {
                        reopened.fetch_add(1, Ordering::Relaxed);
                    }
                    let mut b = [0u8; 1];
                    tokio::select! {
                        _ = s.read(&mut b) => {}
                        _ = stop.cancelled() => return,
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    let mut healthz = Vec::new();
    let mut metrics = Vec::new();
    let (mut max_fds, mut max_rss) = (0, 0);
    let until = Instant::now() + o.hold + Duration::from_micros(500) * o.connections as u32;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(3)).await;
        healthz.push(timed(client, &format!("{base}/healthz")).await);
        metrics.push(timed(client, &format!("{base}/metrics")).await);
        max_fds = max_fds.max(fds(pid));
        max_rss = max_rss.max(rss_kib(pid));
    }
    stop.cancel();
    hoarders.shutdown().await;
    Ok(format!(
        "{} idle connections held for {} s (reopened {} times after the server closed them):\n\
         - /healthz: {}\n- /metrics: {}\n- daemon at most {max_fds} fds, {:.1} MiB RSS",
        o.connections,
        o.hold.as_secs(),
        reopened.load(Ordering::Relaxed),
        summary(&healthz),
        summary(&metrics),
        max_rss as f64 / 1024.0
    ))
}

/// One GET on a fresh connection: its latency, or why it failed (over 5 s is a timeout).
async fn timed(client: &reqwest::Client, url: &str) -> Result<Duration, &'static str> {
    let t = Instant::now();
    match client.get(url).send().await {
        Ok(r) if r.status().is_success() => Ok(t.elapsed()),
        Ok(_) => Err("error status"),
        Err(e) if e.is_timeout() => Err("timed out"),
        Err(e) if e.is_connect() => Err("connect failed"),
        Err(_) => Err("connection closed"),
    }
}

fn summary(samples: &[Result<Duration, &'static str>]) -> String {
    let mut ok: Vec<Duration> = samples.iter().filter_map(|s| s.ok()).collect();
    ok.sort();
    let mut failed = std::collections::BTreeMap::<&str, usize>::new();
    for why in samples.iter().filter_map(|s| s.err()) {
        *failed.entry(why).or_default() += 1;
    }
    let failed: Vec<String> = failed.iter().map(|(why, n)| format!("{n} {why}")).collect();
    let ms =
        |d: Option<&Duration>| d.map_or("-".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1e3));
    format!(
        "{} requests, {} failed{}; median {}, max {}",
        samples.len(),
        samples.len() - ok.len(),
        if failed.is_empty() {
            String::new()
        } else {
            format!(" ({})", failed.join(", "))
        },
        ms(ok.get(ok.len() / 2)),
        ms(ok.last())
    )
}

async fn status(client: &reqwest::Client, url: &str) -> Option<u16> {
    Some(client.get(url).send().await.ok()?.status().as_u16())
}

/// How many times the daemon has logged `what`.
fn logged(logs: &Path, what: &str) -> usize {
    std::fs::read_to_string(logs)
        .unwrap_or_default()
        .matches(what)
        .count()
}

fn signal(pid: u32, sig: &str) -> anyhow::Result<()> {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()?
        .success();
    anyhow::ensure!(ok, "kill {sig} {pid} failed");
    Ok(())
}

async fn wait_until(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> bool,
) -> anyhow::Result<()> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}
