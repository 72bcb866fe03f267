//! Every PromQL expression of the shipped Grafana dashboard (panel targets, template variable
//! queries, annotations) run against Prometheus scraping the demo, with the dashboard variables
//! replaced the way Grafana would: each must parse and return data. Only expressions on metrics
//! the demo never produces may return nothing, and only while those metrics are absent.

use super::Checks;
use super::server::Prometheus;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Values of the dashboard variables: every tenant and kind ("All" = `.*`), and Grafana's
/// built-in interval variables at a typical zoom.
const VARIABLES: &[(&str, &str)] = &[
    ("tenant", ".*"),
    ("kind", ".*"),
    ("__rate_interval", "1m"),
    ("__interval", "15s"),
    ("__range", "5m"),
    ("__range_s", "300"),
    ("__interval_ms", "15000"),
    ("datasource", "prometheus"),
];

/// Metrics the demo does not produce: counters exist only once incremented (docs/metrics.md),
/// and the demo never increments these.
const OPTIONAL_METRICS: &[(&str, &str)] = &[
    (
        "certwatch_poll_errors_total",
        "the demo tenant answers every call, so no poll error is counted",
    ),
    (
        "certwatch_alerts_sent_total",
        "the demo configures no alert channel",
    ),
    (
        "certwatch_rotations_total",
        "the demo configures no rotation",
    ),
];

/// One expression: where it is in the dashboard, its text, and whether Grafana runs it as an
/// instant query (else as a range query).
#[derive(Debug, Clone)]
pub struct Expr {
    pub place: String,
    pub expr: String,
    pub instant: bool,
}

