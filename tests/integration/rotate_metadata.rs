//! Rotation from the IdP's own metadata, inside agreed windows (docs/rotation.md), walked end to
//! end against the simulator as in the demo: the IdP rotates → the poll finds
//! `idp_new_certificate` → a dry run shows the change in trust and writes nothing → an apply
//! outside every window is `deferred` (no write) → inside the window one PATCH re-reads
//! `metadataUrl` → the finding is resolved. Also: a connection watched through certwatch's own
//! `metadata_urls` gets `signingCert` set, and a refresh that keeps the old certificate is
//! rolled back. Every rotation counts its writes: 1, or 2 with a rollback.

use crate::helpers::*;
use certwatch::app::App;
use certwatch::clock::ManualClock;
use certwatch::config;
use certwatch::findings::FindingKind;
use certwatch::rotate::{self, Outcome};
use certwatch::sim::{Fault, FaultKind, GeneratedCert, Sim, SimConnection, SimIdp, SimTenant};
use serde_json::{Value, json};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

const ID: &str = "con_md";
const NAME: &str = "acme-saml";

/// Simulator, app with `[metadata]` on and one `source = "metadata"` target, state dir.
struct Walk {
    sim: Sim,
    app: Arc<App>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

/// A samlp connection trusting `old`, whose simulated IdP publishes `old` too.
fn tenant(old: &GeneratedCert, metadata_url_option: bool) -> SimTenant {
    let scopes: Vec<&str> = ALL_SCOPES
        .iter()
        .copied()
        .chain(["update:connections", "update:connections_options"])
        .collect();
    let mut conn = SimConnection::samlp(ID, NAME, &old.base64_pem_crlf())
        .display_name("Acme workforce")
        .option("debug", json!(true))
        .option(
            "idpinitiated",
            json!({ "enabled": true, "client_id": "app_1" }),
        )
        .idp(SimIdp::publishing(&[old]));
    if !metadata_url_option {
        conn = conn.without_option("metadataUrl");
    }
    SimTenant::new(DOMAIN)
        .at(now())
        .m2m(CLIENT_ID, SECRET, &scopes)
        .connection(conn)
}

impl Walk {
    /// `windows`: the TOML value of `[rotation] windows`; `watched`: configure the connection in
    /// `metadata_urls` (for a connection without `options.metadataUrl`).
    async fn new(tenant: SimTenant, windows: &str, watched: bool) -> Walk {
        let domain = tenant.domain.clone();
        let sim = Sim::spawn(tenant).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut text = config_toml(&sim.url(), SECRET, dir.path()).replace(DOMAIN, &domain);
        if watched {
            text.push_str(&format!(
                "metadata_urls = {{ \"{NAME}\" = \"{}idp/{ID}/samlp/metadata.xml\" }}\n",
                sim.url()
            ));
        }
        text.push_str(&format!(
            "[metadata]\nenabled = true\nallow_http = true\ntimeout = \"3s\"\n\
             [rotation]\nwindows = {windows}\n\
             [[rotation.targets]]\nkind = \"connection_signing_cert\"\nsource = \"metadata\"\n"
        ));
        let cfg = config::from_toml(&text).unwrap();
        let clock = Arc::new(ManualClock::new(now()));
        let app = Arc::new(App::build(cfg, clock.clone()).unwrap());
        Walk {
            sim,
            app,
            clock,
            _dir: dir,
        }
    }

    /// The IdP rolls over: it publishes only `new` from now on.
    fn idp_rotates(&self, new: &GeneratedCert) {
        self.sim.update(|t| {
            let idp = t.connection_mut(ID).unwrap().idp.as_mut().unwrap();
            idp.signing_certs = vec![new.der.clone()];
        });
    }

    async fn poll(&self) {
        self.app.poll_now().await;
        let t = &self.app.snapshot().tenants[0];
        assert!(t.up, "poll failed: {:?}", t.errors);
    }

    /// Poll, then one pass; the pass's step and the writes it sent.
    async fn pass(&self, apply: bool) -> (rotate::PassReport, Vec<String>) {
        self.poll().await;
        self.sim.clear_requests();
        let report = rotate::pass(&self.app, apply).await;
        let writes = self
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET" && r.route != "/oauth/token")
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        (report, writes)
    }

    fn options(&self) -> serde_json::Map<String, Value> {
        self.sim
            .update(|t| t.get_connection(ID).unwrap().options.clone())
    }

