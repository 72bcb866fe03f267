//! Applications (`GET /api/v2/clients`) and their credentials
//! (`GET /api/v2/clients/{id}/credentials`): authentication methods and JAR referencing
//! credentials, encryption keys, per-client signing keys, and the credential types Auth0 derives
//! from a key or certificate.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::SimSigningKey;
use crate::sim::certs::{GeneratedCert, pem_encode};
use crate::sim::options::CertFacts;

/// An application (`GET /api/v2/clients` item).
#[derive(Clone, Debug, PartialEq)]
pub struct SimClient {
    /// `client_id`.
    pub client_id: String,
    /// `name`.
    pub name: String,
    /// `app_type` (`regular_web`, `spa`, `native`, `non_interactive`, …); absent when `None`.
    pub app_type: Option<String>,
    /// `description`; absent when `None`.
    pub description: Option<String>,
    /// `global` (true only for "All Applications").
    pub global: bool,
    /// `is_first_party`.
    pub is_first_party: bool,
    /// `client_secret`.
    pub client_secret: String,
    /// `client_authentication_methods` exactly as returned, e.g.
    /// `{"private_key_jwt":{"credentials":[{"id":"cred_…"}]}}`; absent when `None`.
    pub client_authentication_methods: Option<Value>,
    /// `signed_request_object`, e.g. `{"required":true,"credentials":[{"id":"cred_…"}]}`.
    pub signed_request_object: Option<Value>,
    /// `encryption_key`; absent when `None`.
    pub encryption_key: Option<SimEncryptionKey>,
    /// `signing_keys`; `None` = the tenant's current signing certificate, which is what Auth0
    /// shows on every application.
    pub signing_keys: Option<Vec<SimClientSigningKey>>,
    /// The client's credentials (`/api/v2/clients/{id}/credentials`).
    pub credentials: Vec<SimCredential>,
    /// Any other top-level members (override the defaults the simulator renders).
    pub extra: Map<String, Value>,
}

/// A client's `encryption_key` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimEncryptionKey {
    /// `pub`: the public key PEM.
    pub public_key: String,
    /// `cert`: the certificate as returned.
    pub cert: String,
    /// `subject`.
    pub subject: String,
}

/// One item of a client's `signing_keys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimClientSigningKey {
    /// `cert` as returned.
    pub cert: String,
    /// `pkcs7` as returned.
    pub pkcs7: String,
    /// `subject`, e.g. `/CN=acme.eu.auth0.com`.
    pub subject: String,
}

impl SimClient {
    /// A first-party regular web application without keys or credentials.
    pub fn new(client_id: &str, name: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            name: name.to_owned(),
            app_type: Some("regular_web".into()),
            description: None,
            global: false,
            is_first_party: true,
            client_secret: format!("secret-{client_id}"),
            client_authentication_methods: None,
            signed_request_object: None,
            encryption_key: None,
            signing_keys: None,
            credentials: Vec::new(),
            extra: Map::new(),
        }
    }

    /// The global "All Applications" client.
    pub fn all_applications(client_id: &str) -> Self {
        Self {
            app_type: None,
            global: true,
            ..Self::new(client_id, "All Applications")
        }
    }

    /// Sets `app_type`.
    pub fn app_type(mut self, app_type: &str) -> Self {
        self.app_type = Some(app_type.to_owned());
        self
    }

    /// Sets `client_metadata.{key}` (string key/value pairs, like Auth0's).
    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        super::set_metadata(&mut self.extra, "client_metadata", key, value);
        self
    }

    /// Adds a credential.
    pub fn credential(mut self, credential: SimCredential) -> Self {
        self.credentials.push(credential);
        self
    }

    /// `client_authentication_methods.private_key_jwt` referencing these credentials.
    pub fn private_key_jwt(self, credential_ids: &[&str]) -> Self {
        self.auth_method("private_key_jwt", credential_ids)
    }

    /// `client_authentication_methods.tls_client_auth` referencing these credentials.
    pub fn tls_client_auth(self, credential_ids: &[&str]) -> Self {
        self.auth_method("tls_client_auth", credential_ids)
    }

    /// `client_authentication_methods.self_signed_tls_client_auth` referencing these credentials.
    pub fn self_signed_tls_client_auth(self, credential_ids: &[&str]) -> Self {
        self.auth_method("self_signed_tls_client_auth", credential_ids)
    }

    fn auth_method(mut self, method: &str, credential_ids: &[&str]) -> Self {
        self.client_authentication_methods =
            Some(json!({ method: { "credentials": credential_refs(credential_ids) } }));
        self
    }

    /// `signed_request_object` (JAR) referencing these credentials.
    pub fn signed_request_object(mut self, required: bool, credential_ids: &[&str]) -> Self {
        self.signed_request_object = Some(json!({
            "required": required,
            "credentials": credential_refs(credential_ids),
        }));
        self
    }

    /// An `encryption_key` made from `cert` (`pub` = its public key, `subject` = `/CN=…`).
    pub fn encryption_key(mut self, cert: &GeneratedCert) -> Self {
        let spki = CertFacts::from_der(&cert.der)
            .map(|f| f.spki_der)
            .unwrap_or_default();
        self.encryption_key = Some(SimEncryptionKey {
            public_key: pem_encode("PUBLIC KEY", &spki, "\n", true),
            cert: cert.pem.clone(),
            subject: format!("/CN={}", cert.common_name),
        });
        self
    }

    /// Sets `signing_keys` explicitly (an empty vector renders `[]`).
    pub fn signing_keys(mut self, keys: Vec<SimClientSigningKey>) -> Self {
        self.signing_keys = Some(keys);
        self
    }

    /// Sets any other top-level member.
    pub fn field(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// The ids referenced by `client_authentication_methods`, `signed_request_object` and
    /// `token_vault_privileged_access`.
    pub fn referenced_credential_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let mut collect = |v: &Value| {
            for cred in v
                .get("credentials")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(id) = cred.get("id").and_then(Value::as_str) {
                    ids.push(id.to_owned());
                }
            }
        };
        if let Some(Value::Object(methods)) = &self.client_authentication_methods {
            methods.values().for_each(&mut collect);
        }
        if let Some(vault) = self.extra.get("token_vault_privileged_access") {
            collect(vault);
        }
        if let Some(sro) = &self.signed_request_object {
            collect(sro);
        }
        ids
    }
}

