//! Findings from remote facts (pure): IdP metadata drift and expiry, the tenant JWKS against
//! `/keys/signing`, and custom domain certificates.

use super::{Finding, FindingKind, FindingSeverity};
use crate::expiry::{self, Status, Thresholds, Validity};
use crate::inventory::{CertRecord, Kind, Role, Source, TenantSnapshot};
use crate::policy::Policy;
use crate::remote::{DocumentKind, IdpDocument, Published, PublishedCert};
use crate::timefmt::rfc3339;
use time::OffsetDateTime;

/// The finding severity of an expiry status: warning, or critical for critical and expired.
fn severity_of(status: Status) -> Option<FindingSeverity> {
    match status {
        Status::Expired | Status::Critical => Some(FindingSeverity::Critical),
        Status::Warning => Some(FindingSeverity::Warning),
        _ => None,
    }
}

fn window_status(
    not_after: OffsetDateTime,
    (thresholds, muted): (Thresholds, bool),
    now: OffsetDateTime,
) -> Option<Status> {
    if muted {
        return None;
    }
    let validity = Validity::Window {
        not_before: None,
        not_after,
    };
    Some(expiry::evaluate(validity, thresholds, now))
}

/// "in 5 days" / "5 days ago" / "today".
fn when(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let days = (t - now).whole_days();
    match days {
        0 if t >= now => format!("{} (today)", rfc3339(t)),
        0 => format!("{} (today, already past)", rfc3339(t)),
        d if d > 0 => format!("{} (in {d} days)", rfc3339(t)),
        d => format!("{} ({} days ago)", rfc3339(t), -d),
    }
}

struct Object<'a> {
    t: &'a TenantSnapshot,
    kind: &'static str,
    id: &'a str,
    name: &'a str,
}

impl Object<'_> {
    fn finding(
        &self,
        finding: FindingKind,
        severity: FindingSeverity,
        message: String,
        sha1: Option<String>,
        not_after: Option<OffsetDateTime>,
    ) -> Finding {
        Finding {
            tenant: self.t.name.clone(),
            finding,
            object_kind: self.kind,
            object_id: self.id.to_string(),
            object_name: self.name.to_string(),
            severity,
            message,
            sha1,
            not_after,
            owner: None,
        }
    }
}

fn cert_dates(c: &PublishedCert) -> String {
    match &c.cert {
        Some(i) => format!(
            "{} (subject {}, valid {} to {})",
            c.sha1,
            i.subject,
            rfc3339(i.not_before),
            rfc3339(i.not_after)
        ),
        None => c.sha1.clone(),
    }
}

/// IdP documents: drift between what the IdP publishes and what the connection trusts, the
/// metadata's `validUntil`, and the expiry of published certificates no record covers.
pub(super) fn idp(
    t: &TenantSnapshot,
    policy: &Policy,
    now: OffsetDateTime,
    out: &mut Vec<Finding>,
) {
    for doc in &t.facts.idp {
        idp_document(t, doc, policy, now, out);
    }
}

/// One IdP document, judged in steps: could it be read, does the connection trust what the IdP
/// publishes (pinned documents only), is the metadata still valid, and do published certificates
/// that no record covers expire soon.
fn idp_document(
    t: &TenantSnapshot,
    doc: &IdpDocument,
    policy: &Policy,
    now: OffsetDateTime,
    out: &mut Vec<Finding>,
) {
    let trusted = trusted_certificates(t, doc);
    let kind = trusted
        .first()
        .map_or(Kind::ConnectionSigningCert, |r| r.kind);
    let o = Object {
        t,
        kind: kind.as_str(),
        id: &doc.connection_id,
        name: &doc.connection_name,
    };
    let what = match doc.kind {
        DocumentKind::OidcJwks => "the upstream JWKS",
        _ => "the IdP metadata",
    };
    if let Some(e) = &doc.error {
        out.push(unavailable(&o, doc, what, e));
    }
    let Some(published) = &doc.published else {
        return;
    };
    let check = IdpCheck {
        o,
        doc,
        published,
        what,
        thresholds: policy.thresholds_for_object(
            Some(kind),
            &t.name,
            &doc.connection_id,
            &doc.connection_name,
        ),
        now,
    };
    if !check.unusable(out) && doc.kind.pinned() {
        check.drift(&trusted, out);
    }
    check.valid_until(out);
    check.unrecorded_expiry(out);
}

/// The connection's certificates that pin what its IdP may sign with (by SHA-1).
fn trusted_certificates<'t>(t: &'t TenantSnapshot, doc: &IdpDocument) -> Vec<&'t CertRecord> {
    t.records
        .iter()
        .filter(|r| {
            r.object_id == doc.connection_id
                && matches!(
                    r.kind,
                    Kind::ConnectionSigningCert | Kind::ConnectionThumbprint
                )
                && r.sha1.is_some()
        })
        .collect()
}

