//! The HTTP surface (docs/http.md): `/metrics`, `/healthz`, `/readyz`, `/api/v1/certificates`,
//! `/api/v1/findings` and the `/` status page. `router(state)` is a plain function so tests can
//! drive it without a socket; `serve` runs it on a socket within the connection limits of
//! `conns`.
//! Nothing here calls Auth0: every response is rendered from the latest snapshot.

use crate::clock::Clock;
use crate::config::HttpAuth;
use crate::expiry::Status;
use crate::inventory::Snapshot;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::report::Report;
use crate::timefmt::rfc3339;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub mod conns;
pub mod serve;
pub use conns::Limits;
pub use serve::{Endpoint, serve};

/// What the handlers read.
#[derive(Clone)]
pub struct AppState {
    /// The latest snapshot.
    pub snapshot: watch::Receiver<Arc<Snapshot>>,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Status policy.
    pub policy: Arc<Policy>,
    /// Clock for "now".
    pub clock: Arc<dyn Clock>,
    /// Nominal poll interval (readiness staleness = 2 ×).
    pub interval: Duration,
    /// Access control for everything but the probes.
    pub auth: Arc<HttpAuth>,
}

/// The router.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/certificates", get(certificates))
        .route("/api/v1/findings", get(findings))
        .route("/", get(status_page))
        .route_layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            require_auth,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .merge(protected)
        .with_state(state)
}

/// Constant-time equality of two byte strings (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether an `Authorization` header value satisfies `auth`.
pub fn authorized(auth: &HttpAuth, header: Option<&str>) -> bool {
    use base64::Engine as _;
    match auth {
        HttpAuth::None => true,
        HttpAuth::Bearer(token) => header
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| constant_time_eq(t.trim().as_bytes(), token.expose().as_bytes())),
        HttpAuth::Basic { username, password } => {
            let expected = base64::engine::general_purpose::STANDARD
                .encode(format!("{username}:{}", password.expose()));
            header
                .and_then(|h| h.strip_prefix("Basic "))
                .is_some_and(|v| constant_time_eq(v.trim().as_bytes(), expected.as_bytes()))
        }
    }
}

async fn require_auth(
    State(auth): State<Arc<HttpAuth>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if authorized(&auth, header) {
        return next.run(req).await;
    }
    let challenge = match auth.as_ref() {
        HttpAuth::Basic { .. } => "Basic realm=\"certwatch\"",
        _ => "Bearer",
    };
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, challenge)],
        "unauthorized\n",
    )
        .into_response()
}

async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