fn credential_refs(ids: &[&str]) -> Value {
    Value::Array(ids.iter().map(|id| json!({ "id": id })).collect())
}

impl SimClientSigningKey {
    /// The entry Auth0 shows for a tenant signing certificate.
    pub fn from_signing_key(key: &SimSigningKey, domain: &str) -> Self {
        Self {
            cert: key.cert.clone(),
            pkcs7: key.pkcs7.clone(),
            subject: format!("/CN={domain}"),
        }
    }
}

/// A client credential (`GET /api/v2/clients/{id}/credentials` item). `pem` is never returned
/// by Auth0, so only the derived facts are held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimCredential {
    /// `cred_…`.
    pub id: String,
    /// `public_key`, `x509_cert` or `cert_subject_dn`.
    pub credential_type: String,
    /// `name`; absent when `None`.
    pub name: Option<String>,
    /// `kid` (public_key).
    pub kid: Option<String>,
    /// `alg` (public_key).
    pub alg: Option<String>,
    /// `subject_dn` (cert_subject_dn).
    pub subject_dn: Option<String>,
    /// `thumbprint_sha256` (x509_cert).
    pub thumbprint_sha256: Option<String>,
    /// `created_at`.
    pub created_at: OffsetDateTime,
    /// `updated_at`.
    pub updated_at: OffsetDateTime,
    /// `expires_at`; `None` = never expires (rendered `null` for public_key/x509_cert, absent
    /// for cert_subject_dn).
    pub expires_at: Option<OffsetDateTime>,
}

impl SimCredential {
    /// A `public_key` credential (Private Key JWT / JAR). The `kid` is derived from the id.
    pub fn public_key(
        id: &str,
        name: &str,
        created_at: OffsetDateTime,
        expires_at: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            id: id.to_owned(),
            credential_type: "public_key".into(),
            name: Some(name.to_owned()),
            kid: Some(URL_SAFE_NO_PAD.encode(Sha256::digest(id.as_bytes()))),
            alg: Some("RS256".into()),
            subject_dn: None,
            thumbprint_sha256: None,
            created_at,
            updated_at: created_at,
            expires_at,
        }
    }

    /// A `public_key` credential created from a certificate with `parse_expiry_from_cert: true`
    /// (`expires_at` = notAfter, `kid` = base64url SHA-256 of the public key).
    pub fn public_key_from_cert(
        id: &str,
        name: &str,
        cert: &GeneratedCert,
        created_at: OffsetDateTime,
    ) -> Self {
        let spki = CertFacts::from_der(&cert.der)
            .map(|f| f.spki_der)
            .unwrap_or_default();
        Self {
            kid: Some(URL_SAFE_NO_PAD.encode(Sha256::digest(&spki))),
            ..Self::public_key(id, name, created_at, Some(cert.not_after))
        }
    }

    /// An `x509_cert` credential (self-signed mTLS): `thumbprint_sha256` and `expires_at` from
    /// the certificate.
    pub fn x509_cert(
        id: &str,
        name: &str,
        cert: &GeneratedCert,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            id: id.to_owned(),
            credential_type: "x509_cert".into(),
            name: Some(name.to_owned()),
            kid: None,
            alg: None,
            subject_dn: None,
            thumbprint_sha256: Some(cert.thumbprint_sha256_b64url()),
            created_at,
            updated_at: created_at,
            expires_at: Some(cert.not_after),
        }
    }

    /// A `cert_subject_dn` credential (CA-signed mTLS): no expiry is ever returned.
    pub fn cert_subject_dn(
        id: &str,
        name: &str,
        subject_dn: &str,
        created_at: OffsetDateTime,
    ) -> Self {
        Self {
            id: id.to_owned(),
            credential_type: "cert_subject_dn".into(),
            name: Some(name.to_owned()),
            kid: None,
            alg: None,
            subject_dn: Some(subject_dn.to_owned()),
            thumbprint_sha256: None,
            created_at,
            updated_at: created_at,
            expires_at: None,
        }
    }

    /// Overrides `expires_at`.
    pub fn expires_at(mut self, expires_at: Option<OffsetDateTime>) -> Self {
        self.expires_at = expires_at;
        self
    }
}