/// This poll's fetch of the document failed (judging goes on from the copy kept, if any).
fn unavailable(o: &Object<'_>, doc: &IdpDocument, what: &str, error: &str) -> Finding {
    let stale = if doc.published.is_some() {
        " (judging from the copy fetched earlier)"
    } else {
        ""
    };
    o.finding(
        FindingKind::MetadataUnavailable,
        FindingSeverity::Warning,
        format!("could not read {what} at {}: {error}{stale}", doc.url),
        None,
        None,
    )
}

/// What one IdP document's last good content is judged against.
struct IdpCheck<'a> {
    o: Object<'a>,
    doc: &'a IdpDocument,
    published: &'a Published,
    /// "the IdP metadata" / "the upstream JWKS", for messages.
    what: &'static str,
    thresholds: (Thresholds, bool),
    now: OffsetDateTime,
}

impl IdpCheck<'_> {
    /// A document with no signing certificate, or none that parses (the parser side says
    /// which), gives nothing to trust and no drift to judge (docs/findings.md): reported, and
    /// `true`.
    fn unusable(&self, out: &mut Vec<Finding>) -> bool {
        let Some(problem) = self.published.unusable(self.doc.kind) else {
            return false;
        };
        out.push(self.o.finding(
            FindingKind::MetadataUnavailable,
            FindingSeverity::Warning,
            format!("{} at {} {problem}", self.what, self.doc.url),
            None,
            None,
        ));
        true
    }

    /// Drift between what the IdP publishes and what the connection trusts: certificates not
    /// trusted yet, and trusted ones no longer published (critical when none is left).
    fn drift(&self, trusted: &[&CertRecord], out: &mut Vec<Finding>) {
        let (o, p) = (&self.o, self.published);
        if trusted.is_empty() {
            return;
        }
        let published = |sha1: &str| p.certs.iter().any(|c| c.sha1 == sha1);
        let trusts = |sha1: &str| trusted.iter().any(|r| r.sha1.as_deref() == Some(sha1));
        // The newest start of validity among the trusted certificates: a published one issued
        // before it is the IdP's previous certificate (left in its metadata after a rotation),
        // not one to add.
        let newest_trusted = trusted.iter().filter_map(|r| r.not_before()).max();
        // A value that does not parse is never proposed as a certificate to trust.
        for c in p
            .certs
            .iter()
            .filter(|c| c.cert.is_some() && !trusts(&c.sha1))
        {
            let older = c
                .cert
                .as_ref()
                .zip(newest_trusted)
                .is_some_and(|(i, newest)| i.not_before < newest);
            let (severity, message) = if older {
                (
                    FindingSeverity::Info,
                    format!(
                        "the IdP still publishes an older signing certificate than the one the connection trusts: {}; nothing to add — ask the IdP to remove it once it no longer signs with it",
                        cert_dates(c)
                    ),
                )
            } else {
                (
                    FindingSeverity::Warning,
                    format!(
                        "the IdP publishes a signing certificate the connection does not trust yet: {}; add it to the connection before the IdP signs with it",
                        cert_dates(c)
                    ),
                )
            };
            out.push(o.finding(
                FindingKind::IdpNewCertificate,
                severity,
                message,
                Some(c.sha1.clone()),
                c.cert.as_ref().map(|i| i.not_after),
            ));
        }
        let any_current = trusted
            .iter()
            .any(|r| r.sha1.as_deref().is_some_and(published));
        for r in trusted
            .iter()
            .filter(|r| !r.sha1.as_deref().is_some_and(published))
        {
            out.push(withdrawn(o, r, any_current));
        }
    }

    /// The metadata's `validUntil`, on the policy's horizons.
    fn valid_until(&self, out: &mut Vec<Finding>) {
        let Some(until) = self.published.valid_until else {
            return;
        };
        let Some(severity) = window_status(until, self.thresholds, self.now).and_then(severity_of)
        else {
            return;
        };
        out.push(self.o.finding(
            FindingKind::MetadataExpiring,
            severity,
            format!(
                "the IdP metadata at {} is valid until {}: ask the IdP for fresh metadata",
                self.doc.url,
                when(until, self.now)
            ),
            None,
            Some(until),
        ));
    }

    /// Published certificates no inventory record covers (a record alerts on its own) that
    /// expire within the policy's horizons. Keys Auth0 fetches itself (an upstream OIDC JWKS)
    /// are judged together: see `dynamic_severity`.
    fn unrecorded_expiry(&self, out: &mut Vec<Finding>) {
        let recorded =
            |sha1: &str| {
                self.o.t.records.iter().any(|r| {
                    r.object_id == self.doc.connection_id && r.sha1.as_deref() == Some(sha1)
                })
            };
        let last = self.last_to_expire();
        for (n, c) in self.published.certs.iter().enumerate() {
            if recorded(&c.sha1) {
                continue;
            }
            let Some(info) = &c.cert else { continue };
            let Some(severity) =
                window_status(info.not_after, self.thresholds, self.now).and_then(severity_of)
            else {
                continue;
            };
            let mut message = format!(
                "{} publishes certificate {} (subject {}) that {} {}",
                self.what,
                c.sha1,
                info.subject,
                if info.not_after <= self.now {
                    "expired"
                } else {
                    "expires"
                },
                when(info.not_after, self.now)
            );
            let severity = if self.doc.kind.pinned() {
                severity
            } else {
                self.dynamic_severity(n, severity, last, &mut message)
            };
            out.push(self.o.finding(
                FindingKind::IdpCertificateExpiring,
                severity,
                message,
                Some(c.sha1.clone()),
                Some(info.not_after),
            ));
        }
    }

    /// The position and expiry of the published certificate that stays valid longest.
    fn last_to_expire(&self) -> Option<(usize, OffsetDateTime)> {
        let mut last: Option<(usize, OffsetDateTime)> = None;
        for (n, c) in self.published.certs.iter().enumerate() {
            if let Some(i) = &c.cert
                && last.is_none_or(|(_, t)| i.not_after > t)
            {
                last = Some((n, i.not_after));
            }
        }
        last
    }

    /// Auth0 fetches an upstream OIDC JWKS itself and verifies tokens with whichever key the IdP
    /// signs with, so one key's expiry breaks nothing while another stays valid
    /// (docs/findings.md): such a certificate is `info`. Only the key that stays valid longest
    /// keeps its expiry severity — when even it is within the horizons no valid signing key will
    /// remain, and logins fail once the IdP has none left to sign with. Completes `message`.
    fn dynamic_severity(
        &self,
        n: usize,
        severity: FindingSeverity,
        last: Option<(usize, OffsetDateTime)>,
        message: &mut String,
    ) -> FindingSeverity {
        let Some((last_n, last_after)) = last else {
            return severity;
        };
        if n == last_n {
            message.push_str(&format!(
                ", and no key it publishes stays valid longer: once none is valid, tokens the IdP signs cannot be verified and logins through this connection fail; ask the IdP to publish a new key{}",
                if last_after <= self.now { " now" } else { " before then" }
            ));
            return severity;
        }
        let remains = window_status(last_after, self.thresholds, self.now)
            .is_some_and(|s| severity_of(s).is_none());
        message.push_str(&if remains {
            format!(
                "; Auth0 fetches this JWKS itself and the IdP also publishes a key valid until {}, so logins keep working",
                rfc3339(last_after)
            )
        } else {
            format!(
                "; the key it publishes that stays valid longest, {}, is reported on its own",
                self.published.certs[last_n].sha1
            )
        });
        FindingSeverity::Info
    }
}

