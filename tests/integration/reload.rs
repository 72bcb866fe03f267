//! Reloads (docs/configuration.md, "Reloading"): a SIGHUP whose configuration cannot be served
//! — a state directory that is a file, two alert channels of one name, a listen port in use, no
//! tenant — leaves the running daemon serving, logs why and counts the failure; a configuration
//! without tenants is refused by every command; `check-config` checks what a reload checks,
//! except binding the port; and reloading leaks neither file descriptors nor memory.

use crate::daemon::*;
use crate::helpers::*;
use crate::loopback::*;
use certwatch::sim::Sim;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A webhook channel named `name` (its receiver never needs to answer: nothing alerts).
fn webhook(name: &str) -> String {
    format!(
        "\n[[alerts.webhook]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:{}/hook\"\n",
        closed_port()
    )
}

/// Write the daemon's configuration in `dir`: the simulator's tenant, polled at start, served
/// on `port`, one alert channel, state in `dir/state`. Its path and text.
fn write_config(sim: &Sim, dir: &Path, port: u16) -> (PathBuf, String) {
    let toml = config_toml(&sim.url(), SECRET, &dir.join("state"))
        .replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        )
        .replace("run_on_start = false", "run_on_start = true")
        + &webhook("ops");
    let cfg = dir.join("certwatch.toml");
    std::fs::write(&cfg, &toml).unwrap();
    (cfg, toml)
}

/// A `certwatch run` child on a fixed port with one alert channel, and its config file.
struct Reloading {
    sim: Sim,
    dir: tempfile::TempDir,
    cfg: PathBuf,
    good: String,
    port: u16,
    daemon: Daemon,
    client: reqwest::Client,
}

