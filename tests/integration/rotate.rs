//! Rotation against the simulator (docs/rotation.md): dry run sends no write, apply rotates and
//! the next poll sees it, a bad PATCH answer is rolled back, a 5xx leaves the connection untouched
//! and is audited, an interrupted change is resolved at the next start, one rotator per tenant,
//! client credentials with overlap and the two-credential limit, tenant signing keys, and the
//! `certwatch rotate` binary's exit codes.

use crate::helpers::*;
use certwatch::app::App;
use certwatch::clock::ManualClock;
use certwatch::config;
use certwatch::inventory::Kind;
use certwatch::rotate::{self, IssueKind, Outcome, audit, lock};
use certwatch::sim::{
    Fault, FaultKind, GeneratedCert, Sim, SimClient, SimConnection, SimCredential, SimSigningKey,
    SimTenant, generate_cert,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::Duration;

const ROTATION_SCOPES: [&str; 8] = [
    "update:connections",
    "update:connections_options",
    "create:client_credentials",
    "update:client_credentials",
    "delete:client_credentials",
    "update:clients",
    "create:signing_keys",
    "update:signing_keys",
];
const CONN: &str = "/api/v2/connections/{id}";

fn tenant() -> SimTenant {
    let scopes: Vec<&str> = ALL_SCOPES
        .iter()
        .chain(ROTATION_SCOPES.iter())
        .copied()
        .collect();
    SimTenant::new(DOMAIN)
        .at(now())
        .m2m(CLIENT_ID, SECRET, &scopes)
}

/// A certificate valid from yesterday for `days`.
fn fresh(cn: &str, days: i64) -> GeneratedCert {
    let n = now();
    generate_cert(cn, n - Duration::days(1), n + Duration::days(days))
}

/// The simulator, an app with a `[rotation]` section, a store and a state dir.
struct Rig {
    sim: Sim,
    app: Arc<App>,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
}

impl Rig {
    async fn new(tenant: SimTenant, targets: &str) -> Rig {
        Self::new_with(tenant, targets, |t| t).await
    }

    async fn new_with(
        tenant: SimTenant,
        targets: &str,
        edit: impl FnOnce(String) -> String,
    ) -> Rig {
        let sim = Sim::spawn(tenant).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let text = edit(rig_config(&sim.url(), dir.path(), targets));
        std::fs::create_dir_all(dir.path().join("store")).unwrap();
        let cfg = config::from_toml(&text).unwrap();
        let clock = Arc::new(ManualClock::new(now()));
        let app = Arc::new(App::build(cfg, clock.clone()).unwrap());
        Rig {
            sim,
            app,
            clock,
            dir,
        }
    }

    fn put(&self, rel: &str, contents: &str) {
        let path = self.dir.path().join("store").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn audit_path(&self) -> PathBuf {
        self.dir.path().join("rotation-audit.jsonl")
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.audit_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    async fn poll(&self) {
        self.app.poll_now().await;
        let t = &self.app.snapshot().tenants[0];
        assert!(t.up, "poll failed: {:?}", t.errors);
    }

    /// Poll, forget the poll's requests, run one pass.
    async fn pass(&self, apply: bool) -> rotate::PassReport {
        self.poll().await;
        self.sim.clear_requests();
        rotate::pass(&self.app, apply).await
    }

    fn writes(&self) -> Vec<(String, String)> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET" && r.route != "/oauth/token")
            .map(|r| (r.method, r.path))
            .collect()
    }

    fn options(&self, id: &str) -> serde_json::Map<String, Value> {
        self.sim
            .update(|t| t.get_connection(id).unwrap().options.clone())
    }

    fn metrics(&self) -> String {
        self.app.metrics().render()
    }
}

fn rig_config(url: &url::Url, dir: &Path, targets: &str) -> String {
    format!(
        "{}\n[rotation]\nrotate_before = \"30d\"\noverlap = \"1h\"\n[rotation.store]\nkind = \"filesystem\"\npath = \"{}\"\n{targets}",
        config_toml(url, SECRET, dir),
        dir.join("store").display()
    )
}

const SAML_TARGET: &str = r#"
[[rotation.targets]]
tenant = "prod"
object_name = "acme-idp"
source = "idp"
"#;

/// A samlp connection expiring in 10 days, with options certwatch knows nothing about.
fn saml_tenant(old: &GeneratedCert, sp: &GeneratedCert) -> SimTenant {
    tenant().connection(
        SimConnection::samlp("con_1", "acme-idp", &old.base64_pem_crlf())
            .display_name("ACME Corp SSO")
            .sp_signing_key(&sp.key_pem, &sp.pem)
            .option(
                "x_unknown",
                json!({"nested": [1, null, "ü", {"deep": true}]}),
            )
            .option("idpinitiated", json!({"enabled": true, "client_id": "abc"})),
    )
}

async fn saml_rig() -> (Rig, GeneratedCert, GeneratedCert) {
    let old = cert("idp.acme.example", 10);
    let new = fresh("idp.acme.example", 400);
    let sp = cert("sp.acme.example", 300);
    let rig = Rig::new(saml_tenant(&old, &sp), SAML_TARGET).await;
    rig.put("idp/2027.pem", &new.pem);
    (rig, old, new)
}

fn audit_outcomes(rig: &Rig) -> Vec<(String, String)> {
    rig.audit()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn dry_run_sends_no_write_request_and_logs_the_masked_body() {
    let (rig, old, new) = saml_rig().await;
    let before = rig.options("con_1");
    let report = rig.pass(false).await;
    assert_eq!(report.steps.len(), 1, "{report:#?}");
    let step = &report.steps[0];
    assert_eq!(step.outcome, Outcome::DryRun, "{step:#?}");
    assert_eq!(report.exit_code(), 0);

    let methods: Vec<_> = rig.sim.requests().into_iter().map(|r| r.method).collect();
    assert!(!methods.is_empty());
    assert!(
        methods.iter().all(|m| m == "GET" || m == "POST"),
        "{methods:?}"
    );
    assert!(
        rig.writes().is_empty(),
        "a dry run writes nothing: {:?}",
        rig.writes()
    );
    assert_eq!(rig.options("con_1"), before);

    // The exact body it would send, secrets masked.
    assert_eq!(step.requests.len(), 1);
    let req = &step.requests[0];
    assert_eq!(
        (req.method, req.path.as_str()),
        ("PATCH", "/api/v2/connections/con_1")
    );
    let body = req.body.as_ref().unwrap();
    assert_eq!(body["options"]["signingCert"], json!(new.base64_pem_crlf()));
    assert_eq!(body["options"]["signing_key"]["key"], json!("********"));
    assert_eq!(
        body["options"]["signing_key"]["cert"],
        before["signing_key"]["cert"]
    );
    assert_eq!(body["options"]["x_unknown"], before["x_unknown"]);
    assert_eq!(body["display_name"], "ACME Corp SSO");
    for computed in ["cert", "expires", "subject", "thumbprints"] {
        assert!(body["options"].get(computed).is_none(), "{computed}");
    }
    assert!(!body.to_string().contains("PRIVATE KEY"));

    let audit = rig.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["outcome"], "dry_run");
    assert_eq!(audit[0]["dry_run"], true);
    assert_eq!(audit[0]["old_sha1"], json!(old.sha1_hex));
    assert_eq!(audit[0]["new_sha1"], json!(new.sha1_hex));
    assert!(
        !std::fs::read_to_string(rig.audit_path())
            .unwrap()
            .contains("PRIVATE KEY")
    );
    assert!(
        rig.metrics().contains(
            r#"certwatch_rotations_total{kind="connection_signing_cert",outcome="dry_run",tenant="prod"} 1"#
        ),
        "{}",
        rig.metrics()
    );
}

#[tokio::test]
async fn apply_rotates_and_the_next_poll_shows_the_new_expiry() {
    let (rig, old, new) = saml_rig().await;
    let before = rig.options("con_1");
    let report = rig.pass(true).await;
    let step = &report.steps[0];
    assert_eq!(step.outcome, Outcome::Applied, "{step:#?}");
    assert_eq!(report.exit_code(), 0);
    assert_eq!(
        rig.writes(),
        vec![("PATCH".to_string(), "/api/v2/connections/con_1".to_string())]
    );

    let after = rig.options("con_1");
    assert_eq!(after["thumbprints"], json!([new.sha1_hex]));
    for (k, v) in &before {
        if !["cert", "expires", "subject", "thumbprints", "signingCert"].contains(&k.as_str()) {
            assert_eq!(after.get(k), Some(v), "option {k} survived");
        }
    }
    let display = rig
        .sim
        .update(|t| t.get_connection("con_1").unwrap().display_name.clone());
    assert_eq!(display.as_deref(), Some("ACME Corp SSO"));

    rig.poll().await;
    let recs: Vec<_> = rig
        .app
        .snapshot()
        .records()
        .filter(|r| r.kind == Kind::ConnectionSigningCert)
        .cloned()
        .collect();
    assert_eq!(recs.len(), 1, "{recs:#?}");
    assert_eq!(recs[0].not_after(), Some(new.not_after));
    assert_eq!(recs[0].sha1.as_deref(), Some(new.sha1_hex.as_str()));

    let audit = rig.audit();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["outcome"], "intent");
    assert_eq!(audit[1]["outcome"], "applied");
    assert_eq!(audit[0]["id"], audit[1]["id"]);
    assert_eq!(audit[1]["old_sha1"], json!(old.sha1_hex));
    assert_eq!(
        audit[1]["new_not_after"],
        json!(certwatch::timefmt::rfc3339(new.not_after))
    );
    assert!(rig.metrics().contains(
        r#"certwatch_rotations_total{kind="connection_signing_cert",outcome="applied",tenant="prod"} 1"#
    ));

    // The next pass has nothing to do.
    let again = rig.pass(true).await;
    assert_eq!(again.steps[0].outcome, Outcome::NotDue, "{again:#?}");
    assert!(rig.writes().is_empty());
}

#[tokio::test]
async fn pingfederate_rotates_although_its_signing_cert_is_write_only() {
    let old = cert("ping.acme.example", 5);
    let new = fresh("ping.acme.example", 400);
    let t = tenant().connection(SimConnection::pingfederate("con_p", "acme-ping", &old.pem));
    let rig = Rig::new(
        t,
        "[[rotation.targets]]\nobject_id = \"con_p\"\nsource = \"ping.pem\"\n",
    )
    .await;
    rig.put("ping.pem", &new.pem);
    let before = rig.options("con_p");
    let report = rig.pass(true).await;
    assert_eq!(report.steps[0].outcome, Outcome::Applied, "{report:#?}");
    let after = rig.options("con_p");
    assert_eq!(after["thumbprints"], json!([new.sha1_hex]));
    assert_eq!(after["pingFederateBaseUrl"], before["pingFederateBaseUrl"]);
}

#[tokio::test]
async fn saml_round_trip_through_the_simulator_keeps_arbitrary_options() {
    let old = cert("idp.acme.example", 10);
    let new = fresh("idp.acme.example", 400);
    let odd = json!({
        "ключ": "значение",
        "emoji 🎉": [null, true, -7, 0.5, "", {"": {}}],
        "nested": {"a": [[], [[]], {"b": null}], "c": "line1\r\nline2\t\u{0}"},
        "null_value": null,
        "big": 9_007_199_254_740_993_i64,
        "metadataXml_like": "<x a=\"1\">&amp;</x>",
    });
    let mut conn = SimConnection::samlp("con_1", "acme-idp", &old.pem);
    for (k, v) in odd.as_object().unwrap() {
        conn = conn.option(k, v.clone());
    }
    let rig = Rig::new(tenant().connection(conn), SAML_TARGET).await;
    rig.put("idp/new.pem", &new.pem);
    let report = rig.pass(true).await;
    assert_eq!(report.steps[0].outcome, Outcome::Applied, "{report:#?}");
    let after = rig.options("con_1");
    for (k, v) in odd.as_object().unwrap() {
        assert_eq!(after.get(k), Some(v), "option {k:?}");
    }
}

#[tokio::test]
async fn a_wrong_thumbprint_in_the_answer_is_rolled_back() {
    let (rig, old, _new) = saml_rig().await;
    let before = rig.options("con_1");
    rig.sim.add_fault(
        Fault::new(CONN, FaultKind::WrongThumbprint)
            .method("PATCH")
            .times(1),
    );
    let report = rig.pass(true).await;
    let step = &report.steps[0];
    assert_eq!(step.outcome, Outcome::RolledBack, "{step:#?}");
    assert!(
        step.error.as_deref().unwrap().contains("thumbprints"),
        "{step:#?}"
    );
    assert_eq!(report.exit_code(), 2);
    assert_eq!(
        rig.writes(),
        vec![
            ("PATCH".to_string(), "/api/v2/connections/con_1".to_string()),
            ("PATCH".to_string(), "/api/v2/connections/con_1".to_string()),
        ]
    );
    let after = rig.options("con_1");
    assert_eq!(after["thumbprints"], json!([old.sha1_hex]));
    assert_eq!(after, before, "the original options are back");
    assert_eq!(
        rig.sim
            .update(|t| t.get_connection("con_1").unwrap().display_name.clone())
            .as_deref(),
        Some("ACME Corp SSO")
    );
    let outcomes = audit_outcomes(&rig);
    assert_eq!(
        outcomes.iter().map(|(_, o)| o.as_str()).collect::<Vec<_>>(),
        vec!["intent", "rolled_back"]
    );
    assert!(
        rig.metrics()
            .contains(r#"outcome="rolled_back",tenant="prod"} 1"#)
    );
    assert_eq!(report.alerting().count(), 1);
}

#[tokio::test]
async fn a_500_on_patch_leaves_the_connection_untouched_and_is_audited() {
    let (rig, old, _new) = saml_rig().await;
    let before = rig.options("con_1");
    rig.sim
        .add_fault(Fault::new(CONN, FaultKind::Status(500)).method("PATCH"));
    let report = rig.pass(true).await;
    let step = &report.steps[0];
    assert_eq!(step.outcome, Outcome::Failed, "{step:#?}");
    assert_eq!(report.exit_code(), 2);
    let seq: Vec<_> = rig
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.route == CONN)
        .map(|r| (r.method, r.status))
        .collect();
    assert_eq!(
        seq,
        vec![
            ("GET".into(), 200),
            ("PATCH".into(), 500),
            ("GET".into(), 200)
        ],
        "one PATCH, never retried; then a re-read"
    );
    assert_eq!(rig.options("con_1"), before);
    assert_eq!(rig.options("con_1")["thumbprints"], json!([old.sha1_hex]));
    let audit = rig.audit();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["outcome"], "intent");
    assert_eq!(audit[1]["outcome"], "failed");
    assert_eq!(audit[0]["id"], audit[1]["id"]);
    let error = audit[1]["error"].as_str().unwrap();
    assert!(
        error.contains("500") && error.contains("untouched"),
        "{error}"
    );
}

