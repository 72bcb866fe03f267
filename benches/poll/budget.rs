//! The budget scenario of the poll benchmark (docs/polling.md, incremental polls and budget
//! share): a tenant of 2,000 applications (20 % with credentials, 10 % of those with two), 300
//! SAML and 5 private_key_jwt OIDC connections behind a bucket of 50 refilled at 16/s. One
//! certwatch child polls it twice — a full poll, then a steady-state one — while the simulator
//! records the lowest `x-ratelimit-remaining` it answered; the full poll's CPU, RSS and wall
//! come from the ordinary single-poll run, side by side with the Python baseline. A second pair
//! of single-poll runs compares the runtime flavours (CPU and context switches).

use super::{Run, Tenants, run_child};
use certwatch::sim::demo::{self, ScaleSpec};
use certwatch::sim::{RateLimit, SimConnection, SimConnectionKey, SimCredential, SimTenant};
use std::fmt::Write as _;
use time::{Duration, OffsetDateTime};

/// The bucket of the scenario.
pub const LIMIT: RateLimit = RateLimit {
    burst: 50,
    per_second: 16.0,
};

/// certwatch's default `budget_share`: the floor is `(1 - share) × burst`.
pub const SHARE: f64 = 0.5;

/// The scenario's tenant: [`ScaleSpec::M`], every tenth application with a credential given a
/// second (referenced) one, and five private_key_jwt OIDC connections with a current and a
/// next key.
pub fn tenant(now: OffsetDateTime) -> SimTenant {
    let mut t = demo::scaled(now, ScaleSpec::M);
    let mut with_creds = 0;
    for c in t.clients.iter_mut().filter(|c| !c.credentials.is_empty()) {
        with_creds += 1;
        if with_creds % 10 != 0 {
            continue;
        }
        let second = SimCredential::public_key(
            &format!("{}-b", c.credentials[0].id),
            "second key",
            now - Duration::days(10),
            Some(now + Duration::days(300 + with_creds)),
        );
        let ids = [c.credentials[0].id.clone(), second.id.clone()];
        c.credentials.push(second);
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        *c = c.clone().private_key_jwt(&refs);
    }
    for i in 0..5 {
        let name = format!("oidc-{i}");
        let current = certwatch::sim::generate_cert(
            &name,
            now - Duration::days(30),
            now + Duration::days(60 + i),
        );
        let next = certwatch::sim::generate_cert(&name, now, now + Duration::days(400));
        t.add_connection(
            SimConnection::oidc(&format!("con_oidc_budget{i}"), &name)
                .key(SimConnectionKey::from_cert("ck-cur", &current, &name).current(now))
                .key(SimConnectionKey::from_cert("ck-next", &next, &name).next()),
        );
    }
    t
}

/// What the budget runs measured.
#[derive(Debug, Default)]
pub struct Figures {
    /// Management API calls of the full minimum (`minimum_calls`).
    pub minimum: u64,
    /// Per poll of the two-poll child: (seconds, API calls as the child counted them).
    pub polls: Vec<(f64, u64)>,
    /// The lowest `x-ratelimit-remaining` the simulator answered during the two polls.
    pub lowest_remaining: Option<u32>,
    /// The full poll: (wall s, CPU s, peak RSS MiB) of certwatch and of the baseline.
    pub ours: Option<(f64, Option<f64>, Option<f64>)>,
    /// The same for auth0-python.
    pub theirs: Option<(f64, Option<f64>, Option<f64>)>,
    /// Single full polls, one per runtime flavour.
    pub runtimes: Vec<RuntimeRun>,
}

/// One full poll on one runtime flavour.
#[derive(Debug)]
pub struct RuntimeRun {
    /// The flavour, as shown.
    pub label: String,
    /// CPU seconds (user + system).
    pub cpu_secs: Option<f64>,
    /// Voluntary context switches.
    pub voluntary: Option<u64>,
    /// Involuntary context switches.
    pub involuntary: Option<u64>,
}

impl Figures {
    /// The floor certwatch must keep to.
    pub fn floor() -> f64 {
        ((1.0 - SHARE) * f64::from(LIMIT.burst)).ceil()
    }

