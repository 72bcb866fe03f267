//! What a connection's upstream identity provider publishes (served by the simulator under
//! `/idp/{connection id}/…`): signing and encryption certificates, `validUntil`, and a fault.

use time::OffsetDateTime;

use crate::sim::certs::GeneratedCert;
use crate::sim::faults::IdpFault;

/// What a connection's upstream identity provider publishes. The simulator serves it under
/// `/idp/{connection id}/…`: SAML 2.0 metadata, ADFS `FederationMetadata.xml`, or an OIDC
/// discovery document and its JWKS (every form for every connection; the options name the one
/// that fits the strategy). The certificates need not be the ones the connection trusts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimIdp {
    /// DER of the published signing certificates (`KeyDescriptor use="signing"`, JWKS `x5c`), in
    /// order.
    pub signing_certs: Vec<Vec<u8>>,
    /// DER of published encryption certificates (`KeyDescriptor use="encryption"`; SAML/ADFS).
    pub encryption_certs: Vec<Vec<u8>>,
    /// The metadata's `validUntil` (SAML/ADFS); absent when `None`.
    pub valid_until: Option<OffsetDateTime>,
    /// A fault every document of this IdP answers with.
    pub fault: Option<IdpFault>,
}

impl SimIdp {
    /// An IdP publishing these signing certificates.
    pub fn publishing(certs: &[&GeneratedCert]) -> Self {
        Self {
            signing_certs: certs.iter().map(|c| c.der.clone()).collect(),
            ..Self::default()
        }
    }

    /// Also publishes an encryption certificate (SAML/ADFS metadata).
    pub fn encryption_cert(mut self, cert: &GeneratedCert) -> Self {
        self.encryption_certs.push(cert.der.clone());
        self
    }

    /// Sets the metadata's `validUntil`.
    pub fn valid_until(mut self, at: OffsetDateTime) -> Self {
        self.valid_until = Some(at);
        self
    }

    /// Every document of this IdP answers with `fault`.
    pub fn fault(mut self, fault: IdpFault) -> Self {
        self.fault = Some(fault);
        self
    }
}
