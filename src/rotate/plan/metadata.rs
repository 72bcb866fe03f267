//! The decision for a `source = "metadata"` target (docs/rotation.md): compare what a SAML
//! connection trusts with what its IdP publishes (the IdP document the last poll fetched) and
//! choose what it should trust instead. Pure.
//!
//! Due when the IdP publishes a signing certificate the connection does not trust, no longer
//! publishes one it trusts, or the trusted one expires within `rotate_before`. The replacement is
//! the published certificate that is valid now with the latest `not_after` (ties: SHA-1); when
//! that one is already trusted there is nothing to change (not due, or blocked when the trusted
//! one is running out).

use super::decide::Cx;
use super::{Blocker, Current, Decision};
use crate::inventory::CertRecord;
use crate::remote::{IdpDocument, PublishedCert};
use crate::timefmt::rfc3339;
use crate::x509::CertInfo;
use time::OffsetDateTime;

/// One certificate as the dry run shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertView {
    /// Lowercase hex SHA-1 (Auth0's thumbprint).
    pub sha1: String,
    /// Subject, where known.
    pub subject: Option<String>,
    /// Start of validity, where known.
    pub not_before: Option<OffsetDateTime>,
    /// End of validity, where known.
    pub not_after: Option<OffsetDateTime>,
}

impl CertView {
    fn of_record(r: &CertRecord) -> Option<Self> {
        Some(Self {
            sha1: r.sha1.clone()?,
            subject: r.subject.clone(),
            not_before: r.not_before(),
            not_after: r.not_after(),
        })
    }

    fn of_published(c: &PublishedCert, info: &CertInfo) -> Self {
        Self {
            sha1: c.sha1.clone(),
            subject: Some(info.subject.clone()),
            not_before: Some(info.not_before),
            not_after: Some(info.not_after),
        }
    }

    /// `sha1 (subject, valid from … to …)`.
    pub fn line(&self) -> String {
        let date = |t: Option<OffsetDateTime>| t.map_or_else(|| "?".into(), rfc3339);
        format!(
            "{} ({}valid {} to {})",
            self.sha1,
            self.subject
                .as_deref()
                .map(|s| format!("{s}, "))
                .unwrap_or_default(),
            date(self.not_before),
            date(self.not_after)
        )
    }
}

/// What a rotation from metadata changes in trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustChange {
    /// Where the IdP publishes (no query string or user info).
    pub url: String,
    /// Why the step is due.
    pub reasons: Vec<String>,
    /// What the connection trusts today.
    pub trusted: Vec<CertView>,
    /// What the IdP publishes (certificates that parse).
    pub published: Vec<CertView>,
    /// What the connection will trust afterwards.
    pub after: CertView,
    /// DER of `after` (a public certificate), for `signingCert`.
    pub der: Vec<u8>,
}

impl TrustChange {
    /// Whether `sha1` is one of the certificates the IdP publishes.
    pub fn publishes(&self, sha1: &str) -> bool {
        self.published.iter().any(|c| c.sha1 == sha1)
    }
}

impl Cx<'_> {
    /// The decision for a connection whose replacement is what its IdP publishes.
    pub(super) fn metadata(
        &self,
        group: &[&CertRecord],
        docs: &[IdpDocument],
    ) -> (Option<Current>, Decision) {
        let trusted: Vec<&CertRecord> =
            group.iter().copied().filter(|r| r.sha1.is_some()).collect();
        let soonest = trusted
            .iter()
            .filter(|r| r.not_after().is_some())
            .min_by_key(|r| r.not_after())
            .or(trusted.first())
            .or(group.first());
        let current = soonest.map(|r| Current::of(r));
        let near = soonest.and_then(|r| r.not_after()).filter(|t| self.due(*t));
        let doc = docs
            .iter()
            .find(|d| d.connection_id == group[0].object_id && d.kind.pinned());
        let Some((doc, published)) = doc.and_then(|d| d.published.as_ref().map(|p| (d, p))) else {
            let why = match doc {
                None => "certwatch has not read this connection's IdP metadata (enable [metadata]; the connection needs options.metadataUrl or a metadata_urls entry)".to_string(),
                Some(d) => format!("{} could not be read: {}", d.url, d.error.as_deref().unwrap_or("no content")),
            };
            return (current, self.nothing_to_compare(near, why));
        };
        let published: Vec<(&PublishedCert, &CertInfo)> = published
            .certs
            .iter()
            .filter_map(|c| c.cert.as_ref().map(|i| (c, i)))
            .collect();
        let trusts = |sha1: &str| trusted.iter().any(|r| r.sha1.as_deref() == Some(sha1));
        let publishes = |sha1: &str| published.iter().any(|(c, _)| c.sha1 == sha1);
        let mut reasons: Vec<String> = Vec::new();
        for (c, _) in published.iter().filter(|(c, _)| !trusts(&c.sha1)) {
            reasons.push(format!(
                "the IdP publishes {} the connection does not trust",
                c.sha1
            ));
        }
        for r in trusted
            .iter()
            .filter(|r| !r.sha1.as_deref().is_some_and(publishes))
        {
            reasons.push(format!(
                "the IdP no longer publishes the trusted {}",
                r.sha1.as_deref().unwrap_or_default()
            ));
        }
        if let Some(t) = near {
            reasons.push(format!(
                "the trusted certificate expires {} (within rotate_before)",
                rfc3339(t)
            ));
        }
        if reasons.is_empty() {
            return (
                current,
                Decision::NotDue(format!(
                    "trusts what the IdP publishes at {}{}",
                    doc.url,
                    soonest
                        .and_then(|r| r.not_after())
                        .map(|t| format!("; expires {}", rfc3339(t)))
                        .unwrap_or_default()
                )),
            );
        }
        let best = published
            .iter()
            .filter(|(_, i)| i.not_before <= self.now && self.now < i.not_after)
            .max_by(|(a, ai), (b, bi)| {
                ai.not_after
                    .cmp(&bi.not_after)
                    .then_with(|| b.sha1.cmp(&a.sha1))
            });
        let Some(&(best, best_info)) = best else {
            return (
                current,
                Decision::Blocked(Blocker::Metadata(format!(
                    "{} publishes no signing certificate that is valid now ({})",
                    doc.url,
                    reasons.join("; ")
                ))),
            );
        };
        if trusts(&best.sha1) {
            let why = format!(
                "the IdP's longest-lived valid certificate {} is already trusted ({})",
                best.sha1,
                reasons.join("; ")
            );
            let decision = match near {
                Some(_) => Decision::Blocked(Blocker::Metadata(why)),
                None => Decision::NotDue(why),
            };
            return (current, decision);
        }
        let change = TrustChange {
            url: doc.url.clone(),
            reasons,
            trusted: trusted
                .iter()
                .filter_map(|r| CertView::of_record(r))
                .collect(),
            published: published
                .iter()
                .map(|(c, i)| CertView::of_published(c, i))
                .collect(),
            after: CertView::of_published(best, best_info),
            der: best.der.clone(),
        };
        (
            current,
            Decision::Due(super::Action::FromMetadata {
                change: Box::new(change),
            }),
        )
    }

    /// No metadata to compare with: blocked when the trusted certificate runs out, else not due.
    fn nothing_to_compare(&self, near: Option<OffsetDateTime>, why: String) -> Decision {
        match near {
            Some(_) => Decision::Blocked(Blocker::Metadata(why)),
            None => Decision::NotDue(why),
        }
    }
}
