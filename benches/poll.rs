//! Poll benchmark: certwatch (and, side by side, a Python baseline built on the official
//! `auth0-python` SDK) inventories generated tenants served by the simulator, under Auth0-like
//! rate limits. Numbers are printed, never asserted: see `benches/README.md`.
//!
//! The driver (this process) owns the simulators and counts what they receive; every poll runs
//! in a child process, so its numbers are its own: CPU seconds from wait4 (`benches/rusage.py`),
//! peak RSS as the child's own `VmHWM` at exit.
//! The certwatch child is this same binary (`poll child …`): it builds the daemon's `App` from
//! a config pointing at the simulators, runs one `poll_now()` and times `/metrics` rendering.
//!
//! ```text
//! cargo bench --bench poll -- [--quick|--full|--budget] [--python PATH] [--no-baseline]
//!                             [--certwatch-bin PATH] [--markdown PATH]
//!                             [--only LABEL-PART]... [--repeat N]
//! ```
//! `--budget` runs only the budget scenario (`budget.rs`): full and steady-state poll cost,
//! the budget floor, and the runtime flavours compared.
//! `scripts/bench.sh` builds everything, prepares the Python venv and passes these flags.

use certwatch::app::App;
use certwatch::auth0::pagination::{MAX_PAGE_SIZE, min_requests};
use certwatch::auth0::wire;
use certwatch::clock::SystemClock;
use certwatch::inventory::sources;
use certwatch::sim::demo::{self, ScaleSpec};
use certwatch::sim::faults::ANY_API_ROUTE;
use certwatch::sim::{Fault, FaultKind, RateLimit, RecordedRequest, Sim, SimTenant};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "poll/budget.rs"]
mod budget;

const TOKEN_ROUTE: &str = "/oauth/token";
const JWKS_ROUTE: &str = "/.well-known/jwks.json";
/// `/metrics` is rendered this many times after the poll; the median is reported.
const RENDERS: usize = 7;