impl Reloading {
    async fn start() -> Reloading {
        let sim = Sim::spawn(base_tenant()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = closed_port();
        let (cfg, good) = write_config(&sim, dir.path(), port);
        let daemon = Daemon::spawn(&cfg, dir.path(), "reload", &[], &[]);
        let r = Reloading {
            sim,
            dir,
            cfg,
            good,
            port,
            daemon,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap(),
        };
        wait_for("the first poll", 20, async || {
            r.get("/readyz").await.0 == 200
        })
        .await;
        r
    }

    async fn get(&self, path: &str) -> (u16, String) {
        get(
            &self.client,
            &format!("http://127.0.0.1:{}{path}", self.port),
            None,
        )
        .await
    }

    async fn reloads(&self, outcome: &str) -> f64 {
        let (_, metrics) = self.get("/metrics").await;
        metric_sum(
            &metrics,
            "certwatch_config_reloads_total",
            &[&format!("outcome=\"{outcome}\"")],
        )
    }

    /// Write `toml`, send SIGHUP and wait until `outcome` has been counted `n` times.
    async fn reload(&self, toml: &str, outcome: &str, n: f64) {
        std::fs::write(&self.cfg, toml).unwrap();
        self.daemon.signal("-HUP");
        wait_for(&format!("reload {outcome} #{n}"), 20, async || {
            self.reloads(outcome).await == n
        })
        .await;
    }

    /// Reload `toml`, which must be rejected and change nothing.
    async fn rejected(&self, toml: &str) {
        self.reload(toml, "failed", 1.0).await;
        self.assert_untouched().await;
    }

    /// Stop the daemon; its logs must say the reload was rejected because of `why`.
    async fn stop_saying(self, why: &str) {
        let logs = self.stop().await;
        assert!(
            logs.contains("new configuration rejected; keeping the running one")
                && logs.contains(why),
            "{logs}"
        );
    }

    /// A rejected reload changed nothing: same port, same tenant, still ready, no success.
    async fn assert_untouched(&self) {
        assert_eq!(self.get("/healthz").await, (200, "ok\n".to_string()));
        assert_eq!(
            self.get("/readyz").await.0,
            200,
            "the snapshot is the old one"
        );
        let (_, doc) = self.get("/api/v1/certificates").await;
        assert!(doc.contains("\"name\": \"prod\""), "{doc}");
        assert_eq!(self.reloads("success").await, 0.0);
    }

    /// Stop the daemon (it exits 0); its logs.
    async fn stop(self) -> String {
        let logs = self.daemon.stop().await;
        self.sim.shutdown().await;
        drop(self.dir);
        logs
    }
}

#[tokio::test]
async fn a_reload_whose_state_dir_is_a_file_keeps_the_running_daemon() {
    let r = Reloading::start().await;
    let file = r.dir.path().join("not-a-directory");
    std::fs::write(&file, "").unwrap();
    let state = format!("state_dir = \"{}\"", r.dir.path().join("state").display());
    let bad = r.good.replace(
        &state,
        &format!("state_dir = {}", toml_str(&file.display().to_string())),
    );
    assert_ne!(bad, r.good);
    r.rejected(&bad).await;
    r.stop_saying("not a directory").await;
}

#[tokio::test]
async fn a_reload_with_two_channels_of_one_name_keeps_the_running_daemon() {
    let r = Reloading::start().await;
    r.rejected(&format!("{}{}", r.good, webhook("ops"))).await;
    r.stop_saying("alerts.webhook[1].name").await;
}

#[tokio::test]
async fn a_reload_onto_a_port_in_use_keeps_the_running_daemon_until_the_port_is_free() {
    let r = Reloading::start().await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other = taken.local_addr().unwrap().port();
    let moved = r.good.replace(
        &format!("listen = \"127.0.0.1:{}\"", r.port),
        &format!("listen = \"127.0.0.1:{other}\""),
    );
    r.rejected(&moved).await;
    // Once the port is free the same file reloads, and the daemon moves to it.
    drop(taken);
    r.daemon.signal("-HUP");
    let metrics = format!("http://127.0.0.1:{other}/metrics");
    wait_for("the reload onto the freed port", 20, async || {
        let (_, m) = get(&r.client, &metrics, None).await;
        metric_sum(&m, "certwatch_config_reloads_total", &["success"]) == 1.0
    })
    .await;
    assert_eq!(r.get("/healthz").await.0, 0, "the old port is closed");
    r.stop_saying(&format!("cannot listen on 127.0.0.1:{other}"))
        .await;
}

#[tokio::test]
async fn a_reload_without_tenants_keeps_the_running_daemon() {
    let r = Reloading::start().await;
    let empty = r.good[..r.good.find("[[tenants]]").unwrap()].to_string();
    r.rejected(&empty).await;
    // The failure is in the gauge, and a good file reloads again.
    let (_, metrics) = r.get("/metrics").await;
    assert_eq!(
        metric_sum(&metrics, "certwatch_config_last_reload_successful", &[]),
        0.0
    );
    r.reload(&r.good, "success", 1.0).await;
    let (_, metrics) = r.get("/metrics").await;
    assert_eq!(
        metric_sum(&metrics, "certwatch_config_last_reload_successful", &[]),
        1.0
    );
    assert!(
        metric_sum(
            &metrics,
            "certwatch_config_last_reload_success_timestamp_seconds",
            &[]
        ) > 1.7e9
    );
    r.stop_saying("no tenant configured").await;
}

async fn exit_of(args: &[&str], cfg: &Path) -> (Option<i32>, String) {
    let out = tokio::time::timeout(
        Duration::from_secs(20),
        bin().args(args).arg("--config").arg(cfg).output(),
    )
    .await
    .expect("exits at once")
    .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `run`, `scan`, `rotate` and `check-config` all refuse a configuration without tenants
/// (exit 3, docs/cli.md), saying so.
#[tokio::test]
async fn every_command_refuses_a_configuration_without_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("empty.toml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir = {}\n[server]\nlisten = \"127.0.0.1:{}\"\n",
            toml_str(&dir.path().display().to_string()),
            closed_port()
        ),
    )
    .unwrap();
    for args in [&["run"][..], &["scan"], &["rotate"], &["check-config"]] {
        let (code, stderr) = exit_of(args, &cfg).await;
        assert_eq!(code, Some(3), "{args:?}: {stderr}");
        assert!(
            stderr.contains("no tenant configured") && stderr.contains("[[tenants]]"),
            "{args:?}: {stderr}"
        );
    }
}