#[tokio::test]
async fn a_5xx_after_the_change_took_effect_is_found_by_re_reading() {
    let (rig, _old, new) = saml_rig().await;
    rig.sim.add_fault(
        Fault::new(CONN, FaultKind::StatusAfterApply(503))
            .method("PATCH")
            .times(1),
    );
    let report = rig.pass(true).await;
    let step = &report.steps[0];
    assert_eq!(step.outcome, Outcome::Applied, "{step:#?}");
    assert!(step.detail.contains("re-read"), "{step:#?}");
    assert_eq!(rig.options("con_1")["thumbprints"], json!([new.sha1_hex]));
}

#[tokio::test]
async fn an_intent_without_result_is_resolved_at_the_next_start() {
    let (rig, old, new) = saml_rig().await;
    // A previous run wrote its intent and died (here: written by hand).
    let intent = audit::Record {
        time: now(),
        id: "crashed-1".into(),
        tenant: "prod".into(),
        kind: Kind::ConnectionSigningCert,
        object_id: "con_1".into(),
        object_name: "acme-idp".into(),
        action: "replace_connection_cert".into(),
        old_cert_id: Some(old.sha1_hex.clone()),
        old_sha1: Some(old.sha1_hex.clone()),
        old_not_after: Some(old.not_after),
        new_cert_id: None,
        new_sha1: Some(new.sha1_hex.clone()),
        new_not_after: Some(new.not_after),
        outcome: audit::Outcome::Intent,
        dry_run: false,
        error: None,
        detail: None,
    };
    audit::AuditLog::new(rig.audit_path())
        .append(&intent)
        .unwrap();

    // A dry run does not resolve it, but says so.
    let dry = rig.pass(false).await;
    assert!(dry.recovered.is_empty());
    assert!(
        dry.issues.iter().any(|i| i.message.contains("crashed-1")),
        "{dry:#?}"
    );

    let report = rig.pass(true).await;
    assert_eq!(report.recovered.len(), 1, "{report:#?}");
    let r = &report.recovered[0];
    assert_eq!(r.id, "crashed-1");
    assert_eq!(r.outcome, audit::Outcome::Failed);
    assert!(r.error.as_deref().unwrap().contains("untouched"), "{r:?}");
    // …and the rotation itself then goes ahead.
    assert_eq!(report.steps[0].outcome, Outcome::Applied);
    let resolved: Vec<_> = rig
        .audit()
        .into_iter()
        .filter(|r| r["id"] == "crashed-1")
        .collect();
    assert_eq!(resolved.len(), 2);
    assert_eq!(resolved[1]["outcome"], "failed");
    assert!(
        audit::unresolved(
            &audit::AuditLog::new(rig.audit_path()).read().unwrap(),
            "prod"
        )
        .is_empty()
    );
}

