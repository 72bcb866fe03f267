//! The certificate inventory: what one poll found (`CertRecord`, `TenantSnapshot`, `Snapshot`).
//!
//! `sources` turns Auth0 objects into records (pure), `poll` drives one tenant's poll through the
//! `auth0::Auth0Api` seam (bounded in time, panics caught), `walk` pages through one listing
//! within its bounds, `refresh` decides which per-object lists a poll re-reads and which it
//! answers from the last read (incremental polls), `TenantSnapshot::apply` keeps the last good
//! records of a source that failed, and `remote` does the same for the remote facts and joins
//! them to the records.

pub mod poll;
pub mod refresh;
pub mod remote;
pub mod sources;
pub mod walk;

use serde::Serialize;
use std::time::Duration;
use time::OffsetDateTime;

use crate::expiry::Validity;

/// The `reason` label is the Auth0 client's classification of a failure; polls use it as is.
pub use crate::auth0::Reason;

/// The kind of certificate (docs/inventory.md), the `kind` label.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A tenant application signing key (`/keys/signing`).
    TenantSigningKey,
    /// An enterprise connection's IdP signing certificate.
    ConnectionSigningCert,
    /// A connection that carries only thumbprints (adfs, waad, samlp without cert).
    ConnectionThumbprint,
    /// The SP signing key of a SAML connection (`options.signing_key.cert`).
    ConnectionSpSigningKey,
    /// The SAML assertion decryption key (`options.decryptionKey`).
    ConnectionDecryptionKey,
    /// A private_key_jwt key of an oidc/okta connection (`/connections/{id}/keys`).
    ConnectionKey,
    /// A client credential (Private Key JWT, mTLS, JAR).
    ClientCredential,
    /// `client.encryption_key.cert`.
    ClientEncryptionKey,
    /// `client.signing_keys[].cert` that is not a tenant signing key.
    ClientSigningKey,
    /// `client.addons.samlp.signingCert`: the SAML2 Web App's SP request-signing certificate.
    ClientSamlSpCert,
    /// The tenant's own SAML SP certificate (`/pem?cert=connection`).
    TenantSamlCert,
    /// A custom signing key with a certificate (`/keys/custom-signing`, `x5c[0]`).
    CustomSigningKey,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 12] = [
        Kind::TenantSigningKey,
        Kind::ConnectionSigningCert,
        Kind::ConnectionThumbprint,
        Kind::ConnectionSpSigningKey,
        Kind::ConnectionDecryptionKey,
        Kind::ConnectionKey,
        Kind::ClientCredential,
        Kind::ClientEncryptionKey,
        Kind::ClientSigningKey,
        Kind::ClientSamlSpCert,
        Kind::TenantSamlCert,
        Kind::CustomSigningKey,
    ];

    /// The label / JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TenantSigningKey => "tenant_signing_key",
            Kind::ConnectionSigningCert => "connection_signing_cert",
            Kind::ConnectionThumbprint => "connection_thumbprint",
            Kind::ConnectionSpSigningKey => "connection_sp_signing_key",
            Kind::ConnectionDecryptionKey => "connection_decryption_key",
            Kind::ConnectionKey => "connection_key",
            Kind::ClientCredential => "client_credential",
            Kind::ClientEncryptionKey => "client_encryption_key",
            Kind::ClientSigningKey => "client_signing_key",
            Kind::ClientSamlSpCert => "client_saml_sp_cert",
            Kind::TenantSamlCert => "tenant_saml_cert",
            Kind::CustomSigningKey => "custom_signing_key",
        }
    }

    /// Parse a label value.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What part a certificate plays (docs/inventory.md), the `role` label.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The key signing tokens now.
    Current,
    /// The pre-generated next key.
    Next,
    /// The key used before the current one.
    Previous,
    /// A revoked key.
    Revoked,
    /// A certificate configured on a connection or client.
    Active,
    /// A credential referenced by the client.
    InUse,
    /// A credential the client does not reference.
    Unused,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::Current,
        Role::Next,
        Role::Previous,
        Role::Revoked,
        Role::Active,
        Role::InUse,
        Role::Unused,
    ];

    /// The label / JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Current => "current",
            Role::Next => "next",
            Role::Previous => "previous",
            Role::Revoked => "revoked",
            Role::Active => "active",
            Role::InUse => "in_use",
            Role::Unused => "unused",
        }
    }

    /// Parse a label value.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which Management API call a record or an error came from (the `source` label).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `POST /oauth/token`.
    Token,
    /// `GET /api/v2/keys/signing`.
    SigningKeys,
    /// `GET /api/v2/clients`.
    Clients,
    /// `GET /api/v2/clients/{id}/credentials`.
    ClientCredentials,
    /// `GET /api/v2/connections`.
    Connections,
    /// `GET /api/v2/connections/{id}/keys`.
    ConnectionKeys,
    /// `GET /api/v2/custom-domains` (scope `read:custom_domains`).
    CustomDomains,
    /// `GET https://{domain}/.well-known/jwks.json` (public).
    Jwks,
    /// `GET /api/v2/keys/custom-signing` (scope `read:custom_signing_keys`).
    CustomSigningKeys,
    /// `GET https://{domain}/pem?cert=connection` (public).
    TenantSaml,
    /// `GET /api/v2/tenants/settings?fields=mtls` (scope `read:tenant_settings`), read only to
    /// probe the mTLS endpoint aliases of custom domains.
    TenantSettings,
}

