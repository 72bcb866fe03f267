//! Real IdP documents (tests/fixtures/idp, see its PROVENANCE.md) against what openssl says
//! about them (expected.json, written by regen-expected.py, never by certwatch): what the
//! parsers report, and what a daemon whose connection trusts one of the IdP's certificates is
//! told (docs/findings.md). Then the system CA store, certificate by certificate, against
//! `openssl x509` run at test time.

use crate::helpers::*;
use certwatch::findings::{Finding, FindingKind, FindingSeverity};
use certwatch::inventory::Kind;
use certwatch::remote::{DocumentKind, Published, PublishedCert, jwks, saml};
use certwatch::sim::SimConnection;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The `-nameopt` of regen-expected.py: openssl's RFC 2253 set in certificate order.
const NAMEOPT: &str = "esc_2253,esc_ctrl,utf8,dump_nostr,dump_der,sep_comma_plus_space,sname";

#[derive(Debug, Deserialize)]
struct Expected {
    documents: Vec<Doc>,
}

#[derive(Debug, Deserialize)]
struct Doc {
    file: String,
    kind: String,
    entity_id: Option<String>,
    idp_entities: Option<usize>,
    valid_until: Option<String>,
    signing: Vec<Cert>,
    encryption_only: Vec<String>,
    metadata_unavailable: bool,
}

#[derive(Debug, Deserialize)]
struct Cert {
    sha1: String,
    parsed: bool,
    not_after: Option<String>,
    subject: Option<String>,
}

impl Doc {
    fn saml(&self) -> bool {
        self.kind == "saml_metadata"
    }

    fn parsed(&self) -> impl Iterator<Item = &Cert> {
        self.signing.iter().filter(|c| c.parsed)
    }
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/idp")
}

fn expected() -> Vec<Doc> {
    let text = std::fs::read_to_string(dir().join("expected.json")).unwrap();
    serde_json::from_str::<Expected>(&text).unwrap().documents
}

fn instant(text: &str) -> OffsetDateTime {
    OffsetDateTime::parse(text, &Rfc3339).unwrap()
}

/// What certwatch publishes for a document: (signing certificates, validUntil).
fn published(doc: &Doc) -> (Vec<PublishedCert>, Option<OffsetDateTime>) {
    let bytes = std::fs::read(dir().join(&doc.file)).unwrap();
    if doc.saml() {
        let m = saml::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", doc.file));
        assert_eq!(m.entity_id, doc.entity_id, "{}", doc.file);
        assert_eq!(Some(m.idp_entities), doc.idp_entities, "{}", doc.file);
        (m.signing, m.valid_until)
    } else {
        let keys = jwks::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", doc.file));
        (jwks::signing_certs(keys), None)
    }
}

#[test]
fn the_corpus_is_large_and_varied() {
    let docs = expected();
    assert!(docs.len() >= 15, "{} documents", docs.len());
    let count = |f: &dyn Fn(&Doc) -> bool| docs.iter().filter(|d| f(d)).count();
    assert!(
        count(&|d| !d.encryption_only.is_empty()) >= 3,
        "encryption keys"
    );
    assert!(
        count(&|d| d.parsed().count() >= 2) >= 3,
        "several signing certs"
    );
    assert!(
        count(&|d| d.metadata_unavailable) >= 3,
        "unusable documents"
    );
    assert!(count(&|d| d.idp_entities > Some(1)) >= 2, "aggregates");
    assert!(count(&|d| d.valid_until.is_some()) >= 3, "validUntil");
    assert!(count(&|d| !d.saml()) >= 3, "JWKS");
    let boms = docs
        .iter()
        .filter(|d| {
            std::fs::read(dir().join(&d.file))
                .unwrap()
                .starts_with(b"\xEF\xBB\xBF")
        })
        .count();
    assert!(boms >= 2, "byte order marks");
    // Every document has its provenance.
    let provenance = std::fs::read_to_string(dir().join("PROVENANCE.md")).unwrap();
    for d in &docs {
        assert!(provenance.contains(&format!("`{}`", d.file)), "{}", d.file);
    }
}

