//! End to end with a real Prometheus: `certwatch demo` (the built-in demo tenant in the Auth0
//! simulator and the daemon, in-process on a free port) scraped every second by the `prometheus`
//! server with the shipped rule file, deploy/prometheus/certwatch-rules.yaml, evaluated every
//! second. Through Prometheus' HTTP API it checks that
//! - every rule loads, evaluates without error and its query parses;
//! - Prometheus holds exactly the series of the report the daemon computes (`held`);
//! - every alerting rule fires (or, with a `for:` longer than the test, is pending) for exactly
//!   the objects that report predicts, with the predicted severity (`expect`);
//! - the properties around it hold and the demo is rich enough to make all that non-vacuous
//!   (`properties`): non-alerting roles stay silent, no object has two severities, and so on;
//! - every PromQL expression of dashboards/certwatch.json parses and returns data (`dashboard`).
//!
//! Needs the Prometheus server (Debian's `prometheus` package, which scripts/test.sh installs;
//! or `CERTWATCH_TEST_PROMETHEUS=/path/to/prometheus`), hence `#[ignore]`: run it with
//! `cargo test --test integration prometheus_e2e -- --include-ignored --nocapture`.

mod dashboard;
mod expect;
mod held;
mod properties;
mod server;

use certwatch::app::App;
use certwatch::sim::{RateLimit, Sim, demo};
use server::Prometheus;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// PASS / FAIL lines, collected so that one run reports every failure.
#[derive(Debug, Default)]
pub struct Checks {
    passed: usize,
    failed: Vec<String>,
}

impl Checks {
    pub fn pass(&mut self, what: impl Into<String>) {
        println!("  PASS {}", what.into());
        self.passed += 1;
    }

    pub fn fail(&mut self, what: impl Into<String>) {
        let what = what.into();
        println!("  FAIL {what}");
        self.failed.push(what);
    }

    pub fn check(&mut self, ok: bool, what: impl Into<String>) {
        if ok { self.pass(what) } else { self.fail(what) }
    }

    fn record(&mut self, outcome: Result<String, String>) {
        match outcome {
            Ok(what) => self.pass(what),
            Err(what) => self.fail(what),
        }
    }
}

/// `certwatch demo`, in-process: what `certwatch demo` runs, serving on a free loopback port.
struct Demo {
    app: Arc<App>,
    addr: SocketAddr,
    sim: Sim,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    _state: tempfile::TempDir,
}

