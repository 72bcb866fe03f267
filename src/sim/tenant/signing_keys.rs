//! Tenant application signing keys (`GET /api/v2/keys/signing`): the certificate in Auth0's
//! encodings and the role flags (current, next, previous, revoked) rotation moves between keys.

use time::OffsetDateTime;

use super::random_id;
use crate::sim::certs::{GeneratedCert, decode_cert_text, fingerprint, pkcs7_pem, sha1_hex};

/// Validity Auth0 gives tenant signing certificates (observed: exactly 5000 days).
pub const SIGNING_CERT_VALIDITY: time::Duration = time::Duration::days(5000);

/// A tenant application signing key (`GET /api/v2/keys/signing` item).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimSigningKey {
    /// Key id.
    pub kid: String,
    /// The certificate as returned (Auth0: PEM with `\r\n`).
    pub cert: String,
    /// PKCS#7 PEM.
    pub pkcs7: String,
    /// Upper-case colon hex SHA-1.
    pub fingerprint: String,
    /// Upper-case hex SHA-1.
    pub thumbprint: String,
    /// Signs tokens now.
    pub current: bool,
    /// Will be current after the next rotation.
    pub next: bool,
    /// Was current before.
    pub previous: bool,
    /// Revoked.
    pub revoked: bool,
    /// When it became current.
    pub current_since: Option<OffsetDateTime>,
    /// When it stopped being current.
    pub current_until: Option<OffsetDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

impl SimSigningKey {
    /// A key with no role flags, with `cert`, `pkcs7`, `fingerprint` and `thumbprint` computed
    /// from `cert` the way Auth0 presents them.
    pub fn from_cert(kid: &str, cert: &GeneratedCert) -> Self {
        Self::unflagged(
            kid,
            cert.pem_crlf(),
            cert.pkcs7_pem(),
            cert.fingerprint(),
            cert.thumbprint(),
        )
    }

    /// A key whose `cert` is exactly `cert_text` (possibly garbage); digests are computed when
    /// it decodes, else left empty.
    pub fn from_raw(kid: &str, cert_text: &str) -> Self {
        let der = decode_cert_text(cert_text);
        Self::unflagged(
            kid,
            cert_text.to_owned(),
            der.as_deref().map(pkcs7_pem).unwrap_or_default(),
            der.as_deref().map(fingerprint).unwrap_or_default(),
            der.as_deref()
                .map(|d| sha1_hex(d).to_ascii_uppercase())
                .unwrap_or_default(),
        )
    }

    /// A key with these texts and no role flags.
    fn unflagged(
        kid: &str,
        cert: String,
        pkcs7: String,
        fingerprint: String,
        thumbprint: String,
    ) -> Self {
        Self {
            kid: kid.to_owned(),
            cert,
            pkcs7,
            fingerprint,
            thumbprint,
            current: false,
            next: false,
            previous: false,
            revoked: false,
            current_since: None,
            current_until: None,
            revoked_at: None,
        }
    }

    /// A new key like the ones Auth0 generates: random 21-character kid, self-signed
    /// `CN={domain}` certificate valid 5000 days from `now`.
    pub fn generate(domain: &str, now: OffsetDateTime) -> Self {
        let cert = crate::sim::certs::generate_cert(domain, now, now + SIGNING_CERT_VALIDITY);
        Self::from_cert(&random_id(21), &cert)
    }

    /// Marks the key current since `since`.
    pub fn current(mut self, since: OffsetDateTime) -> Self {
        self.current = true;
        self.current_since = Some(since);
        self
    }

    /// Marks the key next.
    pub fn next(mut self) -> Self {
        self.next = true;
        self
    }

    /// Marks the key previous (it was current from `since` until `until`).
    pub fn previous(mut self, since: OffsetDateTime, until: OffsetDateTime) -> Self {
        self.previous = true;
        self.current_since = Some(since);
        self.current_until = Some(until);
        self
    }

    /// Marks the key revoked at `at`.
    pub fn revoked(mut self, at: OffsetDateTime) -> Self {
        self.revoked = true;
        self.revoked_at = Some(at);
        self
    }
}
