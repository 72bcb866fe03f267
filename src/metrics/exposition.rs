//! The per-certificate families (`certwatch_certificate_*`) written straight to Prometheus text
//! from a snapshot, once per poll.
//!
//! A `prometheus::GaugeVec` keeps, per series, its own copy of the family's description (name,
//! help, label names) and of every label, and gathering copies them again into `MetricFamily`
//! messages: about 7 KB per certificate, 700 MB for 100,000 SAML connections. Here a series is
//! a row of label values borrowed from the records, sorted and written as the text encoder would
//! write it (label names in order, series sorted by label values, a repeated label set written
//! once with its last value), and only the text is kept: under 1 KB per certificate.
//! `tests.rs` checks the output byte for byte against the encoder.

use super::{FROM_POLL, bound};
use crate::inventory::Snapshot;
use crate::policy::Policy;
use prometheus::core::Desc;
use std::fmt::Write as _;
use time::OffsetDateTime;

/// The identity labels of every per-certificate series (docs/metrics.md).
pub const IDENTITY: [&str; 5] = ["tenant", "kind", "object_id", "object_name", "cert_id"];
/// The labels of `certwatch_certificate_info`: the identity, then these.
const INFO_EXTRA: [&str; 7] = [
    "role", "status", "subject", "issuer", "serial", "sha1", "owner",
];

const NOT_AFTER: &str = "certwatch_certificate_not_after_timestamp_seconds";
const NOT_BEFORE: &str = "certwatch_certificate_not_before_timestamp_seconds";
const INFO: &str = "certwatch_certificate_info";
const PARSE_ERROR: &str = "certwatch_certificate_parse_error";
const EXPIRES_IN: &str = "certwatch_certificate_expires_in_seconds";

/// The help text of each family.
fn help(name: &str) -> String {
    match name {
        NOT_AFTER => format!("Certificate expiry (notAfter), Unix seconds {FROM_POLL}."),
        NOT_BEFORE => format!(
            "Certificate start of validity (notBefore), Unix seconds, where known {FROM_POLL}."
        ),
        INFO => format!("Certificate identity, role and status; always 1 {FROM_POLL}."),
        PARSE_ERROR => format!("1 for each certificate that could not be parsed {FROM_POLL}."),
        _ => format!("Seconds until expiry, as of the last poll {FROM_POLL}."),
    }
}

/// The descriptions of the families written here (registered so that no other metric takes
/// their names).
pub fn descs() -> Vec<Desc> {
    let info: Vec<String> = IDENTITY
        .iter()
        .chain(&INFO_EXTRA)
        .map(|s| s.to_string())
        .collect();
    let identity: Vec<String> = IDENTITY.iter().map(|s| s.to_string()).collect();
    [NOT_AFTER, NOT_BEFORE, INFO, PARSE_ERROR, EXPIRES_IN]
        .into_iter()
        .map(|name| {
            let labels = if name == INFO { &info } else { &identity };
            Desc::new(name.into(), help(name), labels.clone(), Default::default())
                .expect("static metric definition")
        })
        .collect()
}

/// The text of one family: its name, then its `# HELP`, `# TYPE` and sample lines.
pub type Block = (String, String);

/// The per-certificate families of `snapshot` at `now`, in name order (absent when empty).
pub fn certificates(
    snapshot: &Snapshot,
    policy: &Policy,
    now: OffsetDateTime,
    expires_in: bool,
) -> Vec<Block> {
    let mut not_after = Vec::new();
    let mut not_before = Vec::new();
    let mut parse_error = Vec::new();
    let mut remaining = Vec::new();
    let mut info = Vec::new();
    for t in &snapshot.tenants {
        let tenant = bound(&t.name);
        for r in &t.records {
            let id = [
                tenant,
                r.kind.as_str(),
                bound(&r.object_id),
                bound(&r.object_name),
                bound(&r.cert_id),
            ];
            if let Some(at) = r.expires_at() {
                not_after.push((id, at.unix_timestamp() as f64));
                if expires_in {
                    remaining.push((id, (at - now).whole_seconds() as f64));
                }
            }
            if let Some(nb) = r.not_before() {
                not_before.push((id, nb.unix_timestamp() as f64));
            }
            if r.error.is_some() {
                parse_error.push((id, 1.0));
            }
            let [a, b, c, d, e] = id;
            let labels = [
                a,
                b,
                c,
                d,
                e,
                r.role.as_str(),
                policy.status(r, now).as_str(),
                opt(&r.subject),
                opt(&r.issuer),
                opt(&r.serial),
                opt(&r.sha1),
                opt(&r.owner),
            ];
            info.push((labels, 1.0));
        }
    }
    let info_names: [&str; 12] = std::array::from_fn(|i| {
        IDENTITY
            .get(i)
            .copied()
            .unwrap_or_else(|| INFO_EXTRA[i - IDENTITY.len()])
    });
    let mut blocks: Vec<Block> = [
        family(INFO, info_names, info),
        family(EXPIRES_IN, IDENTITY, remaining),
        family(NOT_AFTER, IDENTITY, not_after),
        family(NOT_BEFORE, IDENTITY, not_before),
        family(PARSE_ERROR, IDENTITY, parse_error),
    ]
    .into_iter()
    .flatten()
    .collect();
    // In name order, as the registry gathers families.
    blocks.sort_by(|a, b| a.0.cmp(&b.0));
    blocks
}

/// An optional label value, bounded; empty when absent.
fn opt(v: &Option<String>) -> &str {
    v.as_deref().map_or("", bound)
}

/// One gauge family as text: label names sorted, series sorted by their label values, a label
/// set that occurs twice written once with its last value; `None` without series.
fn family<const N: usize>(
    name: &'static str,
    names: [&str; N],
    mut rows: Vec<([&str; N], f64)>,
) -> Option<Block> {
    if rows.is_empty() {
        return None;
    }
    let mut order: [usize; N] = std::array::from_fn(|i| i);
    order.sort_by_key(|&i| names[i]);
    for (labels, _) in &mut rows {
        *labels = order.map(|i| labels[i]);
    }
    // Stable: among equal label sets the last written stays last, and is the one kept.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = String::new();
    let _ = writeln!(text, "# HELP {name} {}", escape(&help(name), false));
    let _ = writeln!(text, "# TYPE {name} gauge");
    for (i, (labels, value)) in rows.iter().enumerate() {
        if rows.get(i + 1).is_some_and(|next| next.0 == *labels) {
            continue;
        }
        text.push_str(name);
        for (j, (label, value)) in order.iter().map(|&k| names[k]).zip(labels).enumerate() {
            text.push(if j == 0 { '{' } else { ',' });
            let _ = write!(text, "{label}=\"{}\"", escape(value, true));
        }
        if N > 0 {
            text.push('}');
        }
        let _ = writeln!(text, " {value}");
    }
    Some((name.to_string(), text))
}

/// The text format's escapes: `\` and a line feed always, `"` inside label values.
fn escape(v: &str, quote: bool) -> std::borrow::Cow<'_, str> {
    let special = v.contains(['\\', '\n']) || (quote && v.contains('"'));
    if !special {
        return v.into();
    }
    let mut out = String::with_capacity(v.len() + 8);
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.into()
}

#[cfg(test)]
mod tests;
