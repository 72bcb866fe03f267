//! Findings beyond expiry end to end (docs/findings.md): the simulator's IdP metadata server,
//! tenant JWKS, custom domains and TLS listener, polled by the daemon with `[metadata]` enabled,
//! seen in the snapshot, the JSON, `/metrics`, the status page — and what a failing IdP does.

use crate::helpers::*;
use certwatch::findings::{Finding, FindingKind, FindingSeverity};
use certwatch::inventory::{Kind, Source};
use certwatch::sim::{
    GeneratedCert, IdpFault, SimConnection, SimCustomDomain, SimIdp, SimServedChain, SimSigningKey,
    SimTenant,
};
use time::Duration;

struct Scenario {
    tenant: SimTenant,
    trusted: GeneratedCert,
    rolled: GeneratedCert,
    withdrawn: GeneratedCert,
    adfs: GeneratedCert,
    upstream: GeneratedCert,
    served: GeneratedCert,
}

const SERVED_DOMAIN: &str = "login.acme.test";

fn scenario() -> Scenario {
    let n = now();
    let current = cert(DOMAIN, 400);
    let next = cert(DOMAIN, 800);
    let trusted = cert("idp.acme.example", 200);
    let rolled = cert("idp.acme.example 2027", 900);
    let withdrawn = cert("old.partner.example", 100);
    let partner_new = cert("new.partner.example", 700);
    let adfs = cert("adfs.acme.example", 20);
    let upstream = cert("op.partner.example", 10);
    let served = cert(SERVED_DOMAIN, 12);
    let tenant = base_tenant()
        .signing_key(
            SimSigningKey::from_cert("kid-current", &current).current(n - Duration::days(3)),
        )
        .signing_key(SimSigningKey::from_cert("kid-next", &next).next())
        .jwks_without("kid-next")
        .connection(
            SimConnection::samlp("con_rolling", "acme-idp", &trusted.base64_pem_crlf())
                .idp(SimIdp::publishing(&[&trusted, &rolled]).valid_until(n + Duration::days(90))),
        )
        .connection(
            SimConnection::samlp("con_partner", "partner-idp", &withdrawn.pem)
                .idp(SimIdp::publishing(&[&partner_new]).valid_until(n + Duration::days(5))),
        )
        .connection(
            SimConnection::adfs("con_adfs", "corp-adfs", &[&adfs.sha1_hex])
                .idp(SimIdp::publishing(&[&adfs])),
        )
        .connection(
            SimConnection::oidc("con_oidc", "partner-oidc").idp(SimIdp::publishing(&[&upstream])),
        )
        .custom_domain(
            SimCustomDomain::auth0_managed("cd_failed", "id.acme.test", n - Duration::days(400))
                .renewing_failed(
                    n + Duration::days(3),
                    "CAA record prevents issuance <script>alert(1)</script>",
                ),
        )
        .custom_domain(
            SimCustomDomain::auth0_managed("cd_ok", "auth.acme.test", n - Duration::days(400))
                .provisioned(n + Duration::days(60)),
        )
        .custom_domain(SimCustomDomain::self_managed(
            "cd_self",
            SERVED_DOMAIN,
            n - Duration::days(400),
            SimServedChain::new(&served, &[]),
        ));
    Scenario {
        tenant,
        trusted,
        rolled,
        withdrawn,
        adfs,
        upstream,
        served,
    }
}

/// A daemon with `[metadata]` enabled (plain HTTP allowed: the simulator is http) whose probe
/// of the self-managed domain goes to the simulator's TLS listener.
async fn spawn_probing(tenant: SimTenant) -> TestApp {
    TestApp::spawn_toml_sim(tenant, |t, sim| {
        let tls = sim
            .tls_addr()
            .expect("TLS listener for self-managed domains");
        let t = t.replace(
            "[[tenants]]",
            "[metadata]\nenabled = true\nallow_http = true\ntimeout = \"3s\"\n[[tenants]]",
        );
        format!("{t}probe_addresses = {{ \"{SERVED_DOMAIN}\" = \"{tls}\" }}\n")
    })
    .await
}