    /// The Markdown section: the five ratios, then the runtime comparison.
    pub fn markdown(&self) -> String {
        let mut s = String::from(
            "\nBudget scenario (M + 10 % second credentials + 5 OIDC @ 16/s b50, budget_share 0.5):\n\n| figure | value | target |\n|---|---|---|\n",
        );
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
            _ => "–".into(),
        };
        let steady = self.polls.get(1).map(|p| p.1 as f64);
        let _ = writeln!(
            s,
            "| steady-state poll calls / full minimum | {} ({} / {}) | ≤ 0.15 |",
            ratio(steady, Some(self.minimum as f64)),
            steady.map_or("–".into(), |v| v.to_string()),
            self.minimum
        );
        let _ = writeln!(
            s,
            "| lowest remaining / floor | {} ({} / {}) | ≥ 1 |",
            ratio(self.lowest_remaining.map(f64::from), Some(Self::floor())),
            self.lowest_remaining.map_or("–".into(), |v| v.to_string()),
            Self::floor()
        );
        let (ours, theirs) = (
            self.ours.unwrap_or_default(),
            self.theirs.unwrap_or_default(),
        );
        let _ = writeln!(
            s,
            "| CPU per full poll, certwatch / auth0-python | {} | ≤ 0.1 |",
            ratio(ours.1, theirs.1)
        );
        let _ = writeln!(
            s,
            "| peak RSS, certwatch / auth0-python | {} | ≤ 0.33 |",
            ratio(ours.2, theirs.2)
        );
        let bound = self.minimum as f64 / LIMIT.per_second;
        let _ = writeln!(
            s,
            "| full-poll wall / rate bound ({bound:.1} s) | {} | ≤ 1.05 |",
            ratio(self.ours.map(|o| o.0), Some(bound))
        );
        for (i, (secs, calls)) in self.polls.iter().enumerate() {
            let _ = writeln!(
                s,
                "| poll {} of the two-poll child | {secs:.2} s, {calls} calls | |",
                i + 1
            );
        }
        if !self.runtimes.is_empty() {
            s.push_str("\nRuntime flavour, one full poll (CPU s, voluntary / involuntary context switches):\n\n| runtime | CPU s | voluntary | involuntary |\n|---|---|---|---|\n");
            for r in &self.runtimes {
                let n = |v: Option<u64>| v.map_or("–".into(), |v| v.to_string());
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    r.label,
                    r.cpu_secs.map_or("–".into(), |c| format!("{c:.3}")),
                    n(r.voluntary),
                    n(r.involuntary)
                );
            }
        }
        s
    }
}

/// The budget runs on `sims` (the scenario's simulator), given the single-poll runs of
/// certwatch and the baseline already made.
pub async fn measure(
    sims: &Tenants,
    minimum: u64,
    ours: Option<&Run>,
    theirs: Option<&Run>,
) -> anyhow::Result<Figures> {
    let full = |r: &Run| (r.poll_secs, r.cpu_secs, r.rss_mib);
    let mut f = Figures {
        minimum,
        ours: ours.map(full),
        theirs: theirs.map(full),
        ..Figures::default()
    };
    let (stdout, _, ok) = run_child(sims, Some(LIMIT), &["--polls", "2"]).await?;
    anyhow::ensure!(ok, "the two-poll child failed");
    f.lowest_remaining = sims.sims.iter().filter_map(|s| s.lowest_remaining()).min();
    let report = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .ok_or_else(|| anyhow::anyhow!("the two-poll child printed no report"))?;
    for p in report["polls"].as_array().into_iter().flatten() {
        f.polls.push((
            p["secs"].as_f64().unwrap_or(f64::NAN),
            p["api_calls"].as_u64().unwrap_or(0),
        ));
    }
    for runtime in ["multi", "2", "current"] {
        let (_, usage, _) = run_child(sims, Some(LIMIT), &["--runtime", runtime]).await?;
        let label = match runtime {
            "multi" => "multi_thread, a worker per CPU (before)".to_string(),
            "current" => "current_thread (scan, check-config, rotate now)".to_string(),
            n => format!("multi_thread, {n} workers (run, demo now)"),
        };
        f.runtimes.push(RuntimeRun {
            label,
            cpu_secs: usage.map(|u| u.cpu_secs),
            voluntary: usage.and_then(|u| u.voluntary),
            involuntary: usage.and_then(|u| u.involuntary),
        });
    }
    Ok(f)
}