/// `check-config` (the systemd unit's ExecReload) refuses what a reload would refuse, except a
/// port in use: it never binds.
#[tokio::test]
async fn check_config_checks_what_a_reload_checks_but_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let good = config_toml(
        &"http://127.0.0.1:1/".parse().unwrap(),
        SECRET,
        &dir.path().join("state"),
    ) + &webhook("ops");
    let cfg = dir.path().join("certwatch.toml");
    let check = async |toml: &str| {
        std::fs::write(&cfg, toml).unwrap();
        exit_of(&["check-config"], &cfg).await
    };
    assert_eq!(check(&good).await.0, Some(0));
    assert!(
        !dir.path().join("state").exists(),
        "check-config creates nothing"
    );

    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let state = format!("state_dir = \"{}\"", dir.path().join("state").display());
    for bad_dir in [file.clone(), file.join("below")] {
        let (code, stderr) = check(&good.replace(
            &state,
            &format!("state_dir = {}", toml_str(&bad_dir.display().to_string())),
        ))
        .await;
        assert_eq!(code, Some(3), "{stderr}");
        assert!(
            stderr.contains("state_dir") && stderr.contains("not a directory"),
            "{stderr}"
        );
    }

    let (code, stderr) = check(&format!("{good}{}", webhook("ops"))).await;
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("alerts.webhook[1].name"), "{stderr}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let in_use = good.replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"{}\"", taken.local_addr().unwrap()),
    );
    assert_eq!(
        check(&in_use).await.0,
        Some(0),
        "a port in use is not checked"
    );
}

/// Set in the child that runs [`leak_probe`].
const PROBE: &str = "RELOAD_LEAK_PROBE_CHILD";

/// Reloading leaks neither file descriptors nor memory. The probe reloads in-process and counts
/// `/proc/self/fd`, so it runs alone, in a child process of this test binary.
#[tokio::test]
async fn reloads_leak_neither_descriptors_nor_memory() {
    if !Path::new("/proc/self/fd").exists() {
        return;
    }
    let out = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["reload::leak_probe", "--exact", "--ignored", "--nocapture"])
        .env(PROBE, "1")
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the probe did not run:\n{text}");
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The fewest descriptors open over a second: a connection the probe, a poll or the simulator
/// opens for a moment is not a leak (a leak never closes, so it shows in every sample).
async fn settled_fds() -> usize {
    let mut least = fds();
    for _ in 0..10 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        least = least.min(fds());
    }
    least
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Warm-up reloads (allocator and pools reach their steady state), then the measured ones.
const WARM_UP: usize = 10;
const MEASURED: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs in a process of its own, started by reloads_leak_neither_descriptors_nor_memory"]
async fn leak_probe() {
    use certwatch::shutdown::Event;
    if std::env::var_os(PROBE).is_none() {
        return;
    }
    let sim = Sim::spawn(full_tenant().tenant).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let (cfg, _) = write_config(&sim, dir.path(), port);
    let config = certwatch::config::load(Some(&cfg)).unwrap();
    let (events, rx) = tokio::sync::mpsc::channel(4);
    let path = cfg.clone();
    let loader: certwatch::daemon::Loader = Box::new(move || certwatch::config::load(Some(&path)));
    let daemon = tokio::spawn(certwatch::daemon::run_until(config, Some(loader), rx));
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let ready = || async { get(&client, &url("/readyz"), None).await.0 == 200 };
    wait_for("the first poll", 20, async || ready().await).await;
    let mut done = 0;
    let mut reload = async |n: usize| {
        for _ in 0..n {
            events.send(Event::Reload).await.unwrap();
            done += 1;
            let want = done as f64;
            wait_for("a reload", 20, async || {
                let (_, m) = get(&client, &url("/metrics"), None).await;
                metric_sum(&m, "certwatch_config_reloads_total", &["success"]) == want
            })
            .await;
            // Each new app polls at start: its Auth0 client opens connections.
            wait_for("the poll after the reload", 20, async || ready().await).await;
        }
    };
    reload(WARM_UP).await;
    let (fds_before, rss_before) = (settled_fds().await, rss_kib());
    reload(MEASURED).await;
    let (fds_after, rss_after) = (settled_fds().await, rss_kib());
    println!(
        "{MEASURED} reloads: fds {fds_before} -> {fds_after}, RSS {rss_before} -> {rss_after} KiB"
    );
    assert!(
        fds_after <= fds_before + 8,
        "file descriptors grew from {fds_before} to {fds_after} over {MEASURED} reloads"
    );
    assert!(
        rss_after <= rss_before + 16 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB over {MEASURED} reloads"
    );
    events.send(Event::Stop).await.unwrap();
    assert_eq!(daemon.await.unwrap(), 0);
    sim.shutdown().await;
}