fn of<'a>(findings: &'a [Finding], kind: FindingKind, object: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.finding == kind && (f.object_id == object || f.object_name == object))
        .collect()
}

#[tokio::test]
#[ignore = "needs promtool (Debian package prometheus; scripts/test.sh installs it)"]
async fn every_remote_check_reports_through_json_metrics_and_status_page() {
    let s = scenario();
    let app = spawn_probing(s.tenant).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    let t = &snap.tenants[0];
    assert!(
        t.up,
        "remote checks never mark a tenant down: {:?}",
        t.errors
    );
    let report = app.app.report();
    let f = &report.findings;

    // IdP rotation pending on acme-idp: the new certificate with its dates.
    let new = of(f, FindingKind::IdpNewCertificate, "con_rolling");
    assert_eq!(new.len(), 1, "{f:#?}");
    assert_eq!(new[0].sha1.as_deref(), Some(s.rolled.sha1_hex.as_str()));
    assert_eq!(new[0].not_after, Some(s.rolled.not_after));
    assert_eq!(new[0].severity, FindingSeverity::Warning);
    assert!(of(f, FindingKind::IdpCertificateWithdrawn, "con_rolling").is_empty());

    // partner-idp trusts only a certificate its IdP withdrew; its metadata expires in 5 days.
    let gone = of(f, FindingKind::IdpCertificateWithdrawn, "con_partner");
    assert_eq!(gone.len(), 1, "{f:#?}");
    assert_eq!(gone[0].severity, FindingSeverity::Critical);
    assert_eq!(gone[0].sha1.as_deref(), Some(s.withdrawn.sha1_hex.as_str()));
    let meta = of(f, FindingKind::MetadataExpiring, "con_partner");
    assert_eq!(meta.len(), 1);
    assert_eq!(
        meta[0].severity,
        FindingSeverity::Critical,
        "5 days < critical_before 7d"
    );

    // ADFS: the thumbprint became a certificate with real dates (alerting as one).
    let adfs = one(&app, Kind::ConnectionThumbprint, "corp-adfs");
    assert_eq!(adfs.not_after(), Some(s.adfs.not_after));
    assert_eq!(adfs.subject.as_deref(), Some("CN=adfs.acme.example"));
    assert!(of(f, FindingKind::IdpNewCertificate, "con_adfs").is_empty());

    // Upstream OIDC JWKS: its x5c expires in 10 days.
    let op = of(f, FindingKind::IdpCertificateExpiring, "con_oidc");
    assert_eq!(op.len(), 1, "{f:#?}");
    assert_eq!(op[0].sha1.as_deref(), Some(s.upstream.sha1_hex.as_str()));
    assert_eq!(op[0].severity, FindingSeverity::Warning);

    // The tenant JWKS lacks the next key.
    let jw = of(f, FindingKind::JwksMismatch, "kid-next");
    assert_eq!(jw.len(), 1, "{f:#?}");
    assert_eq!(jw[0].severity, FindingSeverity::Warning);

    // Custom domains: a failed renewal, and the served self-managed certificate.
    let failed = of(f, FindingKind::CustomDomainCertificateFailed, "cd_failed");
    assert_eq!(failed.len(), 1);
    assert!(failed[0].message.contains("CAA record prevents issuance"));
    let served = of(f, FindingKind::CustomDomainCertificateExpiring, "cd_self");
    assert_eq!(served.len(), 1, "{f:#?}");
    assert_eq!(served[0].sha1.as_deref(), Some(s.served.sha1_hex.as_str()));
    assert!(of(f, FindingKind::CustomDomainCertificateExpiring, "cd_ok").is_empty());
    assert!(of(f, FindingKind::CustomDomainProbeFailed, "cd_self").is_empty());

    // JSON (the record shape of docs/json.md).
    let (code, body) = app.get("/api/v1/certificates").await;
    assert_eq!(code, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rec = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "idp_certificate_withdrawn")
        .expect("withdrawn finding in JSON");
    assert_eq!(rec["tenant"], "prod");
    assert_eq!(rec["object_id"], "con_partner");
    assert_eq!(rec["object_name"], "partner-idp");
    assert_eq!(rec["severity"], "critical");
    assert_eq!(rec["sha1"], s.withdrawn.sha1_hex.as_str());

    // The context behind the findings (what each IdP publishes, each custom domain's state) is
    // in /api/v1/findings, next to the findings; the certificates document (docs/json.md) keeps
    // its keys.
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["certificates", "findings", "generated_at", "tenants"]
    );
    let (code, body) = app.get("/api/v1/findings").await;
    assert_eq!(code, 200);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json["findings"].as_array().unwrap().len(),
        report.findings.len()
    );
    let docs = json["idp_documents"].as_array().unwrap();
    let rolling = docs
        .iter()
        .find(|d| d["object_id"] == "con_rolling")
        .expect("acme-idp's document");
    assert_eq!(rolling["source"], "saml_metadata");
    assert_eq!(rolling["error"], serde_json::Value::Null);
    assert!(
        rolling["url"]
            .as_str()
            .unwrap()
            .ends_with("/idp/con_rolling/samlp/metadata.xml")
    );
    let trust: Vec<(String, serde_json::Value)> = rolling["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["sha1"].as_str().unwrap().to_string(),
                c["trusted"].clone(),
            )
        })
        .collect();
    assert_eq!(
        trust,
        vec![
            (s.trusted.sha1_hex.clone(), serde_json::Value::Bool(true)),
            (s.rolled.sha1_hex.clone(), serde_json::Value::Bool(false)),
        ]
    );
    let oidc = docs.iter().find(|d| d["object_id"] == "con_oidc").unwrap();
    assert_eq!(oidc["certificates"][0]["trusted"], serde_json::Value::Null);
    let domains = json["custom_domains"].as_array().unwrap();
    assert_eq!(domains.len(), 3);
    let probed = domains
        .iter()
        .find(|d| d["custom_domain_id"] == "cd_self")
        .unwrap();
    assert_eq!(probed["type"], "self_managed_certs");
    assert_eq!(
        probed["probe"]["chain"][0]["sha1"],
        s.served.sha1_hex.as_str()
    );
    let failed = domains
        .iter()
        .find(|d| d["custom_domain_id"] == "cd_failed")
        .unwrap();
    assert_eq!(failed["certificate_status"], "renewing_failed");
    assert_eq!(failed["probe"], serde_json::Value::Null);

    // Metrics.
    let (_, metrics) = app.get("/metrics").await;
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        metrics
            .lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .find(|l| {
                labels
                    .iter()
                    .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    };
    let idp = "certwatch_idp_certificate_not_after_timestamp_seconds";
    let rolled_sha1 = s.rolled.sha1_hex.as_str();
    assert_eq!(
        value(
            idp,
            &[
                ("tenant", "prod"),
                ("kind", "connection_signing_cert"),
                ("object_id", "con_rolling"),
                ("object_name", "acme-idp"),
                ("cert_id", rolled_sha1),
                ("source", "saml_metadata"),
                ("trusted", "false"),
            ]
        ),
        Some(s.rolled.not_after.unix_timestamp() as f64),
        "{metrics}"
    );
    let trusted_sha1 = s.trusted.sha1_hex.as_str();
    assert!(value(idp, &[("cert_id", trusted_sha1), ("trusted", "true")]).is_some());
    let upstream_sha1 = s.upstream.sha1_hex.as_str();
    assert!(
        value(
            idp,
            &[
                ("cert_id", upstream_sha1),
                ("source", "oidc_jwks"),
                ("trusted", "dynamic")
            ]
        )
        .is_some()
    );
    let adfs_sha1 = s.adfs.sha1_hex.as_str();
    assert!(
        value(
            idp,
            &[
                ("cert_id", adfs_sha1),
                ("kind", "connection_thumbprint"),
                ("source", "adfs_metadata")
            ]
        )
        .is_some()
    );
    assert!(
        value(
            "certwatch_idp_metadata_valid_until_timestamp_seconds",
            &[("object_id", "con_partner")]
        )
        .is_some()
    );
    assert_eq!(
        value(
            "certwatch_custom_domain_certificate_not_after_timestamp_seconds",
            &[("object_id", "cd_self"), ("domain", SERVED_DOMAIN)]
        ),
        Some(s.served.not_after.unix_timestamp() as f64)
    );
    assert_eq!(
        value(
            "certwatch_custom_domain_info",
            &[
                ("object_id", "cd_failed"),
                ("type", "auth0_managed_certs"),
                ("certificate_status", "renewing_failed")
            ]
        ),
        Some(1.0)
    );
    let finding = "certwatch_finding";
    assert_eq!(
        value(
            finding,
            &[
                ("kind", "custom_domain"),
                ("object_id", "cd_failed"),
                ("finding", "custom_domain_certificate_failed")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            finding,
            &[
                ("kind", "tenant_signing_key"),
                ("object_id", "kid-next"),
                ("finding", "jwks_mismatch")
            ]
        ),
        Some(1.0)
    );

    crate::http::promtool_check(&metrics);

    // Status page.
    let (_, page) = app.get("/").await;
    assert!(page.contains("idp_certificate_withdrawn") && page.contains("partner-idp"));
    assert!(page.contains("<h2>IdP documents</h2>") && page.contains("<h2>Custom domains</h2>"));
    assert!(page.contains(&format!(
        "{} (<b class=\"err\">not trusted</b>",
        s.rolled.sha1_hex
    )));
    assert!(page.contains("CAA record prevents issuance &lt;script&gt;"));
    assert!(!page.contains("<script>"), "Auth0's error text is escaped");
    app.stop().await;
}

#[tokio::test]
async fn a_failing_idp_keeps_the_last_good_copy_and_says_so() {
    let s = scenario();
    let app = spawn_probing(s.tenant).await;
    app.app.poll_now().await;
    let before = app.app.report().findings;
    assert_eq!(
        of(&before, FindingKind::IdpNewCertificate, "con_rolling").len(),
        1
    );

    // The IdP's metadata server breaks: a 500, then garbage.
    for fault in [
        IdpFault::Status(500),
        IdpFault::Malformed,
        IdpFault::Oversized(2 << 20),
    ] {
        app.sim.update(|t| {
            let c = t.connection_mut("con_rolling").unwrap();
            c.idp.as_mut().unwrap().fault = Some(fault.clone());
        });
        app.app.poll_now().await;
        let snap = app.app.snapshot();
        assert!(
            snap.tenants[0].up,
            "{fault:?}: an IdP failure is not an Auth0 failure"
        );
        let f = app.app.report().findings;
        let down = of(&f, FindingKind::MetadataUnavailable, "con_rolling");
        assert_eq!(down.len(), 1, "{fault:?}: {f:#?}");
        assert!(down[0].message.contains("earlier"), "{}", down[0].message);
        assert_eq!(
            of(&f, FindingKind::IdpNewCertificate, "con_rolling").len(),
            1,
            "{fault:?}: still judged from the last good copy"
        );
        // The others are unaffected.
        assert_eq!(
            of(&f, FindingKind::IdpCertificateWithdrawn, "con_partner").len(),
            1
        );
    }
    // Fixed: the IdP completed its rotation and the connection follows it. All clear.
    let rolled = s.rolled.clone();
    app.sim.update(|t| {
        let c = t.connection_mut("con_rolling").unwrap();
        let idp = c.idp.as_mut().unwrap();
        idp.fault = None;
        idp.signing_certs = vec![rolled.der.clone()];
        c.options.insert(
            "signingCert".into(),
            serde_json::Value::String(rolled.pem.clone()),
        );
        c.recompute();
    });
    app.app.poll_now().await;
    let f = app.app.report().findings;
    let left: Vec<_> = f.iter().filter(|f| f.object_id == "con_rolling").collect();
    assert!(left.is_empty(), "{left:#?}");
    let record = one(&app, Kind::ConnectionSigningCert, "acme-idp");
    assert_eq!(record.sha1.as_deref(), Some(rolled.sha1_hex.as_str()));
    app.stop().await;
}

#[tokio::test]
async fn without_metadata_enabled_nothing_leaves_auth0() {
    let s = scenario();
    let app = TestApp::spawn(s.tenant).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "{:?}", snap.tenants[0].errors);
    let idp_requests = app
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/idp/"))
        .count();
    assert_eq!(idp_requests, 0, "no IdP fetch without [metadata] enabled");
    let f = app.app.report().findings;
    // Auth0's own facts are still judged: JWKS and custom domains are sources.
    assert_eq!(of(&f, FindingKind::JwksMismatch, "kid-next").len(), 1);
    assert_eq!(
        of(&f, FindingKind::CustomDomainCertificateFailed, "cd_failed").len(),
        1
    );
    assert!(of(&f, FindingKind::IdpNewCertificate, "con_rolling").is_empty());
    assert!(of(&f, FindingKind::CustomDomainCertificateExpiring, "cd_self").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn custom_domains_without_the_scope_is_an_explained_error() {
    let s = scenario();
    let app = TestApp::spawn(s.tenant).await;
    app.sim.update(|t| {
        let scopes: Vec<&str> = ALL_SCOPES
            .iter()
            .copied()
            .filter(|s| *s != "read:custom_domains")
            .collect();
        t.set_scopes(CLIENT_ID, &scopes);
    });
    app.app.poll_now().await;
    let t = app.app.snapshot().tenants[0].clone();
    let e = t
        .errors
        .iter()
        .find(|e| e.source == Source::CustomDomains)
        .expect("custom_domains error");
    assert!(e.message.contains("read:custom_domains"), "{}", e.message);
    assert!(e.message.contains("sources"), "{}", e.message);
    // Everything else was still read.
    assert!(!app.find(Kind::ConnectionSigningCert, "acme-idp").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn the_daemon_alerts_on_an_idp_rotation_once_and_resolves_it_when_followed() {
    let n = now();
    let trusted = cert("idp.acme.example", 200);
    let rolled = cert("idp.acme.example 2027", 900);
    let tenant = base_tenant()
        .signing_key(SimSigningKey::from_cert("kid-current", &cert(DOMAIN, 400)).current(n))
        .signing_key(SimSigningKey::from_cert("kid-next", &cert(DOMAIN, 800)).next())
        .connection(
            SimConnection::samlp("con_rolling", "acme-idp", &trusted.pem)
                .idp(SimIdp::publishing(&[&trusted, &rolled])),
        );
    let (url, inbox) = webhook_listener().await;
    let app = TestApp::spawn_toml(tenant, |t| {
        let t = t.replace(
            "[[tenants]]",
            "[metadata]\nenabled = true\nallow_http = true\n[[tenants]]",
        );
        format!("{t}\n[alerts]\n[[alerts.webhook]]\nname = \"hook\"\nurl = \"{url}\"\nformat = \"json\"\n")
    })
    .await;
    let take = || std::mem::take(&mut *inbox.lock().unwrap());

    app.app.poll_now().await;
    let got = take();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["status"], "firing");
    assert_eq!(got[0]["severity"], "warning");
    assert_eq!(got[0]["finding"]["kind"], "idp_new_certificate");
    assert_eq!(got[0]["finding"]["object_name"], "acme-idp");
    assert_eq!(got[0]["finding"]["sha1"], rolled.sha1_hex.as_str());
    app.app.poll_now().await;
    assert_eq!(take(), Vec::<serde_json::Value>::new(), "nothing twice");

    // The operator adds the new certificate to the connection (Auth0 keeps one signingCert:
    // the IdP now signs with the new one and has dropped the old).
    app.sim.update(|t| {
        let c = t.connection_mut("con_rolling").unwrap();
        c.idp.as_mut().unwrap().signing_certs = vec![rolled.der.clone()];
        c.options.insert(
            "signingCert".into(),
            serde_json::Value::String(rolled.pem.clone()),
        );
        c.options.remove("cert");
        c.recompute();
    });
    app.app.poll_now().await;
    let got = take();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["status"], "resolved");
    assert_eq!(got[0]["finding"]["kind"], "idp_new_certificate");
    app.app.poll_now().await;
    assert_eq!(take(), Vec::<serde_json::Value>::new());
    app.stop().await;
}

/// With the tenant's mTLS endpoint aliases on, `mtls.{domain}` is probed too (its certificate
/// is its own) and reported as a domain of its own; without `read:tenant_settings` only that
/// source fails and the domain itself is still probed.
#[tokio::test]
async fn the_mtls_endpoint_alias_of_a_self_managed_domain_is_probed() {
    let n = now();
    let served = cert(SERVED_DOMAIN, 200);
    let alias_host = format!("mtls.{SERVED_DOMAIN}");
    let alias = cert(&alias_host, 5);
    let tenant = || {
        base_tenant()
            .custom_domain(
                SimCustomDomain::self_managed(
                    "cd_self",
                    SERVED_DOMAIN,
                    n - Duration::days(400),
                    SimServedChain::new(&served, &[]),
                )
                .mtls_alias(SimServedChain::new(&alias, &[])),
            )
            .mtls_endpoint_aliases()
    };
    let spawn = |tenant: SimTenant| {
        let alias_host = alias_host.clone();
        TestApp::spawn_toml_sim(tenant, move |t, sim| {
            let tls = sim.tls_addr().unwrap();
            let t = t.replace(
                "[[tenants]]",
                "[metadata]\nenabled = true\nallow_http = true\ntimeout = \"3s\"\n[[tenants]]",
            );
            format!(
                "{t}probe_addresses = {{ \"{SERVED_DOMAIN}\" = \"{tls}\", \"{alias_host}\" = \"{tls}\" }}\n"
            )
        })
    };
    let app = spawn(tenant()).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    assert!(snap.tenants[0].up, "{:?}", snap.tenants[0].errors);
    let f = app.app.report().findings;
    assert!(of(&f, FindingKind::CustomDomainCertificateExpiring, "cd_self").is_empty());
    let mtls = of(
        &f,
        FindingKind::CustomDomainCertificateExpiring,
        "cd_self:mtls",
    );
    assert_eq!(mtls.len(), 1, "{f:#?}");
    assert_eq!(mtls[0].object_name, alias_host);
    assert_eq!(mtls[0].sha1.as_deref(), Some(alias.sha1_hex.as_str()));
    assert_eq!(mtls[0].severity, FindingSeverity::Critical);
    let settings: Vec<_> = app
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v2/tenants/settings")
        .collect();
    assert_eq!(settings.len(), 1);
    assert!(
        settings[0].query.contains("fields=mtls"),
        "{}",
        settings[0].query
    );
    app.stop().await;

    // Without the scope: only tenant_settings fails, the domain itself is still probed.
    let mut t = tenant();
    t.m2m_apps[0].scopes.retain(|s| s != "read:tenant_settings");
    let app = spawn(t).await;
    app.app.poll_now().await;
    let snap = app.app.snapshot();
    let errors = &snap.tenants[0].errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].source, Source::TenantSettings);
    assert!(
        errors[0].message.contains("read:tenant_settings"),
        "{}",
        errors[0].message
    );
    let domains = snap.tenants[0].facts.custom_domains.clone().unwrap();
    assert_eq!(domains.len(), 1);
    assert!(domains[0].probe.as_ref().unwrap().chain.is_some());
    app.stop().await;
}