fn main() -> ExitCode {
    // `cargo bench` appends `--bench`; nothing else is expected from it. Without it (as under
    // `cargo test --all-targets`) the benchmark does not run: it is minutes long and measures
    // wall time, which has no place in the test suite.
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if !raw.iter().any(|a| a == "--bench" || a == "child") {
        eprintln!("poll bench: run it with `cargo bench --bench poll` or scripts/bench.sh");
        return ExitCode::SUCCESS;
    }
    let args: Vec<String> = raw.into_iter().filter(|a| a != "--bench").collect();
    let result = match args.first().map(String::as_str) {
        Some("child") => child(&args[1..]),
        _ => driver(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("poll bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

// === the child: one certwatch poll ===

/// `child --state DIR [--metadata] [--polls N] [--runtime cli|current|multi|WORKERS] URL...`:
/// one tenant per URL; prints one JSON line on stdout.
fn child(args: &[String]) -> anyhow::Result<()> {
    let mut state = std::env::temp_dir();
    let mut metadata = false;
    let mut polls = 1usize;
    let mut runtime = "cli".to_string();
    let mut urls = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--state" => state = PathBuf::from(value()?),
            "--metadata" => metadata = true,
            "--polls" => polls = value()?.parse()?,
            "--runtime" => runtime = value()?.clone(),
            url => urls.push(url.to_string()),
        }
    }
    let mut toml = format!(
        "state_dir = {state:?}\n[server]\nlisten = \"127.0.0.1:0\"\n\
         [schedule]\ninterval = \"1h\"\nrun_on_start = false\n",
        state = state.display().to_string()
    );
    if metadata {
        // The simulator's IdPs are plain HTTP on loopback.
        toml.push_str("[metadata]\nenabled = true\nallow_http = true\n");
    }
    for (i, url) in urls.iter().enumerate() {
        write!(
            toml,
            "[[tenants]]\nname = \"t{i}\"\ndomain = \"{domain}\"\nbase_url = \"{url}\"\n\
             client_id = \"{id}\"\nclient_secret = \"{secret}\"\ntimeout = \"30s\"\n",
            domain = demo::DEMO_DOMAIN,
            id = demo::DEMO_CLIENT_ID,
            secret = demo::DEMO_CLIENT_SECRET,
        )?;
    }
    let config = certwatch::config::from_toml(&toml)?;
    let runtime = child_runtime(&runtime)?;
    let report = runtime.block_on(async move {
        let app = App::build(config, Arc::new(SystemClock))?;
        let mut each = Vec::new();
        let mut snapshot = app.snapshot();
        for _ in 0..polls.max(1) {
            let started = Instant::now();
            snapshot = app.poll_now().await;
            let secs = started.elapsed().as_secs_f64();
            each.push(json!({"secs": secs, "api_calls": poll_api_calls(&app.metrics().render())}));
        }
        let poll_secs = each[0]["secs"].as_f64().unwrap_or(f64::NAN);
        let mut times = Vec::with_capacity(RENDERS);
        let mut size = 0;
        for _ in 0..RENDERS {
            let t = Instant::now();
            let text = app.metrics().render();
            times.push(t.elapsed().as_secs_f64() * 1e3);
            size = text.len();
        }
        times.sort_by(f64::total_cmp);
        let errors: usize = snapshot.tenants.iter().map(|t| t.errors.len()).sum();
        let first_error = snapshot
            .tenants
            .iter()
            .flat_map(|t| &t.errors)
            .next()
            .map(|e| format!("{}: {}", e.source.as_str(), e.message));
        anyhow::Ok(json!({
            "peak_rss_kib": peak_rss_kib(),
            "poll_secs": poll_secs,
            "records": snapshot.records().count(),
            "errors": errors,
            "first_error": first_error,
            "tenants_up": snapshot.tenants.iter().filter(|t| t.up).count(),
            "render_ms": times[times.len() / 2],
            "metrics_bytes": size,
            "polls": each,
        }))
    })?;
    println!("{report}");
    Ok(())
}

/// The runtime of a child: `cli` (what `scan` uses, `certwatch::cli::runtime_for_scan`),
/// `current` (one thread), `multi` (tokio's default: a worker per CPU) or a worker count.
fn child_runtime(name: &str) -> anyhow::Result<tokio::runtime::Runtime> {
    let built = match name {
        "cli" => certwatch::cli::runtime(certwatch::cli::Flavour::for_scan()),
        "current" => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        "multi" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n.parse()?)
            .enable_all()
            .build(),
    };
    Ok(built?)
}

/// The sum of `certwatch_poll_api_calls` over tenants in a `/metrics` text.
fn poll_api_calls(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("certwatch_poll_api_calls{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// This process's peak resident set (`VmHWM`), in KiB. Read by the process itself because
/// wait4's `ru_maxrss` also counts the forked parent's memory before `exec`.
fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

// === the driver ===

#[derive(Clone, Copy, Debug, PartialEq)]
enum Size {
    Demo,
    Scaled(&'static str, ScaleSpec),
    /// The budget scenario's tenant (`budget::tenant`).
    Budget,
}

impl Size {
    const S: Size = Size::Scaled("S", ScaleSpec::S);
    const M: Size = Size::Scaled("M", ScaleSpec::M);
    const L: Size = Size::Scaled("L", ScaleSpec::L);
    /// M with IdP metadata for each of its 300 SAML connections, fetched with `[metadata]`.
    const M_IDP: Size = Size::Scaled(
        "M+idp",
        ScaleSpec {
            idp_metadata: true,
            ..ScaleSpec::M
        },
    );

    fn metadata(self) -> bool {
        matches!(self, Size::Scaled(_, spec) if spec.idp_metadata)
    }

    fn name(self) -> &'static str {
        match self {
            Size::Demo => "demo",
            Size::Scaled(name, _) => name,
            Size::Budget => "M+budget",
        }
    }

    fn tenant(self, now: time::OffsetDateTime) -> SimTenant {
        match self {
            Size::Demo => demo::tenant(now),
            Size::Scaled(_, spec) => demo::scaled(now, spec),
            Size::Budget => budget::tenant(now),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Limit {
    name: &'static str,
    rate: Option<RateLimit>,
}

/// Added to every Management API response (the simulator answers in well under a millisecond;
/// Auth0 over the Internet takes tens to hundreds).
const WAN_LATENCY: Duration = Duration::from_millis(100);

const LIMIT_2: Limit = Limit {
    name: "2/s b2",
    rate: Some(RateLimit {
        burst: 2,
        per_second: 2.0,
    }),
};
const LIMIT_16: Limit = Limit {
    name: "16/s b50",
    rate: Some(RateLimit {
        burst: 50,
        per_second: 16.0,
    }),
};
const UNLIMITED: Limit = Limit {
    name: "unlimited",
    rate: None,
};

#[derive(Clone, Copy, Debug)]
struct Scenario {
    size: Size,
    limit: Limit,
    /// Tenants polled at once by one certwatch (each its own simulator and bucket).
    tenants: usize,
    baseline: bool,
    /// Whether responses take [`WAN_LATENCY`].
    latency: bool,
}

impl Scenario {
    fn label(&self) -> String {
        let mut label = if self.tenants > 1 {
            format!(
                "{}×{} @ {}",
                self.tenants,
                self.size.name(),
                self.limit.name
            )
        } else {
            format!("{} @ {}", self.size.name(), self.limit.name)
        };
        if self.latency {
            let _ = write!(label, " +{}ms RTT", WAN_LATENCY.as_millis());
        }
        label
    }
}

fn matrix(name: &str) -> anyhow::Result<Vec<Scenario>> {
    let one = |size, limit| Scenario {
        size,
        limit,
        tenants: 1,
        baseline: true,
        latency: false,
    };
    let no_baseline = |size, limit| Scenario {
        baseline: false,
        ..one(size, limit)
    };
    let wan = |size| Scenario {
        latency: true,
        ..one(size, LIMIT_16)
    };
    let multi = Scenario {
        size: Size::M,
        limit: LIMIT_16,
        tenants: 3,
        baseline: false,
        latency: false,
    };
    if name == "budget" {
        return Ok(vec![one(
            Size::Budget,
            Limit {
                name: "16/s b50",
                rate: Some(budget::LIMIT),
            },
        )]);
    }
    let mut runs = vec![one(Size::Demo, UNLIMITED)];
    match name {
        "quick" => {
            runs.extend([
                one(Size::S, LIMIT_2),
                one(Size::S, LIMIT_16),
                one(Size::S, UNLIMITED),
            ]);
            runs.extend([one(Size::M, UNLIMITED), one(Size::L, UNLIMITED)]);
            runs.push(no_baseline(Size::M_IDP, UNLIMITED));
        }
        "default" | "full" => {
            for size in [Size::S, Size::M] {
                runs.extend([
                    one(size, LIMIT_2),
                    one(size, LIMIT_16),
                    one(size, UNLIMITED),
                ]);
            }
            runs.push(wan(Size::M));
            if name == "full" {
                runs.extend([one(Size::L, LIMIT_2), wan(Size::L)]);
            }
            runs.extend([one(Size::L, LIMIT_16), one(Size::L, UNLIMITED), multi]);
            // The cost of the opt-in IdP fetches (auth0-python has no counterpart).
            runs.extend([
                no_baseline(Size::M_IDP, LIMIT_16),
                no_baseline(Size::M_IDP, UNLIMITED),
            ]);
        }
        other => anyhow::bail!("unknown matrix {other:?} (quick, default, full, budget)"),
    }
    Ok(runs)
}

struct Options {
    matrix: String,
    python: Option<PathBuf>,
    script: PathBuf,
    certwatch_bin: Option<PathBuf>,
    markdown: Option<PathBuf>,
    /// Only the runs whose label contains one of these.
    only: Vec<String>,
    /// Runs of each scenario.
    repeat: usize,
}

fn parse_options(args: &[String]) -> anyhow::Result<Options> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut o = Options {
        matrix: "default".into(),
        python: None,
        script: manifest.join("benches/baseline/auth0_python_inventory.py"),
        certwatch_bin: None,
        markdown: None,
        only: Vec::new(),
        repeat: 1,
    };
    let mut no_baseline = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--matrix" => o.matrix = value()?,
            "--full" => o.matrix = "full".into(),
            "--quick" => o.matrix = "quick".into(),
            "--budget" => o.matrix = "budget".into(),
            "--python" => o.python = Some(value()?.into()),
            "--baseline-script" => o.script = value()?.into(),
            "--no-baseline" => no_baseline = true,
            "--certwatch-bin" => o.certwatch_bin = Some(value()?.into()),
            "--markdown" => o.markdown = Some(value()?.into()),
            "--only" => o.only.push(value()?),
            "--repeat" => o.repeat = value()?.parse()?,
            other => anyhow::bail!("unknown argument {other:?}"),
        }
    }
    if no_baseline {
        o.python = None;
    }
    Ok(o)
}

/// What one poll (ours or the baseline) cost.
#[derive(Debug, Default, Clone)]
struct Run {
    calls: usize,
    token_calls: usize,
    throttled: usize,
    poll_secs: f64,
    rss_mib: Option<f64>,
    cpu_secs: Option<f64>,
    render_ms: Option<f64>,
    metrics_kib: Option<f64>,
    records: u64,
    errors: u64,
    failed: bool,
    note: Option<String>,
}

/// The minimum Management API calls a complete inventory of `t` needs.
fn minimum_calls(t: &SimTenant) -> u64 {
    let clients: Vec<_> = t.clients.iter().filter(|c| !c.global).collect();
    let with_refs = clients
        .iter()
        .filter(|c| {
            let dto = wire::Client {
                client_id: c.client_id.clone(),
                name: None,
                global: Some(false),
                client_authentication_methods: c.client_authentication_methods.clone(),
                signed_request_object: c.signed_request_object.clone(),
                encryption_key: None,
                signing_keys: None,
                token_vault_privileged_access: c
                    .extra
                    .get("token_vault_privileged_access")
                    .cloned(),
                addons: None,
                client_metadata: None,
            };
            !sources::credential_refs(&dto).is_empty()
        })
        .count() as u64;
    let connections: Vec<_> = t
        .connections
        .iter()
        .filter(|c| wire::CERT_STRATEGIES.contains(&c.strategy.as_str()))
        .collect();
    // Every oidc/okta connection's keys are read (docs/inventory.md), private_key_jwt or not.
    let with_keys = connections
        .iter()
        .filter(|c| matches!(c.strategy.as_str(), "oidc" | "okta"))
        .count() as u64;
    1 + min_requests(clients.len() as u64, MAX_PAGE_SIZE)
        + with_refs
        + min_requests(connections.len() as u64, MAX_PAGE_SIZE)
        + with_keys
        + min_requests(t.custom_domains.len() as u64, MAX_PAGE_SIZE)
        // GET /api/v2/keys/custom-signing (the public JWKS and SAML certificate are not counted).
        + 1
}

/// The lower bound on wall time set by the bucket: `(calls / rate, (calls - burst) / rate)`.
fn bounds(calls: u64, limit: Option<RateLimit>) -> Option<(f64, f64)> {
    let l = limit?;
    let calls = calls as f64;
    Some((
        calls / l.per_second,
        (calls - f64::from(l.burst)).max(0.0) / l.per_second,
    ))
}

fn count(requests: &[RecordedRequest], run: &mut Run) {
    for r in requests {
        if r.route == TOKEN_ROUTE {
            run.token_calls += 1;
        } else if r.route == JWKS_ROUTE || r.route.starts_with("/idp/") {
            // The public JWKS and the IdPs' documents are not Management API calls.
        } else {
            run.calls += 1;
            if r.status == 429 {
                run.throttled += 1;
            }
        }
    }
}

/// What wait4 said about a child.
#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    rss_mib: f64,
    cpu_secs: f64,
    voluntary: Option<u64>,
    involuntary: Option<u64>,
}

/// Runs `cmd args` under `benches/rusage.py` (wait4), returning its stdout, its usage and
/// whether it succeeded.
async fn measured(cmd: &Path, args: &[String]) -> anyhow::Result<(String, Option<Usage>, bool)> {
    let usage_file = tempfile::NamedTempFile::new()?;
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/rusage.py");
    let out = tokio::process::Command::new("python3")
        .arg(&wrapper)
        .arg(usage_file.path())
        .arg(cmd)
        .args(args)
        .stderr(std::process::Stdio::piped())
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<_> = stderr.lines().rev().take(5).collect();
        eprintln!("  child exited with {}: {}", out.status, tail.join(" | "));
    }
    let usage = std::fs::read_to_string(usage_file.path())
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| {
            Some(Usage {
                rss_mib: v["maxrss_kib"].as_f64()? / 1024.0,
                cpu_secs: v["user_secs"].as_f64()? + v["sys_secs"].as_f64()?,
                voluntary: v["voluntary_switches"].as_u64(),
                involuntary: v["involuntary_switches"].as_u64(),
            })
        });
    Ok((stdout, usage, out.status.success()))
}