#[tokio::test]
async fn an_aborted_pass_is_detected_and_resolved_by_the_next_one() {
    let (rig, _old, new) = saml_rig().await;
    rig.poll().await;
    rig.sim
        .add_fault(Fault::new(CONN, FaultKind::Hang).method("PATCH"));
    let app = rig.app.clone();
    let task = tokio::spawn(async move { rotate::pass(&app, true).await });
    // Wait until the intent is on disk and the PATCH is in flight, then kill the pass.
    for _ in 0..200 {
        let patched = rig.sim.requests().iter().any(|r| r.method == "PATCH");
        if patched && audit_outcomes(&rig).iter().any(|(_, o)| o == "intent") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(
        audit_outcomes(&rig)
            .iter()
            .map(|(_, o)| o.as_str())
            .collect::<Vec<_>>(),
        vec!["intent"]
    );
    rig.sim.clear_faults();
    // Meanwhile the change did land (as if the PATCH had been processed before the crash).
    rig.sim.update(|t| {
        let c = t.connection_mut("con_1").unwrap();
        c.options
            .insert("signingCert".into(), json!(new.base64_pem_crlf()));
        c.recompute();
    });
    let report = rotate::pass(&rig.app, true).await;
    assert_eq!(report.recovered.len(), 1, "{report:#?}");
    assert_eq!(report.recovered[0].outcome, audit::Outcome::Applied);
    // The stale snapshot still says "due": the re-read shows it is done, no second PATCH.
    assert_eq!(report.steps[0].outcome, Outcome::NotDue, "{report:#?}");
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn two_rotators_never_rotate_the_same_tenant_at_once() {
    let (rig, _old, _new) = saml_rig().await;
    rig.poll().await;
    // Held by "another certwatch".
    let held = lock::TenantLock::acquire(rig.dir.path(), "prod").unwrap();
    rig.sim.clear_requests();
    let report = rotate::pass(&rig.app, true).await;
    assert!(report.steps.is_empty());
    let issue = report
        .issues
        .iter()
        .find(|i| i.kind == IssueKind::Locked)
        .expect("locked");
    assert!(
        issue.message.contains("locked by another certwatch"),
        "{}",
        issue.message
    );
    assert_eq!(report.exit_code(), 1);
    assert!(rig.writes().is_empty());
    drop(held);

    // Two passes at once: the PATCH is slow, so they overlap; exactly one rotates.
    rig.sim.add_fault(
        Fault::new(
            CONN,
            FaultKind::Latency(std::time::Duration::from_millis(500)),
        )
        .method("PATCH"),
    );
    let (a, b) = tokio::join!(rotate::pass(&rig.app, true), rotate::pass(&rig.app, true));
    let applied = [&a, &b]
        .iter()
        .flat_map(|r| r.steps.iter())
        .filter(|s| s.outcome == Outcome::Applied)
        .count();
    let locked = [&a, &b]
        .iter()
        .filter(|r| r.issues.iter().any(|i| i.kind == IssueKind::Locked))
        .count();
    assert_eq!((applied, locked), (1, 1), "{a:#?}\n{b:#?}");
    assert_eq!(rig.writes().len(), 1);
}

#[tokio::test]
async fn the_lock_holds_across_processes() {
    let (rig, _old, _new) = saml_rig().await;
    let cfg = rig.dir.path().join("certwatch.toml");
    std::fs::write(
        &cfg,
        rig_config(&rig.sim.url(), rig.dir.path(), SAML_TARGET),
    )
    .unwrap();
    let held = lock::TenantLock::acquire(rig.dir.path(), "prod").unwrap();
    let (code, out, _err) = run_bin(&cfg, true).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("locked by another certwatch"), "{out}");
    assert!(rig.writes().is_empty());
    drop(held);
    let (code, out, _err) = run_bin(&cfg, true).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("applied"), "{out}");
}

