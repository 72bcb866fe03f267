//! `certwatch` as a real process for the process-level tests: the binary with a clean
//! environment, a `run` child whose output goes to files (signals, clean stop, `kill -9`), waiting
//! for a condition, and the text edits those tests make to configs and read from metrics.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The `certwatch` binary with a clean environment for logging and config.
pub fn bin() -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_certwatch"));
    c.env_remove("RUST_LOG")
        .env_remove("CERTWATCH_CONFIG")
        .kill_on_drop(true);
    c
}

/// A `certwatch run` child whose stdout and stderr go to files (no pipe can fill up).
pub struct Daemon {
    child: tokio::process::Child,
    out: PathBuf,
    err: PathBuf,
}

impl Daemon {
    pub fn spawn(
        cfg: &Path,
        logs: &Path,
        tag: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Daemon {
        let out = logs.join(format!("{tag}.stdout"));
        let err = logs.join(format!("{tag}.stderr"));
        let mut cmd = bin();
        cmd.arg("run")
            .arg("--config")
            .arg(cfg)
            .args(args)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Daemon {
            child: cmd.spawn().unwrap(),
            out,
            err,
        }
    }

    fn pid(&self) -> String {
        self.child.id().expect("running").to_string()
    }

    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([sig, &self.pid()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    /// SIGTERM and wait for a clean exit; the combined output.
    pub async fn stop(mut self) -> String {
        self.signal("-TERM");
        let status = tokio::time::timeout(Duration::from_secs(25), self.child.wait())
            .await
            .expect("stops within the grace period")
            .unwrap();
        let logs = self.logs();
        assert_eq!(status.code(), Some(0), "{logs}");
        logs
    }

    /// SIGKILL (kill -9) and reap.
    pub async fn kill9(mut self) -> String {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
        self.logs()
    }

    fn logs(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!("{}{}", read(&self.out), read(&self.err))
    }
}

pub async fn wait_for(what: &str, secs: u64, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after {secs} s waiting for {what}");
}

/// TOML string literal (escaped).
pub fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The test config with the tenant's `base_url` replaced.
pub fn with_base_url(toml: &str, url: &str) -> String {
    let start = toml.find("base_url = \"").unwrap() + "base_url = \"".len();
    let end = start + toml[start..].find('"').unwrap();
    format!("{}{url}{}", &toml[..start], &toml[end..])
}

/// Sum of the samples of `name` whose label set contains every `labels` fragment.
pub fn metric_sum(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|f| l.contains(f)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