/// Ready when every tenant has a successful poll no older than two intervals.
pub fn readiness(
    snapshot: &Snapshot,
    interval: Duration,
    now: time::OffsetDateTime,
) -> Result<(), Vec<String>> {
    let max_age = interval * 2;
    let problems: Vec<String> = snapshot
        .tenants
        .iter()
        .filter_map(|t| {
            let problem = match t.last_success {
                None if t.last_poll.is_none() => {
                    return Some(format!("tenant {}: not polled yet", t.name));
                }
                None => format!("tenant {}: no successful poll yet", t.name),
                Some(at) if now - at > max_age => format!(
                    "tenant {}: last successful poll at {} is older than {}",
                    t.name,
                    rfc3339(at),
                    humantime::format_duration(max_age)
                ),
                Some(_) => return None,
            };
            // Name the cause: the last poll's first error (the rest are in the JSON).
            Some(match t.errors.first() {
                Some(e) => format!(
                    "{problem}; the last poll failed: {} {}: {}{}",
                    e.source,
                    e.reason.as_str(),
                    e.message,
                    match t.errors.len() {
                        1 => String::new(),
                        n => format!(" (and {} more, see /api/v1/certificates)", n - 1),
                    }
                ),
                None => problem,
            })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

async fn readyz(State(s): State<AppState>) -> Response {
    let snapshot = s.snapshot.borrow().clone();
    match readiness(&snapshot, s.interval, s.clock.now()) {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(problems) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready\n{}\n", problems.join("\n")),
        )
            .into_response(),
    }
}

async fn findings(State(s): State<AppState>) -> Response {
    let snapshot = s.snapshot.borrow().clone();
    let report = Report::new(&snapshot, &s.policy, s.clock.now());
    (
        [(header::CONTENT_TYPE, "application/json")],
        report.findings_json(),
    )
        .into_response()
}

async fn certificates(State(s): State<AppState>) -> Response {
    let snapshot = s.snapshot.borrow().clone();
    let report = Report::new(&snapshot, &s.policy, s.clock.now());
    (
        [(header::CONTENT_TYPE, "application/json")],
        report.to_json(),
    )
        .into_response()
}

pub use crate::escape::html as escape_html;

fn status_colour(s: Status) -> &'static str {
    match s {
        Status::Ok => "#2e7d32",
        Status::Warning => "#ef6c00",
        Status::Critical => "#c62828",
        Status::Expired => "#6a1b1b",
        Status::NotYetValid => "#6a1b9a",
        Status::NeverExpires => "#00838f",
        Status::Unknown => "#616161",
    }
}

/// Render the status page (pure; used by the handler and tests).
pub fn render_status_page(report: &Report) -> String {
    let mut h = String::with_capacity(16 * 1024);
    h.push_str(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>certwatch</title><style>",
        "body{font:14px system-ui,sans-serif;margin:2em;color:#222}",
        "table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}",
        ".s{color:#fff;border-radius:3px;padding:1px 6px;font-weight:600}.muted{color:#888}.err{color:#c62828}",
        "tr.muted .s{background:#bdbdbd!important}",
        "td.name{max-width:28em;overflow-wrap:anywhere}",
        "</style></head><body><h1>certwatch</h1>"
    ));
    h.push_str(&format!(
        "<p>Generated {} &middot; <a href=\"/metrics\">/metrics</a> &middot; <a href=\"/api/v1/certificates\">/api/v1/certificates</a></p>",
        escape_html(&rfc3339(report.generated_at))
    ));
    h.push_str("<h2>Tenants</h2><table><tr><th>Tenant</th><th>Domain</th><th>Up</th><th>Last success</th><th>Errors</th></tr>");
    for t in &report.tenants {
        let errors: Vec<String> = t
            .errors
            .iter()
            .map(|e| {
                format!(
                    "{} {}: {}",
                    escape_html(&e.source),
                    escape_html(&e.reason),
                    escape_html(&e.message)
                )
            })
            .collect();
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"err\">{}</td></tr>",
            escape_html(&t.name),
            escape_html(&t.domain),
            if t.up {
                "yes"
            } else {
                "<b class=\"err\">no</b>"
            },
            t.last_success
                .map(|t| escape_html(&rfc3339(t)))
                .unwrap_or_else(|| "never".into()),
            errors.join("<br>")
        ));
    }
    h.push_str("</table><h2>Certificates</h2><p>");
    for (status, n) in report.counts() {
        if n > 0 {
            h.push_str(&format!(
                "<span class=\"s\" style=\"background:{}\">{} {}</span> ",
                status_colour(status),
                n,
                status.as_str()
            ));
        }
    }
    h.push_str("</p><table><tr><th>Status</th><th>Days left</th><th>Not after</th><th>Tenant</th><th>Kind</th><th>Object</th><th>Role</th><th>Subject</th><th>SHA-1</th></tr>");
    for c in &report.certificates {
        let class = if c.alerting { "" } else { " class=\"muted\"" };
        h.push_str(&format!(
            "<tr{class}><td><span class=\"s\" style=\"background:{}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"name\">{}</td><td>{}</td><td class=\"name\">{}</td><td><code>{}</code></td></tr>",
            status_colour(c.status),
            c.status.as_str(),
            c.days_left().map(|d| d.to_string()).unwrap_or_else(|| "&ndash;".into()),
            c.not_after.map(|t| escape_html(&rfc3339(t))).unwrap_or_else(|| "&ndash;".into()),
            escape_html(&c.tenant),
            escape_html(&c.kind),
            escape_html(&c.object_name),
            escape_html(&c.role),
            c.error
                .as_ref()
                .map(|e| format!("<span class=\"err\">{}</span>", escape_html(e)))
                .unwrap_or_else(|| escape_html(c.subject.as_deref().unwrap_or(""))),
            escape_html(c.sha1.as_deref().unwrap_or("")),
        ));
    }
    h.push_str("</table>");
    findings_section(report, &mut h);
    remote_sections(report, &mut h);
    h.push_str("</body></html>\n");
    h
}