async fn run_bin(cfg: &Path, apply: bool) -> (i32, String, String) {
    let cfg = cfg.to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_certwatch"));
        c.env_remove("RUST_LOG").env_remove("CERTWATCH_CONFIG");
        c.args(["rotate", "--config"]).arg(&cfg);
        if apply {
            c.arg("--apply");
        }
        c.output().unwrap()
    })
    .await
    .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test]
async fn the_binary_exits_0_when_planned_1_when_blocked_3_when_unpolled() {
    let (rig, _old, _new) = saml_rig().await;
    let cfg = rig.dir.path().join("certwatch.toml");
    std::fs::write(
        &cfg,
        rig_config(&rig.sim.url(), rig.dir.path(), SAML_TARGET),
    )
    .unwrap();
    let (code, out, err) = run_bin(&cfg, false).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.starts_with("DRY RUN"), "{out}");
    assert!(out.contains("dry_run") && out.contains("acme-idp"), "{out}");
    assert!(
        err.contains("rotation request"),
        "the dry run logs the body: {err}"
    );
    assert!(!err.contains("PRIVATE KEY"), "{err}");
    assert!(rig.writes().is_empty());

    std::fs::remove_file(rig.dir.path().join("store/idp/2027.pem")).unwrap();
    let (code, out, _) = run_bin(&cfg, true).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("blocked") && out.contains("no candidate"),
        "{out}"
    );

    rig.sim
        .add_fault(Fault::new("/api/v2/connections", FaultKind::Status(503)));
    let (code, out, _) = run_bin(&cfg, true).await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("last poll did not succeed"), "{out}");
}