/// Start the demo: the built-in demo tenant in the simulator with the Enterprise-like rate limit
/// `certwatch demo` gives it, and the daemon configured by `certwatch::demo::config`, polling at
/// once. The only place this test depends on how the demo is assembled (src/demo.rs).
async fn start_demo() -> Demo {
    let sim = Sim::spawn(demo::tenant(crate::helpers::now()))
        .await
        .expect("simulator");
    sim.set_rate_limit(Some(RateLimit {
        burst: 50,
        per_second: 16.0,
    }));
    let state = tempfile::tempdir().expect("state directory");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listen");
    let addr = listener.local_addr().expect("address");
    let config = certwatch::demo::config(&sim, addr, state.path()).expect("demo config");
    let clock = Arc::new(certwatch::clock::SystemClock);
    let app = App::build(config, clock).and_then(App::with_alerts);
    let app = Arc::new(app.expect("demo daemon"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = app.clone();
    let task = tokio::spawn(async move {
        let stopped = async {
            let _ = stopped.await;
        };
        runner.run(listener, stopped).await.expect("demo daemon");
    });
    Demo {
        app,
        addr,
        sim,
        stop,
        task,
        _state: state,
    }
}

impl Demo {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.sim.shutdown().await;
    }
}

/// The demo and the Prometheus scraping it.
struct Rig {
    demo: Demo,
    prom: Prometheus,
    started: Instant,
}

impl Rig {
    /// Poll `probe` every half second until it gives a value, for at most `secs` seconds; `Err`
    /// when the time is up or either process is gone.
    async fn wait_for<T>(
        &self,
        what: &str,
        secs: u64,
        mut probe: impl AsyncFnMut() -> Option<T>,
    ) -> Result<T, String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if !self.prom.alive() {
                return Err(format!("Prometheus exited while waiting for {what}"));
            }
            if self.demo.task.is_finished() {
                return Err(format!("the demo daemon stopped while waiting for {what}"));
            }
            if let Some(v) = probe().await {
                println!(
                    "  {what}: after {:.1}s",
                    self.started.elapsed().as_secs_f64()
                );
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(format!("timed out after {secs}s waiting for {what}"));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn rules_and_alerts(&self) -> Option<(Vec<server::Rule>, Vec<server::Alert>)> {
        Some((
            self.prom.rules().await.ok()?,
            self.prom.alerts().await.ok()?,
        ))
    }

    async fn metrics(&self) -> Option<String> {
        let resp = reqwest::get(format!("http://{}/metrics", self.demo.addr)).await;
        resp.ok()?.text().await.ok()
    }
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Panic with every failure, the tail of Prometheus' log and the way to rerun.
fn finish(checks: Checks, rig: &Rig) {
    const RERUN: &str =
        "cargo test --test integration prometheus_e2e -- --include-ignored --nocapture";
    println!(
        "prometheus e2e: {} passed, {} failed in {:.1}s",
        checks.passed,
        checks.failed.len(),
        rig.started.elapsed().as_secs_f64()
    );
    assert!(
        checks.failed.is_empty(),
        "{} check(s) failed:\n- {}\n---- prometheus log (tail) ----\n{}\n(every check: {RERUN})",
        checks.failed.len(),
        checks.failed.join("\n- "),
        rig.prom.log_tail(20)
    );
}

/// Stop at a failed wait: nothing after it could be judged.
fn must<T>(rig: &Rig, waited: Result<T, String>) -> T {
    waited.unwrap_or_else(|e| {
        panic!(
            "{e}\n---- prometheus log (tail) ----\n{}",
            rig.prom.log_tail(20)
        )
    })
}

/// Wait for the daemon's first poll, Prometheus, its first scrape and the certificates in it.
async fn ready(r: &Rig) {
    let waited = r.wait_for("certwatch /metrics lists certificates", 90, async || {
        r.metrics()
            .await
            .filter(|m| m.contains("certwatch_certificate_info{"))
            .map(drop)
    });
    must(r, waited.await);
    must(
        r,
        r.wait_for("Prometheus ready", 30, async || {
            r.prom.ready().await.then_some(())
        })
        .await,
    );
    let scraped = r.wait_for("a successful scrape of certwatch", 30, async || {
        let up = r.prom.query("up{job=\"certwatch\"}").await.ok()?;
        up.iter().any(|s| s.value == 1.0).then_some(())
    });
    must(r, scraped.await);
    let held = r.wait_for("certificates in Prometheus", 30, async || {
        let n = r
            .prom
            .query("count(certwatch_certificate_info)")
            .await
            .ok()?;
        (!n.is_empty()).then_some(())
    });
    must(r, held.await);
}

/// Every rule is loaded, evaluated once without error, and its query evaluates on its own.
async fn rules_load(rig: &Rig, checks: &mut Checks) -> Vec<server::Rule> {
    let evaluated = rig.wait_for("every rule evaluated once", 30, async || {
        let rules = rig.prom.rules().await.ok()?;
        let done = !rules.is_empty() && rules.iter().all(|r| r.health != "unknown");
        done.then_some(rules)
    });
    let rules = must(rig, evaluated.await);
    checks.check(
        rules.len() >= 10,
        format!("{} rules loaded from the shipped rule file", rules.len()),
    );
    for r in &rules {
        let outcome = if r.health != "ok" || !r.last_error.is_empty() {
            Err(format!(
                "rule {} ({}): health {} {}",
                r.name, r.group, r.health, r.last_error
            ))
        } else {
            match rig.prom.query(&r.query).await {
                Ok(s) => Ok(format!(
                    "rule {}: loaded, evaluates, query parses ({} series now)",
                    r.name,
                    s.len()
                )),
                Err(e) => Err(format!("rule {}: query does not evaluate: {e}", r.name)),
            }
        };
        checks.record(outcome);
    }
    rules
}

/// Wait until every rule does what the report predicts (each rule evaluates every second),
/// then record the verdict on each.
async fn alerts_as_predicted(
    rig: &Rig,
    report: &certwatch::report::Report,
    checks: &mut Checks,
) -> (Vec<server::Rule>, Vec<server::Alert>) {
    let expected = expect::from_report(report);
    let waited = rig.wait_for(
        "every rule's alerts as the report predicts",
        30,
        async || {
            let (rules, alerts) = rig.rules_and_alerts().await?;
            let all_ok = expect::compare(&rules, &alerts, &expected)
                .iter()
                .all(Result::is_ok);
            all_ok.then_some((rules, alerts))
        },
    );
    let (rules, alerts) = match waited.await {
        Ok(v) => v,
        Err(e) => {
            checks.fail(e);
            let latest = rig.rules_and_alerts().await;
            must(rig, latest.ok_or("Prometheus API unavailable".to_string()))
        }
    };
    for outcome in expect::compare(&rules, &alerts, &expected) {
        checks.record(outcome);
    }
    (rules, alerts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs prometheus (Debian package prometheus; scripts/test.sh installs it)"]
async fn a_real_prometheus_alerts_on_the_demo_exactly_as_certwatch_reports_it() {
    println!("prometheus e2e: {}", Prometheus::version());
    let started = Instant::now();
    let demo = start_demo().await;
    let prom = Prometheus::start(demo.addr, &repo("deploy/prometheus/certwatch-rules.yaml"));
    let rig = Rig {
        demo,
        prom,
        started,
    };
    let mut checks = Checks::default();

    println!("== waiting for certwatch and Prometheus");
    ready(&rig).await;
    println!("== alert rules");
    rules_load(&rig, &mut checks).await;
    let report = rig.demo.app.report();
    println!("== the series Prometheus holds against the report");
    held::check(&rig.prom, &report, &mut checks).await;
    println!("== every rule's alerts against the report");
    let (rules, alerts) = alerts_as_predicted(&rig, &report, &mut checks).await;
    properties::check(&report, &rules, &alerts, &mut checks);
    println!("== dashboard queries");
    let text = std::fs::read_to_string(repo("dashboards/certwatch.json")).expect("dashboard");
    let dash: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
    dashboard::check(&rig.prom, &dash, &mut checks).await;

    finish(checks, &rig);
    let Rig { demo, prom, .. } = rig;
    drop(prom);
    demo.stop().await;
}