    fn new_cert_findings(&self) -> usize {
        self.app
            .report()
            .findings
            .iter()
            .filter(|f| f.object_id == ID && f.finding == FindingKind::IdpNewCertificate)
            .count()
    }
}

/// A window that opens every day at `at`'s hour (so `at` is inside it) for `hours`.
fn daily_window(at: OffsetDateTime, hours: u32) -> String {
    format!(
        "[{{ cron = \"0 0 {} * * *\", duration = \"{hours}h\" }}]",
        at.hour()
    )
}

fn only_step(report: &rotate::PassReport) -> &rotate::StepOutcome {
    assert_eq!(report.steps.len(), 1, "{}", report.to_table());
    &report.steps[0]
}

#[tokio::test]
async fn idp_rotates_finding_dry_run_deferred_then_applied_in_the_window() {
    let old = cert("idp.acme.example.com", 200);
    let new = cert("idp2.acme.example.com", 900);
    // The window opens 6 hours from now's hour, for one hour: now is outside it.
    let opens = now() + Duration::hours(6);
    let w = Walk::new(tenant(&old, true), &daily_window(opens, 1), false).await;

    // Before the IdP rotates: nothing due, no finding.
    let (report, writes) = w.pass(false).await;
    assert_eq!(only_step(&report).outcome, Outcome::NotDue);
    assert!(writes.is_empty());
    assert_eq!(w.new_cert_findings(), 0);

    // The IdP rotates → finding.
    w.idp_rotates(&new);
    w.poll().await;
    assert_eq!(w.new_cert_findings(), 1);

    // Dry run: what changes in trust, with dates; nothing written.
    let (report, writes) = w.pass(false).await;
    let step = only_step(&report);
    assert_eq!(step.outcome, Outcome::DryRun, "{}", report.to_table());
    assert!(writes.is_empty(), "{writes:?}");
    let table = report.to_table();
    for needle in [
        "trusted now:",
        "IdP publishes:",
        "trusted after:",
        &old.sha1_hex,
        &new.sha1_hex,
        "outside every rotation window; the next opens at",
    ] {
        assert!(table.contains(needle), "{needle:?} missing:\n{table}");
    }
    let sent = step.requests[0].body.as_ref().unwrap();
    assert!(sent["options"]["metadataUrl"].is_string());
    assert!(sent["options"].get("signingCert").is_none());
    assert_eq!(sent["display_name"], json!("Acme workforce"));

    // Apply outside every window: deferred, counted, audited, no write.
    let (report, writes) = w.pass(true).await;
    let step = only_step(&report);
    assert_eq!(step.outcome, Outcome::Deferred, "{}", report.to_table());
    assert!(writes.is_empty(), "{writes:?}");
    assert!(report.to_table().contains("deferred"));
    assert_eq!(report.exit_code(), 0);
    assert!(w.app.metrics().render().contains(
        "certwatch_rotations_total{kind=\"connection_signing_cert\",outcome=\"deferred\",tenant=\"prod\"} 1"
    ));
    assert_eq!(w.options()["thumbprints"], json!([old.sha1_hex]));

    // Inside the next window: one PATCH, Auth0 re-reads the metadata, verified.
    w.clock.set(opens.replace_minute(10).unwrap());
    let (report, writes) = w.pass(true).await;
    let step = only_step(&report);
    assert_eq!(step.outcome, Outcome::Applied, "{}", report.to_table());
    assert_eq!(writes, vec![format!("PATCH /api/v2/connections/{ID}")]);
    let options = w.options();
    assert_eq!(options["thumbprints"], json!([new.sha1_hex]));
    assert_eq!(options["debug"], json!(true));
    assert_eq!(options["idpinitiated"]["client_id"], json!("app_1"));
    assert!(options["metadataUrl"].is_string());
    let display = w
        .sim
        .update(|t| t.get_connection(ID).unwrap().display_name.clone());
    assert_eq!(display.as_deref(), Some("Acme workforce"));

    // The next poll: the finding is resolved, and nothing is due any more.
    w.poll().await;
    assert_eq!(w.new_cert_findings(), 0);
    let (report, writes) = w.pass(true).await;
    assert_eq!(only_step(&report).outcome, Outcome::NotDue);
    assert!(writes.is_empty());
    println!("writes per rotation (metadataUrl refresh): 1");
}

#[tokio::test]
async fn watched_connection_gets_the_published_signing_cert() {
    let old = cert("idp.acme.example.com", 200);
    let new = cert("idp2.acme.example.com", 900);
    let w = Walk::new(tenant(&old, false), &daily_window(now(), 2), true).await;
    w.idp_rotates(&new);
    let (report, writes) = w.pass(true).await;
    let step = only_step(&report);
    assert_eq!(step.outcome, Outcome::Applied, "{}", report.to_table());
    assert_eq!(writes.len(), 1, "{writes:?}");
    let options = w.options();
    assert_eq!(options["thumbprints"], json!([new.sha1_hex]));
    assert_eq!(options["signingCert"], json!(new.base64_pem_crlf()));
    assert!(options.get("metadataUrl").is_none());
    assert_eq!(options["debug"], json!(true));
    println!("writes per rotation (metadata_urls signingCert): 1");
}

#[tokio::test]
async fn a_refresh_that_keeps_the_old_certificate_is_rolled_back() {
    let old = cert("idp.acme.example.com", 200);
    let new = cert("idp2.acme.example.com", 900);
    let w = Walk::new(tenant(&old, true), "[]", false).await;
    w.idp_rotates(&new);
    w.sim.add_fault(
        Fault::new("/api/v2/connections/{id}", FaultKind::KeepCertificate).method("PATCH"),
    );
    let (report, writes) = w.pass(true).await;
    let step = only_step(&report);
    assert_eq!(step.outcome, Outcome::RolledBack, "{}", report.to_table());
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert_eq!(report.exit_code(), 2);
    let options = w.options();
    assert_eq!(options["thumbprints"], json!([old.sha1_hex]));
    assert_eq!(options["debug"], json!(true));
    assert!(options["metadataUrl"].is_string());
    assert_eq!(report.alerting().count(), 1);
    println!("writes per rotation (rolled back): 2");
}

/// The demo tenant itself (`certwatch demo`): every SAML connection whose IdP drifted is fixed by
/// one PATCH inside the window, and the `idp_new_certificate` finding about the certificate it
/// now trusts is gone at the next poll. (An IdP that still publishes the old certificate next to
/// the new one — `contoso-saml` — keeps a finding about the old one: a samlp connection trusts
/// one certificate.)
#[tokio::test]
async fn the_demo_tenant_walk() {
    let scopes: Vec<&str> = certwatch::sim::demo::DEMO_SCOPES
        .iter()
        .copied()
        .chain(["update:connections", "update:connections_options"])
        .collect();
    let tenant = certwatch::sim::demo::tenant(now()).m2m(CLIENT_ID, SECRET, &scopes);
    let w = Walk::new(tenant, &daily_window(now(), 2), false).await;
    w.poll().await;
    // (connection, SHA-1 of the certificate the IdP publishes and the connection does not trust)
    let drifted = |app: &App| -> Vec<(String, String)> {
        let mut found: Vec<(String, String)> = app
            .report()
            .findings
            .iter()
            .filter(|f| f.finding == FindingKind::IdpNewCertificate)
            .map(|f| (f.object_name.clone(), f.sha1.clone().unwrap_or_default()))
            .collect();
        found.sort();
        found
    };
    let before = drifted(&w.app);
    assert!(!before.is_empty());

    let (dry, writes) = w.pass(false).await;
    assert!(writes.is_empty());
    let due: Vec<(&str, String)> = dry
        .steps
        .iter()
        .filter(|s| s.outcome == Outcome::DryRun)
        .map(|s| {
            (
                s.step.object_name.as_str(),
                s.new.sha1.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert!(!due.is_empty(), "{}", dry.to_table());

    let (report, writes) = w.pass(true).await;
    let applied = report
        .steps
        .iter()
        .filter(|s| s.outcome == Outcome::Applied)
        .count();
    assert_eq!(applied, due.len(), "{}", report.to_table());
    assert_eq!(writes.len(), applied, "one write per rotation: {writes:?}");
    w.poll().await;
    let after = drifted(&w.app);
    for (name, sha1) in &due {
        let finding = (name.to_string(), sha1.clone());
        assert!(
            before.contains(&finding),
            "{finding:?} was a finding: {before:?}"
        );
        assert!(
            !after.contains(&finding),
            "{finding:?} still a finding: {after:?}"
        );
    }
    println!(
        "demo walk: drifted {before:?}, rotated {due:?} with {} write(s), still drifting {after:?}",
        writes.len()
    );
}