#[test]
fn every_document_publishes_what_openssl_reads_in_it() {
    for doc in expected() {
        let (certs, valid_until) = published(&doc);
        let file = &doc.file;
        let got: Vec<&str> = certs.iter().map(|c| c.sha1.as_str()).collect();
        let want: Vec<&str> = doc.signing.iter().map(|c| c.sha1.as_str()).collect();
        assert_eq!(got, want, "{file}: signing certificates");
        for (c, e) in certs.iter().zip(&doc.signing) {
            match &c.cert {
                Some(info) => {
                    assert!(
                        e.parsed,
                        "{file}: {} parsed, openssl cannot read it",
                        e.sha1
                    );
                    assert_eq!(c.error, None, "{file}");
                    let not_after = instant(e.not_after.as_deref().unwrap());
                    assert_eq!(info.not_after, not_after, "{file}: {} not_after", e.sha1);
                    assert_eq!(Some(&info.subject), e.subject.as_ref(), "{file}: subject");
                }
                None => {
                    assert!(!e.parsed, "{file}: {} not parsed, openssl reads it", e.sha1);
                    assert!(c.error.is_some(), "{file}: an unparsed value says why");
                }
            }
        }
        for enc in &doc.encryption_only {
            assert!(
                !got.contains(&enc.as_str()),
                "{file}: encryption certificate {enc} listed as signing"
            );
        }
        assert_eq!(
            valid_until,
            doc.valid_until.as_deref().map(instant),
            "{file}: validUntil"
        );
        let kind = if doc.saml() {
            DocumentKind::SamlMetadata
        } else {
            DocumentKind::OidcJwks
        };
        let published = Published { valid_until, certs };
        let problem = published.unusable(kind);
        assert_eq!(
            problem.is_some(),
            doc.metadata_unavailable,
            "{file}: {problem:?}"
        );
    }
}