fn apply_report(run: &mut Run, stdout: &str) {
    let Some(v) = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
    else {
        run.failed = true;
        run.note = Some("no report".into());
        return;
    };
    run.poll_secs = v["poll_secs"].as_f64().unwrap_or(f64::NAN);
    run.records = v["records"].as_u64().unwrap_or(0);
    run.errors = v["errors"].as_u64().unwrap_or(0);
    run.render_ms = v["render_ms"].as_f64();
    run.metrics_kib = v["metrics_bytes"].as_f64().map(|b| b / 1024.0);
    run.rss_mib = v["peak_rss_kib"].as_f64().map(|k| k / 1024.0);
    if let Some(e) = v["first_error"].as_str() {
        run.note = Some(e.chars().take(120).collect());
    }
    // A poll with any failed source is a failed poll (for both implementations).
    if v["failed"].as_bool() == Some(true) || run.errors > 0 {
        run.failed = true;
    }
}

struct Tenants {
    sims: Vec<Sim>,
}

impl Tenants {
    async fn spawn(
        tenant: &SimTenant,
        n: usize,
        limit: Option<RateLimit>,
        latency: bool,
    ) -> anyhow::Result<Self> {
        let mut sims = Vec::new();
        for _ in 0..n {
            let sim = Sim::spawn(tenant.clone()).await?;
            sim.set_rate_limit(limit);
            if latency {
                sim.add_fault(Fault::new(ANY_API_ROUTE, FaultKind::Latency(WAN_LATENCY)));
            }
            sims.push(sim);
        }
        Ok(Self { sims })
    }