impl Source {
    /// Every source, in declaration order (a test checks it against the enum itself).
    pub const ALL: [Source; 11] = [
        Source::Token,
        Source::SigningKeys,
        Source::Clients,
        Source::ClientCredentials,
        Source::Connections,
        Source::ConnectionKeys,
        Source::CustomDomains,
        Source::Jwks,
        Source::CustomSigningKeys,
        Source::TenantSaml,
        Source::TenantSettings,
    ];

    /// The sources a poll reads, in order: every source but the token grant, which a poll
    /// only needs (derived from `ALL` and `polled`, so a new source is never left out).
    pub const POLLED: [Source; Source::ALL.len() - 1] = {
        let mut out = [Source::Token; Source::ALL.len() - 1];
        let (mut i, mut n) = (0, 0);
        while i < Source::ALL.len() {
            if Source::ALL[i].polled() {
                out[n] = Source::ALL[i];
                n += 1;
            }
            i += 1;
        }
        assert!(
            n == out.len(),
            "POLLED's length: every source but the token grant"
        );
        out
    };

    /// Whether a poll reads this source (its records or facts can carry over).
    pub const fn polled(self) -> bool {
        match self {
            Source::Token => false,
            Source::SigningKeys
            | Source::Clients
            | Source::ClientCredentials
            | Source::Connections
            | Source::ConnectionKeys
            | Source::CustomDomains
            | Source::Jwks
            | Source::CustomSigningKeys
            | Source::TenantSaml
            | Source::TenantSettings => true,
        }
    }

    /// The sources a refused token (or a dead network) at the signing keys leaves unread: every
    /// polled source after the signing keys.
    pub fn after_signing_keys() -> impl Iterator<Item = Source> {
        Source::POLLED
            .into_iter()
            .filter(|s| *s != Source::SigningKeys)
    }

    /// The label / JSON value.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Token => "token",
            Source::SigningKeys => "signing_keys",
            Source::Clients => "clients",
            Source::ClientCredentials => "client_credentials",
            Source::Connections => "connections",
            Source::ConnectionKeys => "connection_keys",
            Source::CustomDomains => "custom_domains",
            Source::Jwks => "jwks",
            Source::CustomSigningKeys => "custom_signing_keys",
            Source::TenantSaml => "tenant_saml",
            Source::TenantSettings => "tenant_settings",
        }
    }

    /// Parse a config value.
    pub fn parse(s: &str) -> Option<Source> {
        Source::POLLED.into_iter().find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One certificate (identity as in docs/inventory.md, plus the docs/json.md fields
/// that do not depend on "now").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRecord {
    /// Configured tenant name.
    pub tenant: String,
    /// Kind of certificate.
    pub kind: Kind,
    /// Role of the certificate.
    pub role: Role,
    /// The Auth0 object it belongs to (kid/domain, connection id, client id).
    pub object_id: String,
    /// The object's name.
    pub object_name: String,
    /// kid, credential id or lowercase SHA-1.
    pub cert_id: String,
    /// Subject DN.
    pub subject: Option<String>,
    /// Issuer DN.
    pub issuer: Option<String>,
    /// Serial, hex.
    pub serial: Option<String>,
    /// Lowercase hex SHA-1.
    pub sha1: Option<String>,
    /// Lowercase hex SHA-256.
    pub sha256: Option<String>,
    /// What is known about validity.
    pub validity: Validity,
    /// Why the certificate could not be parsed.
    pub error: Option<String>,
    /// The call it came from (for carrying over records of failed sources).
    pub source: Source,
    /// The owning team, from the object's metadata (`[alerts] owner_key`; docs/alerts.md#owners).
    pub owner: Option<String>,
    /// `signing` or `encryption`, for a connection key.
    pub key_use: Option<String>,
}

impl CertRecord {
    /// `not_before`, where known.
    pub fn not_before(&self) -> Option<OffsetDateTime> {
        match self.validity {
            Validity::Window { not_before, .. } => not_before,
            _ => None,
        }
    }

    /// `not_after`, where known (also 9999-12-31T23:59:59Z, see [`CertRecord::expires_at`]).
    pub fn not_after(&self) -> Option<OffsetDateTime> {
        match self.validity {
            Validity::Window { not_after, .. } => Some(not_after),
            _ => None,
        }
    }

    /// When it expires, if it ever does (`not_after`, except RFC 5280's "no well-defined
    /// expiration" 9999-12-31T23:59:59Z; docs/status-policy.md).
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.validity.expires_at()
    }

    /// Take the dates, names and thumbprints of a decoded certificate.
    pub fn fill(&mut self, info: &crate::x509::CertInfo) {
        self.validity = Validity::Window {
            not_before: Some(info.not_before),
            not_after: info.not_after,
        };
        self.subject = Some(info.subject.clone());
        self.issuer = Some(info.issuer.clone());
        self.serial = Some(info.serial.clone());
        self.sha1 = Some(info.sha1.clone());
        self.sha256 = Some(info.sha256.clone());
        self.error = None;
    }

    /// A stable identity key: (tenant, kind, object_id, cert_id).
    pub fn key(&self) -> (&str, Kind, &str, &str) {
        (&self.tenant, self.kind, &self.object_id, &self.cert_id)
    }
}