/// The findings, warning and critical first; `info` ones folded in a `<details>`.
fn findings_section(report: &Report, h: &mut String) {
    use crate::findings::FindingSeverity;
    if report.findings.is_empty() {
        return;
    }
    let mut sorted: Vec<&crate::findings::Finding> = report.findings.iter().collect();
    sorted.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let (alerting, info): (Vec<_>, Vec<_>) = sorted
        .into_iter()
        .partition(|f| f.severity != FindingSeverity::Info);
    let head = "<table><tr><th>Severity</th><th>Finding</th><th>Tenant</th><th>Object</th><th>Message</th></tr>";
    let rows = |h: &mut String, list: &[&crate::findings::Finding]| {
        for f in list {
            h.push_str(&format!(
                "<tr{}><td>{}</td><td>{}</td><td>{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td></tr>",
                if f.severity == FindingSeverity::Info { " class=\"muted\"" } else { "" },
                match f.severity {
                    FindingSeverity::Critical => "<b class=\"err\">critical</b>",
                    FindingSeverity::Warning => "<b class=\"err\">warning</b>",
                    FindingSeverity::Info => "info",
                },
                f.finding.as_str(),
                escape_html(&f.tenant),
                escape_html(&f.object_name),
                escape_html(&f.message),
            ));
        }
    };
    h.push_str("<h2>Findings</h2>");
    if !alerting.is_empty() {
        h.push_str(head);
        rows(h, &alerting);
        h.push_str("</table>");
    }
    if !info.is_empty() {
        h.push_str(&format!(
            "<details class=\"muted\"><summary>{} info finding(s): nothing breaks</summary>{head}",
            info.len()
        ));
        rows(h, &info);
        h.push_str("</table></details>");
    }
}

/// The IdP documents and custom domains behind the findings (docs/findings.md).
fn remote_sections(report: &Report, h: &mut String) {
    let date = |t: Option<time::OffsetDateTime>| t.map(rfc3339).unwrap_or_else(|| "—".into());
    let opt = |v: &Option<String>| escape_html(v.as_deref().unwrap_or("—"));
    if !report.idp_documents.is_empty() {
        h.push_str("<h2>IdP documents</h2><table><tr><th>Tenant</th><th>Connection</th><th>Source</th><th>URL</th><th>Valid until</th><th>Certificates (trusted?, expiry)</th><th>Last fetch</th></tr>");
        for d in &report.idp_documents {
            let certs: Vec<String> = d
                .certificates
                .iter()
                .map(|c| {
                    let trust = match c.trusted {
                        Some(true) => "trusted",
                        Some(false) => "<b class=\"err\">not trusted</b>",
                        None => "fetched by Auth0",
                    };
                    format!(
                        "{} ({trust}, {})",
                        escape_html(&c.cert.sha1),
                        date(c.cert.not_after)
                    )
                })
                .collect();
            h.push_str(&format!(
                "<tr><td>{}</td><td class=\"name\">{}</td><td>{}</td><td class=\"name\">{}</td><td>{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td></tr>",
                escape_html(&d.tenant),
                escape_html(&d.object_name),
                d.source,
                escape_html(&d.url),
                date(d.valid_until),
                certs.join("<br>"),
                match &d.error {
                    Some(e) => format!("<b class=\"err\">failed</b>: {}", escape_html(e)),
                    None => "ok".into(),
                },
            ));
        }
        h.push_str("</table>");
    }
    if !report.custom_domains.is_empty() {
        h.push_str("<h2>Custom domains</h2><table><tr><th>Tenant</th><th>Domain</th><th>Type</th><th>Status</th><th>Certificate</th><th>Renews before</th><th>Served certificate expires</th></tr>");
        for d in &report.custom_domains {
            let served = match &d.probe {
                None => "—".to_string(),
                Some(p) => {
                    let leaf = date(p.chain.first().and_then(|c| c.not_after));
                    match &p.error {
                        Some(e) => format!(
                            "{leaf} <b class=\"err\">probe failed</b>: {}",
                            escape_html(e)
                        ),
                        None => leaf,
                    }
                }
            };
            let cert = match (&d.certificate_status, &d.error_msg) {
                (Some(s), Some(e)) if s.ends_with("_failed") => format!(
                    "<b class=\"err\">{}</b>: {}",
                    escape_html(s),
                    escape_html(e)
                ),
                (s, _) => opt(s),
            };
            h.push_str(&format!(
                "<tr><td>{}</td><td class=\"name\">{}</td><td>{}</td><td>{}</td><td class=\"name\">{cert}</td><td>{}</td><td class=\"name\">{served}</td></tr>",
                escape_html(&d.tenant),
                escape_html(&d.domain),
                escape_html(&d.domain_type),
                opt(&d.status),
                date(d.renews_before),
            ));
        }
        h.push_str("</table>");
    }
}

