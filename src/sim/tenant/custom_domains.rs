//! Custom domains (`GET /api/v2/custom-domains`), shaped like the recorded ones: Auth0-managed
//! domains with their certificate status, and self-managed domains with the chain their server
//! presents (served by the simulator's TLS listener).

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::sim::certs::GeneratedCert;

/// A custom domain (`GET /api/v2/custom-domains` item), shaped like the recorded ones.
#[derive(Clone, Debug, PartialEq)]
pub struct SimCustomDomain {
    /// `cd_…`.
    pub custom_domain_id: String,
    /// The hostname.
    pub domain: String,
    /// `primary`.
    pub primary: bool,
    /// `is_default`.
    pub is_default: bool,
    /// `status`: `pending_verification` | `ready` | `failed`.
    pub status: String,
    /// `type`: `auth0_managed_certs` | `self_managed_certs`.
    pub domain_type: String,
    /// `verification.status`; absent when `None`.
    pub verification_status: Option<String>,
    /// `verification.last_verified_at`; absent when `None`.
    pub last_verified_at: Option<OffsetDateTime>,
    /// `tls_policy`; absent when `None`.
    pub tls_policy: Option<String>,
    /// `domain_metadata`.
    pub domain_metadata: Map<String, Value>,
    /// `certificate` (Auth0-managed domains only); absent when `None`.
    pub certificate: Option<SimDomainCertificate>,
    /// `created_at`.
    pub created_at: OffsetDateTime,
    /// The chain the simulator's TLS listener serves for this hostname (self-managed domains).
    pub served: Option<SimServedChain>,
    /// The chain served for `mtls.{domain}` (the mTLS endpoint alias, its own certificate).
    pub mtls_served: Option<SimServedChain>,
}

/// A custom domain's `certificate` object (`DomainCertificate`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimDomainCertificate {
    /// `status`: `provisioning` | `provisioning_failed` | `provisioned` | `renewing_failed`.
    pub status: Option<String>,
    /// `error_msg`.
    pub error_msg: Option<String>,
    /// `certificate_authority`: `letsencrypt` | `googletrust`.
    pub certificate_authority: Option<String>,
    /// `renews_before`.
    pub renews_before: Option<OffsetDateTime>,
}

/// A TLS certificate chain and its key, as a self-managed custom domain's server presents it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimServedChain {
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// The leaf's private key (PKCS#8 PEM).
    pub key_pem: String,
}

impl SimServedChain {
    /// `leaf` (with its key) followed by `issuers`.
    pub fn new(leaf: &GeneratedCert, issuers: &[&GeneratedCert]) -> Self {
        Self {
            chain: std::iter::once(leaf)
                .chain(issuers.iter().copied())
                .map(|c| c.der.clone())
                .collect(),
            key_pem: leaf.key_pem.clone(),
        }
    }
}

impl SimCustomDomain {
    fn new(id: &str, domain: &str, domain_type: &str, created_at: OffsetDateTime) -> Self {
        Self {
            custom_domain_id: id.to_owned(),
            domain: domain.to_owned(),
            primary: false,
            is_default: false,
            status: "pending_verification".into(),
            domain_type: domain_type.to_owned(),
            verification_status: None,
            last_verified_at: None,
            tls_policy: Some("recommended".into()),
            domain_metadata: Map::new(),
            certificate: None,
            created_at,
            served: None,
            mtls_served: None,
        }
    }

    /// An Auth0-managed domain awaiting verification (no `certificate` yet), like the first
    /// recorded item.
    pub fn auth0_managed(id: &str, domain: &str, created_at: OffsetDateTime) -> Self {
        Self::new(id, domain, "auth0_managed_certs", created_at)
    }

    /// A self-managed domain (`self_managed_certs`, no `certificate` object) whose server
    /// presents `served`: the simulator's TLS listener does, for SNI = `domain`.
    pub fn self_managed(
        id: &str,
        domain: &str,
        created_at: OffsetDateTime,
        served: SimServedChain,
    ) -> Self {
        let mut d = Self::new(id, domain, "self_managed_certs", created_at);
        d.status = "ready".into();
        d.served = Some(served);
        d
    }

    fn managed_certificate(
        mut self,
        status: &str,
        renews_before: Option<OffsetDateTime>,
        error_msg: Option<&str>,
    ) -> Self {
        self.certificate = Some(SimDomainCertificate {
            status: Some(status.to_owned()),
            error_msg: error_msg.map(str::to_owned),
            certificate_authority: Some("letsencrypt".into()),
            renews_before,
        });
        self
    }

    /// Ready, with a provisioned Let's Encrypt certificate to be renewed before `renews_before`.
    pub fn provisioned(mut self, renews_before: OffsetDateTime) -> Self {
        self.status = "ready".into();
        self.managed_certificate("provisioned", Some(renews_before), None)
    }

    /// Ready, but the renewal of its certificate (due before `renews_before`) failed.
    pub fn renewing_failed(mut self, renews_before: OffsetDateTime, error_msg: &str) -> Self {
        self.status = "ready".into();
        self.managed_certificate("renewing_failed", Some(renews_before), Some(error_msg))
    }

    /// No certificate could be provisioned.
    pub fn provisioning_failed(self, error_msg: &str) -> Self {
        self.managed_certificate("provisioning_failed", None, Some(error_msg))
    }

    /// Sets `status`.
    pub fn status(mut self, status: &str) -> Self {
        self.status = status.to_owned();
        self
    }

    /// Sets `verification.status` and `verification.last_verified_at`.
    pub fn verified(mut self, status: &str, at: OffsetDateTime) -> Self {
        self.verification_status = Some(status.to_owned());
        self.last_verified_at = Some(at);
        self
    }

    /// Serves `chain` for `mtls.{domain}` (the tenant's mTLS endpoint alias).
    pub fn mtls_alias(mut self, chain: SimServedChain) -> Self {
        self.mtls_served = Some(chain);
        self
    }

    /// Sets `primary`.
    pub fn primary(mut self, primary: bool) -> Self {
        self.primary = primary;
        self
    }

    /// Adds a `domain_metadata` member.
    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        self.domain_metadata
            .insert(key.to_owned(), Value::String(value.to_owned()));
        self
    }
}