fn panels(items: &[Value]) -> Vec<&Value> {
    items
        .iter()
        .flat_map(|p| {
            let nested = p["panels"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            std::iter::once(p).chain(panels(nested))
        })
        .collect()
}

/// A `label_values(metric, label)` variable query as the PromQL Grafana runs for it.
fn variable_query(q: &str) -> String {
    let q = q.trim();
    if let Some(inner) = q
        .strip_prefix("label_values(")
        .and_then(|r| r.strip_suffix(')'))
        && let Some((metric, label)) = inner.rsplit_once(',')
    {
        return format!("count by ({}) ({})", label.trim(), metric.trim());
    }
    q.strip_prefix("query_result(")
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(q)
        .to_string()
}

/// Every expression of the dashboard.
pub fn expressions(dash: &Value) -> Vec<Expr> {
    let mut out = Vec::new();
    let empty = Vec::new();
    for p in panels(dash["panels"].as_array().unwrap_or(&empty)) {
        for t in p["targets"].as_array().unwrap_or(&empty) {
            let Some(expr) = t["expr"].as_str().filter(|e| !e.is_empty()) else {
                continue;
            };
            out.push(Expr {
                place: format!(
                    "panel {} {:?} target {}",
                    p["id"],
                    p["title"].as_str().unwrap_or_default(),
                    t["refId"].as_str().unwrap_or_default()
                ),
                expr: expr.to_string(),
                instant: t["instant"] == true && t["range"] != true,
            });
        }
    }
    for v in dash["templating"]["list"].as_array().unwrap_or(&empty) {
        let q = v["query"]["query"].as_str().or(v["query"].as_str());
        if let Some(q) = q.filter(|q| v["type"] == "query" && !q.is_empty()) {
            out.push(Expr {
                place: format!("variable {} ({q})", v["name"].as_str().unwrap_or_default()),
                expr: variable_query(q),
                instant: true,
            });
        }
    }
    for a in dash["annotations"]["list"].as_array().unwrap_or(&empty) {
        if let Some(expr) = a["expr"].as_str().or(a["target"]["expr"].as_str()) {
            out.push(Expr {
                place: format!("annotation {:?}", a["name"].as_str().unwrap_or_default()),
                expr: expr.to_string(),
                instant: false,
            });
        }
    }
    out
}

/// Replace `$name`, `${name}`, `${name:format}` and `[[name]]`; `Err` names an unknown variable.
pub fn substitute(expr: &str) -> Result<String, String> {
    let value = |name: &str| {
        VARIABLES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| name.to_string())
    };
    let word = |s: &str| {
        s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let mut out = String::new();
    let mut rest = expr;
    while let Some(at) = rest.find(['$', '[']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let (name, used) = if let Some(braced) = tail.strip_prefix("${") {
            let end = braced.find('}').ok_or_else(|| tail.to_string())?;
            let name = braced[..end].split(':').next().unwrap_or_default();
            (name, end + 3)
        } else if let Some(bracketed) = tail.strip_prefix("[[") {
            let end = bracketed.find("]]").ok_or_else(|| tail.to_string())?;
            (&bracketed[..end], end + 4)
        } else if let Some(plain) = tail.strip_prefix('$') {
            (&plain[..word(plain)], word(plain) + 1)
        } else {
            out.push('[');
            rest = &tail[1..];
            continue;
        };
        out.push_str(value(name)?);
        rest = &tail[used..];
    }
    out.push_str(rest);
    Ok(out)
}

async fn run(prom: &Prometheus, e: &Expr, expr: &str) -> Result<usize, String> {
    let result = if e.instant {
        prom.query(expr).await
    } else {
        prom.query_range(expr).await
    };
    result.map(|s| s.len())
}

/// Check every expression; empty results are retried for up to 30 s (`rate()` needs two samples).
pub async fn check(prom: &Prometheus, dash: &Value, checks: &mut Checks) {
    let all = expressions(dash);
    checks.check(
        !all.is_empty(),
        format!("the dashboard has {} PromQL expressions", all.len()),
    );
    let mut pending = Vec::new();
    for e in all {
        match substitute(&e.expr) {
            Ok(expr) => match run(prom, &e, &expr).await {
                Ok(_) => pending.push((e, expr)),
                Err(err) => {
                    checks.fail(format!("{}: does not evaluate: {err}\n    {expr}", e.place))
                }
            },
            Err(name) => checks.fail(format!(
                "{}: unknown dashboard variable ${name} in {}",
                e.place, e.expr
            )),
        }
    }
    let optional = |expr: &str| -> Vec<(&str, &str)> {
        OPTIONAL_METRICS
            .iter()
            .copied()
            .filter(|(m, _)| expr.contains(m))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut still = Vec::new();
        for (e, expr) in pending {
            match run(prom, &e, &expr).await {
                Ok(n) if n > 0 => {
                    checks.pass(format!("{}: parses and returns {n} series", e.place))
                }
                _ => still.push((e, expr)),
            }
        }
        pending = still;
        let names = prom.metric_names().await.unwrap_or_default();
        let excused = |expr: &str| {
            let used = optional(expr);
            !used.is_empty() && used.iter().all(|(m, _)| !names.contains(*m))
        };
        if pending.iter().all(|(_, expr)| excused(expr)) || Instant::now() > deadline {
            for (e, expr) in &pending {
                if excused(expr) {
                    let why: Vec<String> = optional(expr)
                        .iter()
                        .map(|(m, why)| format!("{m} does not exist ({why})"))
                        .collect();
                    checks.pass(format!(
                        "{}: parses; no data because {}",
                        e.place,
                        why.join(", ")
                    ));
                } else {
                    checks.fail(format!("{}: returns no data\n    {expr}", e.place));
                }
            }
            return;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[test]
fn variables_are_replaced_like_grafana_does() {
    assert_eq!(
        substitute(r#"x{tenant=~"$tenant"}[$__rate_interval] ${kind:regex} [[tenant]] [5m]"#),
        Ok(r#"x{tenant=~".*"}[1m] .* .* [5m]"#.to_string())
    );
    assert_eq!(substitute("rate(x[$nope])"), Err("nope".to_string()));
    assert_eq!(
        variable_query("label_values(certwatch_certificate_info{tenant=~\"$tenant\"}, kind)"),
        "count by (kind) (certwatch_certificate_info{tenant=~\"$tenant\"})"
    );
}