/// One failure during a tenant's poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollError {
    /// The call that failed.
    pub source: Source,
    /// Why, as a label.
    pub reason: Reason,
    /// Human message (never contains secrets).
    pub message: String,
    /// The object whose sub-resource failed (a client's credentials, a connection's keys), if any.
    #[serde(skip)]
    pub object_id: Option<String>,
}

/// The result of polling one tenant once.
#[derive(Debug, Clone, Default)]
pub struct PollOutcome {
    /// Certificates found.
    pub records: Vec<CertRecord>,
    /// Failures; empty means the poll succeeded completely.
    pub errors: Vec<PollError>,
    /// What the remote checks learned (JWKS, custom domains, IdP documents).
    pub facts: crate::remote::TenantFacts,
    /// Listings that returned an object more than once (one copy kept; counted, not an error).
    pub duplicates: Vec<walk::Duplicates>,
    /// The poll panicked (caught; every enabled source is reported as failed).
    pub panicked: bool,
    /// Owners named by the listed objects' metadata, by object id (clients, connections).
    pub owners: std::collections::HashMap<String, String>,
    /// Management API requests the poll made (`certwatch_poll_api_calls`).
    pub api_calls: u64,
}

/// The current state of one tenant, as served by `/metrics` and `/api`.
#[derive(Debug, Clone)]
pub struct TenantSnapshot {
    /// Configured name.
    pub name: String,
    /// Auth0 domain.
    pub domain: String,
    /// The last poll succeeded completely.
    pub up: bool,
    /// When a poll last succeeded completely.
    pub last_success: Option<OffsetDateTime>,
    /// When the last poll finished.
    pub last_poll: Option<OffsetDateTime>,
    /// How long the last poll took.
    pub poll_duration: Option<Duration>,
    /// Errors of the last poll.
    pub errors: Vec<PollError>,
    /// Certificates: the last poll's, plus the last good ones of sources that failed.
    pub records: Vec<CertRecord>,
    /// Remote facts (JWKS, custom domains, IdP documents), carried over like records.
    pub facts: crate::remote::TenantFacts,
}

impl TenantSnapshot {
    /// A tenant that has not been polled yet.
    pub fn pending(name: &str, domain: &str) -> Self {
        Self {
            name: name.to_string(),
            domain: domain.to_string(),
            up: false,
            last_success: None,
            last_poll: None,
            poll_duration: None,
            errors: Vec::new(),
            records: Vec::new(),
            facts: crate::remote::TenantFacts::default(),
        }
    }

    /// Fold a poll outcome into this tenant's state (pure).
    ///
    /// Records of a source that failed as a whole are kept from the previous snapshot; records of
    /// a per-object sub-resource that failed (one client's credentials) are kept for that object.
    /// Everything else is replaced, so a certificate deleted in Auth0 disappears.
    pub fn apply(&self, outcome: PollOutcome, finished: OffsetDateTime, took: Duration) -> Self {
        let up = outcome.errors.is_empty();
        let mut records = outcome.records;
        for old in &self.records {
            let failed = outcome.errors.iter().any(|e| {
                e.source == old.source
                    && e.object_id.as_deref().is_none_or(|id| id == old.object_id)
            });
            if failed && !records.iter().any(|r| r.key() == old.key()) {
                records.push(old.clone());
            }
        }
        let source_failed = |s: Source| {
            outcome
                .errors
                .iter()
                .any(|e| e.source == s && e.object_id.is_none())
        };
        let facts = remote::merge(outcome.facts, &self.facts, source_failed);
        remote::enrich(&mut records, &facts);
        Self {
            name: self.name.clone(),
            domain: self.domain.clone(),
            up,
            last_success: if up {
                Some(finished)
            } else {
                self.last_success
            },
            last_poll: Some(finished),
            poll_duration: Some(took),
            errors: outcome.errors,
            records,
            facts,
        }
    }
}

/// Everything certwatch knows, rebuilt after each poll; readers never lock it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// One entry per configured tenant, in config order.
    pub tenants: Vec<TenantSnapshot>,
}

impl Snapshot {
    /// All records of all tenants.
    pub fn records(&self) -> impl Iterator<Item = &CertRecord> {
        self.tenants.iter().flat_map(|t| t.records.iter())
    }
}

#[cfg(test)]
pub(crate) mod tests;
