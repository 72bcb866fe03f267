//! The series Prometheus holds after scraping the demo against the report the daemon computes:
//! every metric family the rules read (certificate identity, role, status and dates, parse
//! errors, findings, IdP-published certificates and metadata, custom domains, tenant health),
//! series by series and value by value. With this, predicting the alerts from the report (as
//! `expect` does) is the same as predicting them from the metrics the rules see.

use super::Checks;
use super::server::Prometheus;
use certwatch::report::Report;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Series (label values in the order of the names asked for) → value.
type Series = BTreeMap<Vec<String>, i64>;

const CERT_ID: [&str; 5] = ["tenant", "kind", "object_id", "object_name", "cert_id"];

fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn strings<const N: usize>(v: [&str; N]) -> Vec<String> {
    v.map(str::to_string).to_vec()
}

/// What the report says each family must hold.
fn families(r: &Report) -> Vec<(&'static str, Vec<&'static str>, Series)> {
    let certs = &r.certificates;
    let cert_id = |c: &certwatch::report::CertificateReport| {
        strings([&c.tenant, &c.kind, &c.object_id, &c.object_name, &c.cert_id])
    };
    let mut info_labels = CERT_ID.to_vec();
    info_labels.extend(["role", "status"]);
    let info = certs.iter().map(|c| {
        let mut k = cert_id(c);
        k.extend(strings([&c.role, c.status.as_str()]));
        (k, 1)
    });
    let not_after = certs
        .iter()
        .filter_map(|c| Some((cert_id(c), unix(c.not_after?))));
    let parse_error = certs
        .iter()
        .filter(|c| c.error.is_some())
        .map(|c| (cert_id(c), 1));
    let findings = r.findings.iter().map(|f| {
        let k = [
            &f.tenant,
            f.object_kind,
            &f.object_id,
            &f.object_name,
            f.finding.as_str(),
        ];
        (strings(k), 1)
    });
    let idp_certs = r.idp_documents.iter().flat_map(|d| {
        d.certificates.iter().filter_map(move |c| {
            let trusted = match c.trusted {
                None => "dynamic",
                Some(true) => "true",
                Some(false) => "false",
            };
            let k = [
                &d.tenant,
                &d.object_id,
                &d.object_name,
                &c.cert.sha1,
                d.source,
                trusted,
            ];
            Some((strings(k), unix(c.cert.not_after?)))
        })
    });
    let valid_until = r.idp_documents.iter().filter_map(|d| {
        Some((
            strings([&d.tenant, &d.object_id, &d.object_name]),
            unix(d.valid_until?),
        ))
    });
    let domain = |d: &certwatch::report::remote::CustomDomainReport| {
        strings([&d.tenant, &d.custom_domain_id, &d.domain])
    };
    let domain_info = r.custom_domains.iter().map(|d| {
        let mut k = domain(d);
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        k.extend([
            d.domain_type.clone(),
            opt(&d.status),
            opt(&d.certificate_status),
        ]);
        (k, 1)
    });
    let renews = r
        .custom_domains
        .iter()
        .filter_map(|d| Some((domain(d), unix(d.renews_before?))));
    let served = r.custom_domains.iter().filter_map(|d| {
        let leaf = d.probe.as_ref()?.chain.first()?;
        Some((domain(d), unix(leaf.not_after?)))
    });
    let up = r
        .tenants
        .iter()
        .map(|t| (vec![t.name.clone()], i64::from(t.up)));
    let domain_labels = vec!["tenant", "object_id", "domain"];
    let mut domain_info_labels = domain_labels.clone();
    domain_info_labels.extend(["type", "status", "certificate_status"]);
    vec![
        ("certwatch_certificate_info", info_labels, info.collect()),
        (
            "certwatch_certificate_not_after_timestamp_seconds",
            CERT_ID.to_vec(),
            not_after.collect(),
        ),
        (
            "certwatch_certificate_parse_error",
            CERT_ID.to_vec(),
            parse_error.collect(),
        ),
        (
            "certwatch_finding",
            vec!["tenant", "kind", "object_id", "object_name", "finding"],
            findings.collect(),
        ),
        (
            "certwatch_idp_certificate_not_after_timestamp_seconds",
            vec![
                "tenant",
                "object_id",
                "object_name",
                "cert_id",
                "source",
                "trusted",
            ],
            idp_certs.collect(),
        ),
        (
            "certwatch_idp_metadata_valid_until_timestamp_seconds",
            vec!["tenant", "object_id", "object_name"],
            valid_until.collect(),
        ),
        (
            "certwatch_custom_domain_info",
            domain_info_labels,
            domain_info.collect(),
        ),
        (
            "certwatch_custom_domain_renews_before_timestamp_seconds",
            domain_labels.clone(),
            renews.collect(),
        ),
        (
            "certwatch_custom_domain_certificate_not_after_timestamp_seconds",
            domain_labels,
            served.collect(),
        ),
        ("certwatch_tenant_up", vec!["tenant"], up.collect()),
    ]
}

/// Compare every family Prometheus holds with the report.
pub async fn check(prom: &Prometheus, report: &Report, checks: &mut Checks) {
    for (family, labels, want) in families(report) {
        let got: Series = match prom.query(family).await {
            Ok(samples) => samples
                .iter()
                .map(|s| {
                    let k = labels
                        .iter()
                        .map(|l| s.labels.get(*l).cloned().unwrap_or_default())
                        .collect();
                    (k, s.value.round() as i64)
                })
                .collect(),
            Err(e) => {
                checks.fail(format!("{family}: {e}"));
                continue;
            }
        };
        if got == want {
            checks.pass(format!(
                "{family}: Prometheus holds exactly the {} series of the report",
                want.len()
            ));
            continue;
        }
        let only = |a: &Series, b: &Series| -> Vec<String> {
            a.iter()
                .filter(|(k, v)| b.get(*k) != Some(*v))
                .map(|(k, v)| format!("{}={v}", k.join("/")))
                .collect()
        };
        checks.fail(format!(
            "{family} ({}): the report has {:?}, Prometheus {:?}",
            labels.join(", "),
            only(&want, &got),
            only(&got, &want)
        ));
    }
}