async fn status_page(State(s): State<AppState>) -> Html<String> {
    let snapshot = s.snapshot.borrow().clone();
    Html(render_status_page(&Report::new(
        &snapshot,
        &s.policy,
        s.clock.now(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn auth_decisions() {
        assert!(authorized(&HttpAuth::None, None));
        let bearer = HttpAuth::Bearer(Secret::new("abc"));
        assert!(authorized(&bearer, Some("Bearer abc")));
        assert!(!authorized(&bearer, Some("Bearer abd")));
        assert!(!authorized(&bearer, Some("Bearer ab")));
        assert!(!authorized(&bearer, Some("abc")));
        assert!(!authorized(&bearer, None));
        let basic = HttpAuth::Basic {
            username: "u".into(),
            password: Secret::new("p"),
        };
        assert!(authorized(&basic, Some("Basic dTpw")));
        assert!(!authorized(&basic, Some("Basic dTpx")));
        assert!(!authorized(&basic, Some("Bearer dTpw")));
    }

    #[test]
    fn status_page_puts_alerting_rows_first_and_folds_info() {
        use crate::expiry::Validity;
        use crate::inventory::{CertRecord, Kind, Role, Snapshot, Source, TenantSnapshot};
        let now = time::macros::datetime!(2026-11-23 0:00 UTC);
        let rec = |kind, role, id: &str, validity| CertRecord {
            tenant: "prod".into(),
            kind,
            role,
            object_id: id.into(),
            object_name: id.into(),
            cert_id: id.into(),
            subject: None,
            issuer: None,
            serial: None,
            sha1: None,
            sha256: None,
            validity,
            error: None,
            source: Source::SigningKeys,
            owner: None,
            key_use: None,
        };
        let mut t = TenantSnapshot::pending("prod", "acme.auth0.com");
        t.records = vec![
            rec(Kind::ClientCredential, Role::InUse, "app", Validity::Never),
            rec(
                Kind::TenantSigningKey,
                Role::Current,
                "kid-1",
                Validity::Window {
                    not_before: None,
                    not_after: now + time::Duration::days(400),
                },
            ),
            rec(
                Kind::TenantSigningKey,
                Role::Previous,
                "kid-0",
                Validity::Window {
                    not_before: None,
                    not_after: now - time::Duration::days(4),
                },
            ),
        ];
        let page = render_status_page(&Report::new(
            &Snapshot { tenants: vec![t] },
            &crate::policy::Policy::default(),
            now,
        ));
        let warning = page.find("no_next_signing_key").unwrap();
        let details = page
            .find("<details class=\"muted\"><summary>1 info finding(s)")
            .unwrap();
        let info = page.find("credential_without_expiry").unwrap();
        assert!(warning < details && details < info, "{page}");
        assert!(
            page.contains("<tr class=\"muted\"><td><span class=\"s\" style=\"background:#6a1b1b\">expired</span>"),
            "the expired previous key is dimmed: {page}"
        );
        assert!(page.contains("tr.muted .s{background:#bdbdbd!important}"));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape_html("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"a", b""));
    }
}