    /// A fresh start for the next poll: full buckets, no recorded requests.
    fn reset(&self, limit: Option<RateLimit>) {
        for s in &self.sims {
            s.set_rate_limit(limit);
            s.clear_requests();
        }
    }

    fn count(&self, run: &mut Run) {
        for s in &self.sims {
            count(&s.requests(), run);
        }
    }

    async fn shutdown(self) {
        for s in self.sims {
            s.shutdown().await;
        }
    }
}

/// One certwatch child against fresh buckets of `tenants`, with `extra` child arguments.
async fn run_child(
    tenants: &Tenants,
    limit: Option<RateLimit>,
    extra: &[&str],
) -> anyhow::Result<(String, Option<Usage>, bool)> {
    tenants.reset(limit);
    let state = tempfile::tempdir()?;
    let mut args = vec![
        "child".to_string(),
        "--state".to_string(),
        state.path().display().to_string(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    args.extend(tenants.sims.iter().map(|s| s.url().to_string()));
    let exe = std::env::current_exe()?;
    measured(&exe, &args).await
}

async fn run_ours(
    tenants: &Tenants,
    limit: Option<RateLimit>,
    metadata: bool,
) -> anyhow::Result<Run> {
    let extra: &[&str] = if metadata { &["--metadata"] } else { &[] };
    let (stdout, usage, ok) = run_child(tenants, limit, extra).await?;
    let mut run = Run::default();
    apply_report(&mut run, &stdout);
    run.failed |= !ok;
    if let Some(u) = usage {
        run.rss_mib = run.rss_mib.or(Some(u.rss_mib));
        run.cpu_secs = Some(u.cpu_secs);
    }
    tenants.count(&mut run);
    Ok(run)
}

async fn run_baseline(
    tenants: &Tenants,
    limit: Option<RateLimit>,
    python: &Path,
    script: &Path,
) -> anyhow::Result<Run> {
    tenants.reset(limit);
    let sim = &tenants.sims[0];
    let args = vec![
        script.display().to_string(),
        "--base-url".into(),
        sim.url().to_string(),
        "--client-id".into(),
        demo::DEMO_CLIENT_ID.into(),
        "--client-secret".into(),
        demo::DEMO_CLIENT_SECRET.into(),
        "--audience".into(),
        format!("https://{}/api/v2/", demo::DEMO_DOMAIN),
    ];
    let (stdout, usage, ok) = measured(python, &args).await?;
    let mut run = Run::default();
    apply_report(&mut run, &stdout);
    run.failed |= !ok;
    if let Some(u) = usage {
        run.rss_mib = run.rss_mib.or(Some(u.rss_mib));
        run.cpu_secs = Some(u.cpu_secs);
    }
    tenants.count(&mut run);
    Ok(run)
}

/// Total bytes of every list/detail body a full inventory reads (fetched once, unlimited), to
/// compare with the poll's peak RSS.
async fn raw_json_bytes(sim: &Sim) -> anyhow::Result<u64> {
    sim.set_rate_limit(None);
    let http = reqwest::Client::new();
    let base = sim.url();
    let token: Value = http
        .post(base.join("oauth/token")?)
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": demo::DEMO_CLIENT_ID,
            "client_secret": demo::DEMO_CLIENT_SECRET,
            "audience": format!("https://{}/api/v2/", demo::DEMO_DOMAIN),
        }))
        .send()
        .await?
        .json()
        .await?;
    let bearer = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let get = |path: String, query: Vec<(&'static str, String)>| {
        let req = http
            .get(base.join(&path).expect("valid path"))
            .query(&query)
            .bearer_auth(&bearer);
        async move { anyhow::Ok(req.send().await?.bytes().await?) }
    };
    let mut total = get("api/v2/keys/signing".into(), vec![]).await?.len() as u64;
    let mut with_refs = Vec::new();
    for page in 0.. {
        let body = get(
            "api/v2/clients".into(),
            vec![
                ("fields", wire::CLIENT_FIELDS.into()),
                ("include_fields", "true".into()),
                ("is_global", "false".into()),
                ("page", page.to_string()),
                ("per_page", "100".into()),
                ("include_totals", "true".into()),
            ],
        )
        .await?;
        total += body.len() as u64;
        let v: Value = serde_json::from_slice(&body)?;
        let clients: Vec<wire::Client> = serde_json::from_value(v["clients"].clone())?;
        with_refs.extend(
            clients
                .iter()
                .filter(|c| !sources::credential_refs(c).is_empty())
                .map(|c| c.client_id.clone()),
        );
        if clients.len() < 100 {
            break;
        }
    }
    for id in with_refs {
        total += get(format!("api/v2/clients/{id}/credentials"), vec![])
            .await?
            .len() as u64;
    }
    let mut from: Option<String> = None;
    loop {
        let mut q = vec![
            ("fields", wire::CONNECTION_FIELDS.to_string()),
            ("include_fields", "true".into()),
            ("take", "100".into()),
        ];
        q.extend(
            wire::CERT_STRATEGIES
                .iter()
                .map(|s| ("strategy", s.to_string())),
        );
        if let Some(f) = &from {
            q.push(("from", f.clone()));
        }
        let body = get("api/v2/connections".into(), q).await?;
        total += body.len() as u64;
        let v: Value = serde_json::from_slice(&body)?;
        match v["next"].as_str() {
            Some(n) if !n.is_empty() => from = Some(n.to_string()),
            _ => break,
        }
    }
    Ok(total)
}