// === client credentials ===

const CRED_TARGET: &str = r#"
[[rotation.targets]]
kind = "client_credential"
object_name = "billing-api"
source = "billing"
[[rotation.targets]]
kind = "client_credential"
object_name = "full-app"
source = "billing"
"#;

#[tokio::test]
async fn client_credentials_rotate_with_overlap_and_respect_the_limit() {
    let n = now();
    let old = cert("billing", 5);
    let new = fresh("billing", 365);
    let t = tenant()
        .client(
            SimClient::new("cl_billing", "billing-api")
                .credential(SimCredential::public_key_from_cert(
                    "cred_old", "old key", &old, n,
                ))
                .private_key_jwt(&["cred_old"])
                .signed_request_object(true, &["cred_old"]),
        )
        .client(
            SimClient::new("cl_full", "full-app")
                .credential(SimCredential::public_key_from_cert(
                    "cred_a",
                    "a",
                    &cert("a", 4),
                    n,
                ))
                .credential(SimCredential::public_key(
                    "cred_spare",
                    "spare",
                    n,
                    Some(n - Duration::days(1)),
                ))
                .private_key_jwt(&["cred_a"]),
        );
    let rig = Rig::new(t, CRED_TARGET).await;
    rig.put("billing/new.pem", &new.pem);

    let report = rig.pass(true).await;
    let by = |client: &str| {
        report
            .steps
            .iter()
            .find(|s| s.step.object_id == client)
            .unwrap_or_else(|| panic!("{report:#?}"))
    };
    let billing = by("cl_billing");
    assert_eq!(billing.outcome, Outcome::Applied, "{billing:#?}");
    let full = by("cl_full");
    assert_eq!(full.outcome, Outcome::Blocked);
    assert!(
        full.error.as_deref().unwrap().contains("limit is 2"),
        "{full:#?}"
    );
    assert!(full.error.as_deref().unwrap().contains("cred_spare"));
    assert_eq!(report.exit_code(), 1);
    assert!(
        !rig.writes().iter().any(|(_, p)| p.contains("cl_full")),
        "nothing is sent for the blocked client: {:?}",
        rig.writes()
    );
    assert_eq!(
        rig.writes(),
        vec![
            (
                "POST".into(),
                "/api/v2/clients/cl_billing/credentials".into()
            ),
            ("PATCH".into(), "/api/v2/clients/cl_billing".into()),
        ]
    );
    let new_id = billing.new.cert_id.clone().unwrap();
    let client = rig
        .sim
        .update(|t| t.get_client("cl_billing").unwrap().clone());
    assert_eq!(client.credentials.len(), 2);
    let created = client.credentials.iter().find(|c| c.id == new_id).unwrap();
    assert_eq!(created.credential_type, "public_key");
    assert_eq!(created.expires_at, Some(new.not_after));
    let refs = client.referenced_credential_ids();
    assert_eq!(
        refs.iter().filter(|r| **r == new_id).count(),
        2,
        "JWT and JAR: {refs:?}"
    );
    assert_eq!(refs.iter().filter(|r| *r == "cred_old").count(), 2);

    // Within the overlap: nothing happens.
    let report = rig.pass(true).await;
    let billing = report
        .steps
        .iter()
        .find(|s| s.step.object_id == "cl_billing")
        .unwrap();
    assert_eq!(billing.outcome, Outcome::NotDue, "{billing:#?}");
    assert!(billing.detail.contains("overlap"));
    assert!(!rig.writes().iter().any(|(_, p)| p.contains("cl_billing")));

    // After it: the old credential is unreferenced, then deleted.
    rig.clock.advance(std::time::Duration::from_secs(3601));
    let report = rig.pass(true).await;
    let billing = report
        .steps
        .iter()
        .find(|s| s.step.object_id == "cl_billing")
        .unwrap();
    assert_eq!(billing.outcome, Outcome::Applied, "{billing:#?}");
    assert_eq!(
        rig.writes()
            .into_iter()
            .filter(|(_, p)| p.contains("cl_billing"))
            .collect::<Vec<_>>(),
        vec![
            ("PATCH".into(), "/api/v2/clients/cl_billing".into()),
            (
                "DELETE".into(),
                "/api/v2/clients/cl_billing/credentials/cred_old".into()
            ),
        ]
    );
    let client = rig
        .sim
        .update(|t| t.get_client("cl_billing").unwrap().clone());
    assert_eq!(
        client
            .credentials
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        vec![new_id.clone()]
    );
    assert_eq!(
        client.referenced_credential_ids(),
        vec![new_id.clone(), new_id]
    );

    // And then the client is simply healthy.
    let report = rig.pass(true).await;
    let billing = report
        .steps
        .iter()
        .find(|s| s.step.object_id == "cl_billing")
        .unwrap();
    assert_eq!(billing.outcome, Outcome::NotDue);
    assert!(billing.detail.contains("not within"), "{billing:#?}");
}