/// The connection trusts `r`, which the IdP no longer publishes: harmless while another trusted
/// certificate is still published (`any_current`), critical otherwise.
fn withdrawn(o: &Object<'_>, r: &CertRecord, any_current: bool) -> Finding {
    let sha1 = r.sha1.clone().unwrap_or_default();
    let (severity, consequence) = if any_current {
        (
            FindingSeverity::Info,
            "another trusted certificate is still published, so logins work; remove this one when convenient",
        )
    } else {
        (
            FindingSeverity::Critical,
            "the connection trusts no certificate the IdP publishes: logins fail as soon as the IdP signs with its new certificate (or already do)",
        )
    };
    o.finding(
        FindingKind::IdpCertificateWithdrawn,
        severity,
        format!("the connection trusts certificate {sha1}, which the IdP no longer publishes; {consequence}"),
        Some(sha1),
        r.not_after(),
    )
}

/// The tenant's public JWKS against `/keys/signing`: the current and next keys must be
/// published, and nothing else but the previous key and the custom signing keys.
pub(super) fn jwks(t: &TenantSnapshot, out: &mut Vec<Finding>) {
    let Some(jwks) = &t.facts.jwks else { return };
    if t.errors.iter().any(|e| e.source == Source::SigningKeys) {
        return;
    }
    let keys: Vec<&CertRecord> = t
        .records
        .iter()
        .filter(|r| r.kind == Kind::TenantSigningKey)
        .collect();
    if keys.is_empty() {
        return;
    }
    let same = |r: &CertRecord, kid: Option<&str>, sha1: Option<&str>| {
        kid.is_some_and(|k| k == r.cert_id) || (sha1.is_some() && sha1 == r.sha1.as_deref())
    };
    for r in keys
        .iter()
        .filter(|r| matches!(r.role, Role::Current | Role::Next))
    {
        if jwks
            .iter()
            .any(|k| same(r, k.kid.as_deref(), k.sha1.as_deref()))
        {
            continue;
        }
        let (severity, message) = if r.role == Role::Current {
            (
                FindingSeverity::Critical,
                format!(
                    "the current signing key {} is not in the tenant's JWKS: relying parties cannot verify the tokens it signs",
                    r.cert_id
                ),
            )
        } else {
            (
                FindingSeverity::Warning,
                format!(
                    "the next signing key {} is not in the tenant's JWKS: relying parties will not have it cached when the key is rotated",
                    r.cert_id
                ),
            )
        };
        out.push(super::finding(
            r,
            FindingKind::JwksMismatch,
            severity,
            message,
        ));
    }
    // Custom signing keys are published beside the tenant's own (docs/inventory.md).
    let custom = t.facts.custom_signing_keys.as_deref().unwrap_or_default();
    for k in jwks {
        let known = |c: &crate::remote::TenantJwk| {
            (k.kid.is_some() && c.kid == k.kid) || (k.sha1.is_some() && c.sha1 == k.sha1)
        };
        if custom.iter().any(known) {
            continue;
        }
        let matched = keys
            .iter()
            .find(|r| same(r, k.kid.as_deref(), k.sha1.as_deref()));
        let kid = k.kid.clone().unwrap_or_else(|| "(no kid)".into());
        let message = match matched {
            Some(r) if r.role != Role::Revoked => continue,
            Some(_) => format!("the tenant's JWKS still publishes the revoked signing key {kid}"),
            None => {
                format!("the tenant's JWKS publishes key {kid}, which /keys/signing does not list")
            }
        };
        out.push(Finding {
            tenant: t.name.clone(),
            finding: FindingKind::JwksMismatch,
            object_kind: Kind::TenantSigningKey.as_str(),
            object_id: kid,
            object_name: t.domain.clone(),
            severity: FindingSeverity::Warning,
            message,
            sha1: k.sha1.clone(),
            not_after: None,
            owner: None,
        });
    }
}