struct Row {
    label: String,
    who: &'static str,
    min: u64,
    bound: Option<(f64, f64)>,
    run: Run,
}

fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:.prec$}"))
}

fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str("| run | impl | API calls (min) | 429s | poll wall s | bound s (calls/rate; −burst) | wall / bound | peak RSS MiB | CPU s | /metrics ms | /metrics KiB | records | errors |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        let run = &r.run;
        let (bound, ratio) = match r.bound {
            Some((b, strict)) => (
                format!("{b:.1}; {strict:.1}"),
                format!("{:.3}", run.poll_secs / b),
            ),
            None => ("–".into(), "–".into()),
        };
        let failed = if run.failed { " FAILED" } else { "" };
        let _ = writeln!(
            s,
            "| {} | {}{} | {} ({}) | {} | {:.2} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.label,
            r.who,
            failed,
            run.calls,
            r.min,
            run.throttled,
            run.poll_secs,
            bound,
            ratio,
            fmt_opt(run.rss_mib, 1),
            fmt_opt(run.cpu_secs, 3),
            fmt_opt(run.render_ms, 2),
            fmt_opt(run.metrics_kib, 0),
            run.records,
            run.errors,
        );
    }
    s
}

fn ratios(rows: &[Row]) -> String {
    let mut s = String::new();
    s.push_str("| run | wall | API calls | CPU | peak RSS |\n|---|---|---|---|---|\n");
    for pair in rows.windows(2) {
        let (ours, theirs) = (&pair[0], &pair[1]);
        if ours.label != theirs.label || ours.who != "certwatch" || theirs.who != "auth0-python" {
            continue;
        }
        let r = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
            _ => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            ours.label,
            r(Some(ours.run.poll_secs), Some(theirs.run.poll_secs)),
            r(Some(ours.run.calls as f64), Some(theirs.run.calls as f64)),
            r(ours.run.cpu_secs, theirs.run.cpu_secs),
            r(ours.run.rss_mib, theirs.run.rss_mib),
        );
    }
    s
}