#[tokio::test]
async fn a_failed_client_patch_deletes_the_new_credential() {
    let n = now();
    let old = cert("billing", 5);
    let t = tenant().client(
        SimClient::new("cl_billing", "billing-api")
            .credential(SimCredential::x509_cert("cred_old", "gw", &old, n))
            .self_signed_tls_client_auth(&["cred_old"]),
    );
    let rig = Rig::new(t, CRED_TARGET).await;
    rig.put("billing/new.pem", &fresh("billing", 365).pem);
    rig.sim
        .add_fault(Fault::new("/api/v2/clients/{id}", FaultKind::Status(500)).method("PATCH"));
    let report = rig.pass(true).await;
    let s = &report.steps[0];
    assert_eq!(s.outcome, Outcome::Failed, "{s:#?}");
    assert!(s.error.as_deref().unwrap().contains("untouched"), "{s:#?}");
    let client = rig
        .sim
        .update(|t| t.get_client("cl_billing").unwrap().clone());
    assert_eq!(
        client.credentials.len(),
        1,
        "the new credential is gone again"
    );
    assert_eq!(
        client.referenced_credential_ids(),
        vec!["cred_old".to_string()]
    );
}

// === tenant signing key ===

#[tokio::test]
async fn the_tenant_signing_key_rotates_only_for_an_explicit_target() {
    let n = now();
    let current = cert(DOMAIN, 10);
    let next = fresh(DOMAIN, 4000);
    let t = tenant()
        .signing_key(
            SimSigningKey::from_cert("kid-current", &current).current(n - Duration::days(100)),
        )
        .signing_key(SimSigningKey::from_cert("kid-next", &next).next());
    let rig = Rig::new(
        t.clone(),
        "[[rotation.targets]]\ntenant = \"prod\"\nsource = \"unused\"\n",
    )
    .await;
    rig.put("unused/readme.txt", "nothing");
    let report = rig.pass(true).await;
    assert!(report.steps.is_empty(), "{report:#?}");
    assert!(rig.writes().is_empty());

    let rig = Rig::new(
        t,
        "[[rotation.targets]]\ntenant = \"prod\"\nkind = \"tenant_signing_key\"\nsource = \"unused\"\n",
    )
    .await;
    std::fs::create_dir_all(rig.dir.path().join("store/unused")).unwrap();
    let report = rig.pass(true).await;
    assert_eq!(report.steps[0].outcome, Outcome::Applied, "{report:#?}");
    assert_eq!(
        rig.writes(),
        vec![("POST".into(), "/api/v2/keys/signing/rotate".into())]
    );
    let current = rig
        .sim
        .update(|t| t.current_signing_key().unwrap().kid.clone());
    assert_eq!(current, "kid-next");
    assert_eq!(report.steps[0].new.cert_id.as_deref(), Some("kid-next"));
}