/// The `kind` label of custom domain findings.
pub const CUSTOM_DOMAIN: &str = "custom_domain";

/// Custom domains: failed Auth0-managed certificates, overdue renewals and, for self-managed
/// ones, the expiry of the certificate the probe saw served.
pub(super) fn custom_domains(
    t: &TenantSnapshot,
    policy: &Policy,
    now: OffsetDateTime,
    out: &mut Vec<Finding>,
) {
    for d in t.facts.custom_domains.iter().flatten() {
        let o = Object {
            t,
            kind: CUSTOM_DOMAIN,
            id: &d.id,
            name: &d.domain,
        };
        match d.certificate_status.as_deref() {
            Some(s @ ("renewing_failed" | "provisioning_failed")) => {
                let why = d
                    .error_msg
                    .as_deref()
                    .map_or(String::new(), |e| format!(": {e}"));
                out.push(o.finding(
                    FindingKind::CustomDomainCertificateFailed,
                    FindingSeverity::Critical,
                    format!(
                        "Auth0 reports the managed certificate of {} as {s}{why}",
                        d.domain
                    ),
                    None,
                    d.renews_before,
                ));
            }
            Some("provisioned") => {
                if let Some(rb) = d.renews_before
                    && rb <= now
                {
                    out.push(o.finding(
                        FindingKind::CustomDomainCertificateExpiring,
                        FindingSeverity::Warning,
                        format!(
                            "Auth0 was to renew the certificate of {} before {}: the renewal is overdue",
                            d.domain,
                            when(rb, now)
                        ),
                        None,
                        Some(rb),
                    ));
                }
            }
            _ => {}
        }
        let Some(probe) = &d.probe else { continue };
        if let Some(e) = &probe.error {
            out.push(o.finding(
                FindingKind::CustomDomainProbeFailed,
                FindingSeverity::Warning,
                format!("could not probe {} at {}: {e}", d.domain, probe.address),
                None,
                None,
            ));
        }
        let leaf = probe.chain.as_ref().and_then(|c| c.first());
        let Some((leaf, info)) = leaf.and_then(|l| l.cert.as_ref().map(|i| (l, i))) else {
            continue;
        };
        let thresholds = policy.thresholds_for_object(None, &t.name, &d.id, &d.domain);
        if let Some(severity) = window_status(info.not_after, thresholds, now).and_then(severity_of)
        {
            out.push(o.finding(
                FindingKind::CustomDomainCertificateExpiring,
                severity,
                format!(
                    "{} serves a certificate (subject {}) that expires {}",
                    d.domain,
                    info.subject,
                    when(info.not_after, now)
                ),
                Some(leaf.sha1.clone()),
                Some(info.not_after),
            ));
        }
    }
}

#[cfg(test)]
mod tests;