/// Peak RSS of a real `certwatch demo` process (simulator + daemon in one process) after its
/// first poll has been published.
async fn demo_process_rss(bin: &Path) -> anyhow::Result<f64> {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let mut child = tokio::process::Command::new(bin)
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("demo exited at once"))?;
    let url = format!("http://127.0.0.1:{port}/metrics");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let published = match reqwest::get(&url).await {
            Ok(resp) => resp.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if published.contains("certwatch_certificate_not_after_timestamp_seconds{") {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "demo never published a poll");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few scrapes, as Prometheus would do.
    for _ in 0..5 {
        let _ = reqwest::get(&url).await?.text().await?;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let hwm_kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM"))?;
    child.start_kill()?;
    let _ = child.wait().await;
    Ok(hwm_kib / 1024.0)
}

fn driver(args: &[String]) -> anyhow::Result<()> {
    let o = parse_options(args)?;
    let mut scenarios = matrix(&o.matrix)?;
    if !o.only.is_empty() {
        scenarios.retain(|s| o.only.iter().any(|only| s.label().contains(only.as_str())));
    }
    scenarios = scenarios
        .into_iter()
        .flat_map(|s| std::iter::repeat_n(s, o.repeat.max(1)))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(drive(o, scenarios))
}

async fn drive(o: Options, scenarios: Vec<Scenario>) -> anyhow::Result<()> {
    let now = certwatch::clock::Clock::now(&certwatch::clock::SystemClock);
    let mut rows: Vec<Row> = Vec::new();
    let mut raw_sizes: Vec<(String, u64, u64)> = Vec::new();
    let started = Instant::now();
    let mut built: Option<(Size, SimTenant)> = None;
    let mut budget_md = String::new();
    for sc in &scenarios {
        if built.as_ref().is_none_or(|(s, _)| *s != sc.size) {
            eprintln!("generating the {} tenant…", sc.size.name());
            built = Some((sc.size, sc.size.tenant(now)));
        }
        let tenant = &built.as_ref().expect("just built").1;
        let min = minimum_calls(tenant);
        if !raw_sizes.iter().any(|(n, _, _)| n == sc.size.name()) {
            let sim = Sim::spawn(tenant.clone()).await?;
            let bytes = raw_json_bytes(&sim).await?;
            sim.shutdown().await;
            raw_sizes.push((sc.size.name().into(), bytes, min));
        }
        let label = sc.label();
        let sims = Tenants::spawn(tenant, sc.tenants, sc.limit.rate, sc.latency).await?;
        eprintln!(
            "[{:>5.0}s] {label}: certwatch…",
            started.elapsed().as_secs_f64()
        );
        let ours = run_ours(&sims, sc.limit.rate, sc.size.metadata()).await?;
        rows.push(Row {
            label: label.clone(),
            who: "certwatch",
            min: min * sc.tenants as u64,
            bound: bounds(min, sc.limit.rate),
            run: ours,
        });
        if let (true, Some(python)) = (sc.baseline, &o.python) {
            eprintln!(
                "[{:>5.0}s] {label}: auth0-python…",
                started.elapsed().as_secs_f64()
            );
            let theirs = run_baseline(&sims, sc.limit.rate, python, &o.script).await?;
            rows.push(Row {
                label,
                who: "auth0-python",
                min,
                bound: bounds(min, sc.limit.rate),
                run: theirs,
            });
        }
        if sc.size == Size::Budget {
            let ours = rows.iter().rev().find(|r| r.who == "certwatch");
            let theirs = rows.iter().rev().find(|r| r.who == "auth0-python");
            let (ours, theirs) = (ours.map(|r| &r.run), theirs.map(|r| &r.run));
            eprintln!(
                "[{:>5.0}s] budget: two polls, runtime flavours…",
                started.elapsed().as_secs_f64()
            );
            budget_md.push_str(&budget::measure(&sims, min, ours, theirs).await?.markdown());
        }
        sims.shutdown().await;
    }
    let demo_rss = match &o.certwatch_bin {
        Some(bin) => Some(demo_process_rss(bin).await),
        None => None,
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "certwatch {} poll benchmark — matrix `{}`, {} CPUs, total {:.0} s\n",
        env!("CARGO_PKG_VERSION"),
        o.matrix,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        started.elapsed().as_secs_f64()
    );
    out.push_str(&table(&rows));
    out.push_str("\nRatios, certwatch / auth0-python (below 1 = certwatch is cheaper):\n\n");
    out.push_str(&ratios(&rows));
    out.push_str(&budget_md);
    out.push_str("\nTenant sizes (raw JSON a full inventory reads, minimum API calls):\n\n");
    for (name, bytes, min) in &raw_sizes {
        let _ = writeln!(
            out,
            "- {name}: {:.2} MiB of JSON in {min} calls",
            *bytes as f64 / (1024.0 * 1024.0)
        );
    }
    match demo_rss {
        Some(Ok(rss)) => {
            let _ = writeln!(
                out,
                "\n`certwatch demo` process (simulator + daemon, after its first poll and 5 scrapes): peak RSS {rss:.1} MiB"
            );
        }
        Some(Err(e)) => {
            let _ = writeln!(out, "\n`certwatch demo` process: not measured ({e:#})");
        }
        None => {}
    }
    let notes: Vec<_> = rows
        .iter()
        .filter_map(|r| {
            r.run
                .note
                .as_ref()
                .map(|n| format!("- {} {}: {n}", r.label, r.who))
        })
        .collect();
    if !notes.is_empty() {
        out.push_str("\nFirst error per run:\n\n");
        out.push_str(&notes.join("\n"));
        out.push('\n');
    }
    println!("{out}");
    if let Some(path) = &o.markdown {
        std::fs::write(path, &out)?;
        eprintln!("written to {}", path.display());
    }
    Ok(())
}