/// The daemon's cycle runs the rotation pass after the poll: a dry run by default, a real
/// rotation with `rotation.apply = true`.
#[tokio::test]
async fn the_daemon_cycle_runs_the_pass_dry_by_default_and_applies_when_told() {
    let old = cert("idp.acme.example", 10);
    let new = fresh("idp.acme.example", 400);
    let sp = cert("sp.acme.example", 300);
    let dry = Rig::new_with(saml_tenant(&old, &sp), SAML_TARGET, |t| {
        t.replace("[rotation]\n", "[rotation]\nenabled = true\n")
    })
    .await;
    dry.put("idp/2027.pem", &new.pem);
    dry.app.run_cycle().await;
    assert!(
        dry.writes().is_empty(),
        "dry run by default: {:?}",
        dry.writes()
    );
    assert!(dry.metrics().contains("outcome=\"dry_run\""));

    let live = Rig::new_with(saml_tenant(&old, &sp), SAML_TARGET, |t| {
        t.replace("[rotation]\n", "[rotation]\nenabled = true\napply = true\n")
    })
    .await;
    live.put("idp/2027.pem", &new.pem);
    live.app.run_cycle().await;
    assert!(
        live.writes().iter().any(|(m, _)| m == "PATCH"),
        "{:?}",
        live.writes()
    );
    live.poll().await;
    let rec = live
        .app
        .snapshot()
        .records()
        .find(|r| {
            r.object_name == "acme-idp"
                && r.kind == certwatch::inventory::Kind::ConnectionSigningCert
        })
        .cloned()
        .unwrap();
    assert_eq!(rec.sha1.as_deref(), Some(new.sha1_hex.as_str()));
}