/// Serves every fixture at `/{file name}` over plain HTTP.
async fn serve_fixtures() -> std::net::SocketAddr {
    use axum::extract::Path as UrlPath;
    use axum::http::StatusCode;
    let app = axum::Router::new().route(
        "/{file}",
        axum::routing::get(|UrlPath(file): UrlPath<String>| async move {
            match std::fs::read(dir().join(file)) {
                Ok(body) => (StatusCode::OK, body),
                Err(_) => (StatusCode::NOT_FOUND, Vec::new()),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// `info 3, warning 2, critical 1 (alerts 3)`: what a run reports, for the record.
fn by_severity(findings: &[Finding]) -> String {
    let n = |s: FindingSeverity| findings.iter().filter(|f| f.severity == s).count();
    let (i, w, c) = (
        n(FindingSeverity::Info),
        n(FindingSeverity::Warning),
        n(FindingSeverity::Critical),
    );
    format!("info {i}, warning {w}, critical {c} (alerts {})", w + c)
}

fn connection_name(i: usize) -> String {
    format!("idp-{i}")
}

/// One daemon, one connection per document: SAML documents behind ADFS-style connections that
/// trust the document's first parsable signing certificate by thumbprint (or, when none
/// parses, a certificate of their own), JWKS documents behind OIDC connections.
#[tokio::test]
async fn a_connection_trusting_one_certificate_is_told_what_to_do() {
    let docs = expected();
    let server = serve_fixtures().await;
    let foreign = cert("not.published.example", 300);
    let mut tenant = base_tenant();
    let mut urls = String::new();
    for (i, doc) in docs.iter().enumerate() {
        let (id, name) = (format!("con_{i}"), connection_name(i));
        let trusted = doc.parsed().next().map_or(&foreign.sha1_hex, |c| &c.sha1);
        tenant = tenant.connection(if doc.saml() {
            SimConnection::adfs(&id, &name, &[trusted])
        } else {
            SimConnection::oidc(&id, &name)
        });
        urls.push_str(&format!("\"{name}\" = \"http://{server}/{}\"\n", doc.file));
    }
    let app = TestApp::spawn_toml(tenant, |t| {
        let t = t.replace(
            "[[tenants]]",
            "[metadata]\nenabled = true\nallow_http = true\ntimeout = \"5s\"\n[[tenants]]",
        );
        format!("{t}[tenants.metadata_urls]\n{urls}")
    })
    .await;
    app.app.poll_now().await;
    let findings = app.app.report().findings;
    eprintln!("corpus findings by severity: {}", by_severity(&findings));
    for (i, doc) in docs.iter().enumerate() {
        let id = format!("con_{i}");
        let of = |kind: FindingKind| -> Vec<&Finding> {
            findings
                .iter()
                .filter(|f| f.object_id == id && f.finding == kind)
                .collect()
        };
        let file = &doc.file;
        let unavailable = of(FindingKind::MetadataUnavailable);
        assert_eq!(
            unavailable.len(),
            usize::from(doc.metadata_unavailable),
            "{file}: {findings:#?}"
        );
        if doc.metadata_unavailable && !doc.signing.is_empty() {
            assert!(
                unavailable[0]
                    .message
                    .contains("none of which can be parsed"),
                "{file}: {}",
                unavailable[0].message
            );
        }
        // Proposed to trust: exactly the parsable signing certificates not trusted yet.
        let proposed: BTreeSet<&str> = of(FindingKind::IdpNewCertificate)
            .iter()
            .map(|f| f.sha1.as_deref().unwrap())
            .collect();
        let mut want: BTreeSet<&str> = BTreeSet::new();
        if doc.saml() {
            want = doc.parsed().skip(1).map(|c| c.sha1.as_str()).collect();
        }
        assert_eq!(proposed, want, "{file}: idp_new_certificate");
        // Nothing trusted is reported withdrawn: it is published, or the document is unusable.
        assert!(
            of(FindingKind::IdpCertificateWithdrawn).is_empty(),
            "{file}: {findings:#?}"
        );
        // Expiry is judged on parsable signing certificates only.
        let parsed: BTreeSet<&str> = doc.parsed().map(|c| c.sha1.as_str()).collect();
        for f in of(FindingKind::IdpCertificateExpiring) {
            assert!(parsed.contains(f.sha1.as_deref().unwrap()), "{file}: {f:?}");
        }
        // Auth0 fetches a JWKS itself: only its last key to expire may page anyone.
        if !doc.saml() {
            let last = doc
                .parsed()
                .filter_map(|c| c.not_after.as_deref().map(|t| (instant(t), &c.sha1)))
                .max_by_key(|(t, _)| *t)
                .map(|(_, sha1)| sha1.as_str());
            for f in of(FindingKind::IdpCertificateExpiring) {
                assert!(
                    f.severity == FindingSeverity::Info || f.sha1.as_deref() == last,
                    "{file}: {f:?}"
                );
            }
        }
        // The trusted thumbprint got the published certificate's dates.
        if let (true, Some(first)) = (doc.saml(), doc.parsed().next()) {
            let record = app
                .records()
                .into_iter()
                .find(|r| r.object_id == id && r.kind == Kind::ConnectionThumbprint)
                .unwrap();
            assert_eq!(
                record.not_after(),
                first.not_after.as_deref().map(instant),
                "{file}"
            );
            assert_eq!(record.subject.as_ref(), first.subject.as_ref(), "{file}");
        }
    }
    app.stop().await;
}

/// The certificate files of the system CA store: Debian's `ca-certificates` sources, else the
/// PEM links of `/etc/ssl/certs`.
fn ca_store() -> Vec<PathBuf> {
    fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, ext, out);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(Path::new("/usr/share/ca-certificates"), "crt", &mut files);
    if files.is_empty() {
        walk(Path::new("/etc/ssl/certs"), "pem", &mut files);
    }
    files.sort();
    files
}

/// What `openssl x509` prints for a PEM file: (sha1, not_after, subject, issuer).
fn openssl_facts(path: &Path) -> (String, OffsetDateTime, String, String) {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-enddate"])
        .args([
            "-dateopt", "iso_8601", "-subject", "-issuer", "-nameopt", NAMEOPT,
        ])
        .arg("-in")
        .arg(path)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "{}", path.display());
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| -> String {
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                k.eq_ignore_ascii_case(name).then(|| v.to_owned())
            })
            .unwrap_or_else(|| panic!("{name} in {text}"))
    };
    let sha1 = field("sha1 Fingerprint").replace(':', "").to_lowercase();
    let not_after = instant(&field("notAfter").replacen(' ', "T", 1));
    (sha1, not_after, field("subject"), field("issuer"))
}

#[test]
#[ignore = "needs openssl and ca-certificates"]
fn every_certificate_of_the_system_ca_store_decodes_as_openssl_reads_it() {
    let files = ca_store();
    assert!(files.len() >= 100, "{} CA certificates", files.len());
    let mut wrong = Vec::new();
    for path in &files {
        let pem = std::fs::read_to_string(path).unwrap();
        let info = match certwatch::x509::decode(&pem) {
            Ok(info) => info,
            Err(e) => {
                wrong.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let (sha1, not_after, subject, issuer) = openssl_facts(path);
        for (what, ours, theirs) in [
            ("sha1", info.sha1.clone(), sha1),
            (
                "not_after",
                format!("{:?}", info.not_after),
                format!("{not_after:?}"),
            ),
            ("subject", info.subject.clone(), subject),
            ("issuer", info.issuer.clone(), issuer),
        ] {
            if ours != theirs {
                wrong.push(format!(
                    "{}: {what}: certwatch {ours:?}, openssl {theirs:?}",
                    path.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
