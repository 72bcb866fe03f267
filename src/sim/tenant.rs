//! The simulated tenant's data: signing keys, clients (with credentials), connections (with
//! options and keys) and the machine-to-machine apps allowed to get tokens, plus the builders and
//! mutators tests use to set up and change it.
//!
//! Certificates are held as raw strings exactly as Auth0 returns them, so tests can put anything
//! there (garbage, base64 of PEM, base64 DER, `\r\n` PEM, literal `\\n` escapes, chains). The
//! `from_cert`/typed constructors fill them the way Auth0 would. Nothing here reads the clock:
//! every time is an argument, and `now` (when set) is the server's notion of the present.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::certs::{GeneratedCert, decode_cert_text, fingerprint, pem_encode, pkcs7_pem, sha1_hex};
use super::faults::IdpFault;
use super::options::{CertFacts, apply_computed};

/// Validity Auth0 gives tenant signing certificates (observed: exactly 5000 days).
pub const SIGNING_CERT_VALIDITY: time::Duration = time::Duration::days(5000);

/// An in-memory Auth0 tenant.
#[derive(Clone, Debug)]
pub struct SimTenant {
    /// The tenant domain, e.g. `acme.eu.auth0.com`; the API audience is `https://{domain}/api/v2/`.
    pub domain: String,
    /// The `tenant` member of client objects (first label of the domain).
    pub tenant_name: String,
    /// Server time used for what the simulator itself stamps (credential `created_at`, rotated
    /// keys); `None` = wall clock.
    pub now: Option<OffsetDateTime>,
    /// Applications allowed to use the client-credentials grant, with their granted scopes.
    pub m2m_apps: Vec<SimM2mApp>,
    /// Tenant application signing keys (`/api/v2/keys/signing`), in list order.
    pub signing_keys: Vec<SimSigningKey>,
    /// Applications (`/api/v2/clients`), in list order.
    pub clients: Vec<SimClient>,
    /// Connections (`/api/v2/connections`), in list order.
    pub connections: Vec<SimConnection>,
    /// Custom domains (`/api/v2/custom-domains`), in list order.
    pub custom_domains: Vec<SimCustomDomain>,
    /// How the public `/.well-known/jwks.json` departs from the signing keys (normally not).
    pub jwks: SimJwks,
}

/// Departures of the tenant's public JWKS from `/api/v2/keys/signing`, to demonstrate a
/// `jwks_mismatch`. By default the JWKS publishes exactly the current, next and previous keys
/// that are not revoked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimJwks {
    /// Signing-key kids left out of the JWKS.
    pub omit: Vec<String>,
    /// Keys published although no signing key has them: `(kid, certificate DER)`.
    pub extra: Vec<(String, Vec<u8>)>,
}

/// A machine-to-machine application that can obtain Management API tokens. It is not listed by
/// `/api/v2/clients` unless also added with [`SimTenant::client`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimM2mApp {
    /// `client_id` for `/oauth/token`.
    pub client_id: String,
    /// `client_secret` for `/oauth/token`.
    pub client_secret: String,
    /// Scopes granted on the Management API.
    pub scopes: Vec<String>,
}

impl SimTenant {
    /// An empty tenant for `domain`.
    pub fn new(domain: impl Into<String>) -> Self {
        let domain = domain.into();
        let tenant_name = domain.split('.').next().unwrap_or_default().to_owned();
        Self {
            domain,
            tenant_name,
            now: None,
            m2m_apps: Vec::new(),
            signing_keys: Vec::new(),
            clients: Vec::new(),
            connections: Vec::new(),
            custom_domains: Vec::new(),
            jwks: SimJwks::default(),
        }
    }

    /// The Management API audience, `https://{domain}/api/v2/`.
    pub fn audience(&self) -> String {
        format!("https://{}/api/v2/", self.domain)
    }

    /// Fixes the server's clock (see [`SimTenant::now`]).
    pub fn at(mut self, now: OffsetDateTime) -> Self {
        self.now = Some(now);
        self
    }

    /// The server's present: [`SimTenant::now`] or the wall clock.
    pub fn server_now(&self) -> OffsetDateTime {
        self.now
            .unwrap_or_else(|| crate::clock::Clock::now(&crate::clock::SystemClock))
    }

    /// Adds a machine-to-machine app with these Management API scopes.
    pub fn m2m(mut self, client_id: &str, client_secret: &str, scopes: &[&str]) -> Self {
        self.m2m_apps.push(SimM2mApp {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        });
        self
    }

    /// Adds a tenant signing key.
    pub fn signing_key(mut self, key: SimSigningKey) -> Self {
        self.signing_keys.push(key);
        self
    }

    /// Adds an application.
    pub fn client(mut self, client: SimClient) -> Self {
        self.add_client(client);
        self
    }

    /// Adds the global "All Applications" client every real tenant has.
    pub fn global_client(self, client_id: &str) -> Self {
        self.client(SimClient::all_applications(client_id))
    }

    /// Adds a connection.
    pub fn connection(mut self, connection: SimConnection) -> Self {
        self.add_connection(connection);
        self
    }

    /// Adds a custom domain.
    pub fn custom_domain(mut self, domain: SimCustomDomain) -> Self {
        self.custom_domains.push(domain);
        self
    }

    /// Leaves the signing key `kid` out of the public JWKS (it stays in `/keys/signing`).
    pub fn jwks_without(mut self, kid: &str) -> Self {
        self.jwks.omit.push(kid.to_owned());
        self
    }

    /// Publishes `cert` under `kid` in the public JWKS although no signing key has it (a stale
    /// or foreign key).
    pub fn jwks_with_extra(mut self, kid: &str, cert: &GeneratedCert) -> Self {
        self.jwks.extra.push((kid.to_owned(), cert.der.clone()));
        self
    }

    /// A custom domain by id, mutable.
    pub fn custom_domain_mut(&mut self, id: &str) -> Option<&mut SimCustomDomain> {
        self.custom_domains
            .iter_mut()
            .find(|d| d.custom_domain_id == id)
    }

    /// The TLS chain served for `hostname` (a self-managed custom domain), if any.
    pub fn served_chain(&self, hostname: &str) -> Option<&SimServedChain> {
        self.custom_domains
            .iter()
            .find(|d| d.domain.eq_ignore_ascii_case(hostname))
            .and_then(|d| d.served.as_ref())
    }

    /// Adds an application (for use inside `Sim::update`).
    pub fn add_client(&mut self, client: SimClient) {
        self.clients.push(client);
    }

    /// Adds a connection (for use inside `Sim::update`); fills `provisioning_ticket_url` for
    /// enterprise strategies as Auth0 does.
    pub fn add_connection(&mut self, mut connection: SimConnection) {
        let enterprise = [
            "samlp",
            "pingfederate",
            "adfs",
            "waad",
            "ad",
            "oidc",
            "okta",
        ];
        if connection.provisioning_ticket_url.is_none()
            && enterprise.contains(&connection.strategy.as_str())
        {
            let ticket: String = connection
                .id
                .trim_start_matches("con_")
                .chars()
                .take(8)
                .collect();
            connection.provisioning_ticket_url = Some(format!(
                "https://{}/p/{}/{ticket}",
                self.domain, connection.strategy
            ));
        }
        self.connections.push(connection);
    }

    /// Adds a tenant signing key (for use inside `Sim::update`).
    pub fn add_signing_key(&mut self, key: SimSigningKey) {
        self.signing_keys.push(key);
    }

    /// Removes and returns an application.
    pub fn remove_client(&mut self, client_id: &str) -> Option<SimClient> {
        let i = self.clients.iter().position(|c| c.client_id == client_id)?;
        Some(self.clients.remove(i))
    }

    /// Removes and returns a connection.
    pub fn remove_connection(&mut self, id: &str) -> Option<SimConnection> {
        let i = self.connections.iter().position(|c| c.id == id)?;
        Some(self.connections.remove(i))
    }

    /// Removes and returns a signing key.
    pub fn remove_signing_key(&mut self, kid: &str) -> Option<SimSigningKey> {
        let i = self.signing_keys.iter().position(|k| k.kid == kid)?;
        Some(self.signing_keys.remove(i))
    }

    /// An application by id.
    pub fn get_client(&self, client_id: &str) -> Option<&SimClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// An application by id, mutable.
    pub fn client_mut(&mut self, client_id: &str) -> Option<&mut SimClient> {
        self.clients.iter_mut().find(|c| c.client_id == client_id)
    }

    /// A connection by id.
    pub fn get_connection(&self, id: &str) -> Option<&SimConnection> {
        self.connections.iter().find(|c| c.id == id)
    }

    /// A connection by id, mutable.
    pub fn connection_mut(&mut self, id: &str) -> Option<&mut SimConnection> {
        self.connections.iter_mut().find(|c| c.id == id)
    }

    /// A signing key by kid, mutable.
    pub fn signing_key_mut(&mut self, kid: &str) -> Option<&mut SimSigningKey> {
        self.signing_keys.iter_mut().find(|k| k.kid == kid)
    }

    /// Replaces the scopes of a machine-to-machine app (tokens issued later get them).
    pub fn set_scopes(&mut self, client_id: &str, scopes: &[&str]) {
        if let Some(app) = self.m2m_apps.iter_mut().find(|a| a.client_id == client_id) {
            app.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        }
    }

    /// The current signing key, if any.
    pub fn current_signing_key(&self) -> Option<&SimSigningKey> {
        self.signing_keys.iter().find(|k| k.current && !k.revoked)
    }

    /// What `POST /api/v2/keys/signing/rotate` does: the next key becomes current, the current
    /// one previous, and a new next key (5000-day certificate) is generated. Returns the new
    /// current key.
    pub fn rotate_signing_keys(&mut self) -> &SimSigningKey {
        let now = self.server_now();
        if !self.signing_keys.iter().any(|k| k.next && !k.revoked) {
            let key = SimSigningKey::generate(&self.domain, now).next();
            self.signing_keys.push(key);
        }
        for key in &mut self.signing_keys {
            if key.current {
                key.current = false;
                key.previous = true;
                key.current_until = Some(now);
            }
        }
        let promoted = self
            .signing_keys
            .iter()
            .position(|k| k.next && !k.revoked)
            .expect("a next key exists");
        let key = &mut self.signing_keys[promoted];
        key.next = false;
        key.current = true;
        key.current_since = Some(now);
        let next = SimSigningKey::generate(&self.domain, now).next();
        self.signing_keys.push(next);
        &self.signing_keys[promoted]
    }
}

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
        Self {
            kid: kid.to_owned(),
            cert: cert.pem_crlf(),
            pkcs7: cert.pkcs7_pem(),
            fingerprint: cert.fingerprint(),
            thumbprint: cert.thumbprint(),
            current: false,
            next: false,
            previous: false,
            revoked: false,
            current_since: None,
            current_until: None,
            revoked_at: None,
        }
    }

    /// A key whose `cert` is exactly `cert_text` (possibly garbage); digests are computed when
    /// it decodes, else left empty.
    pub fn from_raw(kid: &str, cert_text: &str) -> Self {
        let der = decode_cert_text(cert_text);
        Self {
            kid: kid.to_owned(),
            cert: cert_text.to_owned(),
            pkcs7: der.as_deref().map(pkcs7_pem).unwrap_or_default(),
            fingerprint: der.as_deref().map(fingerprint).unwrap_or_default(),
            thumbprint: der
                .as_deref()
                .map(|d| sha1_hex(d).to_ascii_uppercase())
                .unwrap_or_default(),
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
        let cert = super::certs::generate_cert(domain, now, now + SIGNING_CERT_VALIDITY);
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

    /// The ids referenced by `client_authentication_methods` and `signed_request_object`.
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

/// A connection (`GET /api/v2/connections` item).
#[derive(Clone, Debug, PartialEq)]
pub struct SimConnection {
    /// `con_…`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `strategy` (`samlp`, `pingfederate`, `adfs`, `waad`, `ad`, `oidc`, `okta`, `auth0`, …).
    pub strategy: String,
    /// `display_name`; absent when `None`.
    pub display_name: Option<String>,
    /// `options`, stored as Auth0 stores them (returned only with `read:connections_options`).
    pub options: Map<String, Value>,
    /// `is_domain_connection`.
    pub is_domain_connection: bool,
    /// `show_as_button`; absent when `None`.
    pub show_as_button: Option<bool>,
    /// `realms`.
    pub realms: Vec<String>,
    /// `enabled_clients`.
    pub enabled_clients: Vec<String>,
    /// `provisioning_ticket_url` (single-connection responses only); absent when `None`.
    pub provisioning_ticket_url: Option<String>,
    /// Connection keys (`/api/v2/connections/{id}/keys`), for oidc/okta with private_key_jwt.
    pub keys: Vec<SimConnectionKey>,
    /// What the connection's upstream IdP publishes, served by the simulator (see
    /// [`SimConnection::idp`]).
    pub idp: Option<SimIdp>,
    /// Any other top-level members (`authentication`, `connected_accounts`, `metadata`, …).
    pub extra: Map<String, Value>,
}

impl SimConnection {
    /// A connection with empty options, shaped like a 2026 Auth0 response.
    pub fn new(id: &str, name: &str, strategy: &str) -> Self {
        let mut extra = Map::new();
        extra.insert("authentication".into(), json!({ "active": true }));
        extra.insert("connected_accounts".into(), json!({ "active": false }));
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            strategy: strategy.to_owned(),
            display_name: Some(name.to_owned()),
            options: Map::new(),
            is_domain_connection: false,
            show_as_button: Some(false),
            realms: vec![name.to_owned()],
            enabled_clients: Vec::new(),
            provisioning_ticket_url: None,
            keys: Vec::new(),
            idp: None,
            extra,
        }
    }

    /// A SAML connection whose `signingCert` is exactly `signing_cert` (raw PEM, base64 of PEM,
    /// base64 DER, or garbage). When it decodes, `cert`, `expires`, `subject` and `thumbprints`
    /// are filled as Auth0 would; when it does not, only `signingCert` is there.
    pub fn samlp(id: &str, name: &str, signing_cert: &str) -> Self {
        let mut conn = Self::new(id, name, "samlp");
        conn.options = saml_defaults(name);
        conn.options
            .insert("signingCert".into(), Value::String(signing_cert.to_owned()));
        conn.recompute();
        conn
    }

    /// A PingFederate connection created with `signing_cert`; `signingCert` is write-only, so
    /// only the computed `cert`/`expires`/`subject`/`thumbprints` remain.
    pub fn pingfederate(id: &str, name: &str, signing_cert: &str) -> Self {
        let mut conn = Self::new(id, name, "pingfederate");
        let base = format!("https://sso.{name}.example.com");
        conn.options = object(json!({
            "pingFederateBaseUrl": base,
            "signInEndpoint": base,
            "signSAMLRequest": true,
            "digestAlgorithm": "sha256",
            "signatureAlgorithm": "rsa-sha256",
            "signingCert": signing_cert,
        }));
        conn.recompute();
        conn
    }

    /// An ADFS connection: only `thumbprints` (possibly empty), no certificate.
    pub fn adfs(id: &str, name: &str, thumbprints: &[&str]) -> Self {
        let mut conn = Self::new(id, name, "adfs");
        conn.options = object(json!({
            "adfs_server": format!(
                "https://adfs.{name}.example.com/FederationMetadata/2007-06/FederationMetadata.xml"
            ),
            "signInEndpoint": format!("https://adfs.{name}.example.com/adfs/ls/"),
            "thumbprints": thumbprints,
            "prev_thumbprints": [],
            "should_trust_email_verified_connection": "never_set_emails_as_verified",
        }));
        conn
    }

    /// An Azure AD connection with Auth0-managed `thumbprints` (shaped like the recorded one).
    pub fn waad(id: &str, name: &str, thumbprints: &[&str]) -> Self {
        let mut conn = Self::new(id, name, "waad");
        conn.show_as_button = Some(true);
        conn.options = object(json!({
            "client_id": format!("{name}-app-id"),
            "client_secret": "simulated-secret",
            "strategy_version": 2,
            "tenant_domain": format!("{name}.onmicrosoft.com"),
            "domain": format!("{name}.onmicrosoft.com"),
            "domain_aliases": [],
            "identity_api": "microsoft-identity-platform-v2.0",
            "waad_protocol": "openid-connect",
            "use_wsfed": false,
            "useCommonEndpoint": false,
            "api_enable_users": true,
            "basic_profile": true,
            "ext_profile": true,
            "ext_groups": false,
            "should_trust_email_verified_connection": "never_set_emails_as_verified",
            "userid_attribute": "oid",
            "thumbprints": thumbprints,
            "waad_common_endpoint": false,
        }));
        conn
    }

    /// An AD/LDAP connector connection with up to two `certs` (PEM strings); `thumbprints` are
    /// computed from them.
    pub fn ad(id: &str, name: &str, certs: &[&str]) -> Self {
        let mut conn = Self::new(id, name, "ad");
        conn.options = object(json!({
            "certs": certs,
            "ips": [],
            "brute_force_protection": true,
            "disable_cache": false,
        }));
        conn.recompute();
        conn
    }

    /// An OIDC back-channel connection authenticating with `private_key_jwt` (it has connection
    /// keys; add them with [`SimConnection::key`]).
    pub fn oidc(id: &str, name: &str) -> Self {
        let mut conn = Self::new(id, name, "oidc");
        let issuer = format!("https://login.{name}.example.com");
        conn.options = object(json!({
            "type": "back_channel",
            "client_id": format!("{name}-client"),
            "issuer": issuer,
            "discovery_url": format!("{issuer}/.well-known/openid-configuration"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "scope": "openid profile email",
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "RS256",
        }));
        conn
    }

    /// An Okta connection authenticating with `private_key_jwt`.
    pub fn okta(id: &str, name: &str) -> Self {
        let mut conn = Self::oidc(id, name);
        conn.strategy = "okta".into();
        conn.options
            .insert("domain".into(), json!(format!("{name}.okta.com")));
        conn
    }

    /// Sets one option (raw).
    pub fn option(mut self, key: &str, value: Value) -> Self {
        self.options.insert(key.to_owned(), value);
        self
    }

    /// Removes one option.
    pub fn without_option(mut self, key: &str) -> Self {
        self.options.remove(key);
        self
    }

    /// Sets `display_name`.
    pub fn display_name(mut self, display_name: &str) -> Self {
        self.display_name = Some(display_name.to_owned());
        self
    }

    /// Adds a connection key.
    pub fn key(mut self, key: SimConnectionKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Makes the simulator play this connection's upstream IdP, publishing what `idp` says, and
    /// points the connection's options at it: samlp (and other SAML-like strategies)
    /// `options.metadataUrl`, adfs `options.adfs_server`, oidc/okta `options.discovery_url` and
    /// `options.jwks_uri`. The URLs start with [`SIM_BASE_URL`], which the simulator replaces by
    /// its own address in every response.
    pub fn idp(mut self, idp: SimIdp) -> Self {
        use super::routes::{IdpDocument, idp_path};
        let url = |doc| Value::String(format!("{SIM_BASE_URL}{}", idp_path(&self.id, doc)));
        let urls: Vec<(&str, Value)> = match self.strategy.as_str() {
            "adfs" => vec![("adfs_server", url(IdpDocument::FederationMetadata))],
            "oidc" | "okta" => vec![
                ("discovery_url", url(IdpDocument::OidcDiscovery)),
                ("jwks_uri", url(IdpDocument::OidcJwks)),
            ],
            _ => vec![("metadataUrl", url(IdpDocument::SamlMetadata))],
        };
        for (key, value) in urls {
            self.options.insert(key.to_owned(), value);
        }
        self.idp = Some(idp);
        self
    }

    /// Sets the SAML SP signing key `options.signing_key = {key, cert}`.
    pub fn sp_signing_key(self, key_pem: &str, cert_pem: &str) -> Self {
        self.option("signing_key", json!({ "key": key_pem, "cert": cert_pem }))
    }

    /// Sets `options.decryptionKey = {key, cert}`.
    pub fn decryption_key(self, key_pem: &str, cert_pem: &str) -> Self {
        self.option("decryptionKey", json!({ "key": key_pem, "cert": cert_pem }))
    }

    /// Sets `options.decryptionKey` to a PEM string (the other accepted form).
    pub fn decryption_key_pem(self, pem: &str) -> Self {
        self.option("decryptionKey", json!(pem))
    }

    /// Re-applies what Auth0 computes from certificates (samlp/pingfederate `cert`, `expires`,
    /// `subject`, `thumbprints`; ad `thumbprints`); an undecodable
    /// `signingCert` is left as it is.
    pub fn recompute(&mut self) {
        let _ = apply_computed(&self.strategy, &mut self.options, None);
    }

    /// A connection exactly as in a recorded Auth0 response body (unknown members kept).
    pub fn from_json(body: &Value) -> Self {
        let mut obj = body.as_object().cloned().unwrap_or_default();
        let mut take_str = |key: &str| match obj.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        let id = take_str("id").unwrap_or_default();
        let name = take_str("name").unwrap_or_default();
        let strategy = take_str("strategy").unwrap_or_default();
        let display_name = take_str("display_name");
        let provisioning_ticket_url = take_str("provisioning_ticket_url");
        let strings = |v: Option<Value>| -> Vec<String> {
            v.and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default()
        };
        Self {
            options: match obj.remove("options") {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            },
            is_domain_connection: obj
                .remove("is_domain_connection")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
            show_as_button: obj.remove("show_as_button").and_then(|v| v.as_bool()),
            realms: strings(obj.remove("realms")),
            enabled_clients: strings(obj.remove("enabled_clients")),
            keys: Vec::new(),
            idp: None,
            extra: obj,
            id,
            name,
            strategy,
            display_name,
            provisioning_ticket_url,
        }
    }
}

fn saml_defaults(name: &str) -> Map<String, Value> {
    let idp = format!("https://idp.{name}.example.com/saml");
    object(json!({
        "signInEndpoint": format!("{idp}/sso"),
        "signOutEndpoint": format!("{idp}/slo"),
        "signSAMLRequest": true,
        "signatureAlgorithm": "rsa-sha256",
        "digestAlgorithm": "sha256",
        "protocolBinding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        "fieldsMap": { "email": "EmailAddress" },
        "tenant_domain": format!("{name}.example.com"),
        "strategy_version": 2,
    }))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The placeholder for the simulator's base URL (`http://127.0.0.1:PORT/`) in tenant data: the
/// address is only known once the simulator listens, so IdP URLs in connection options are
/// stored with this prefix and every response carries the real address instead.
pub const SIM_BASE_URL: &str = "http://certwatch-sim.invalid/";

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

/// A connection key (`GET /api/v2/connections/{id}/keys` item).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConnectionKey {
    /// Key id.
    pub kid: String,
    /// `algorithm`, e.g. `RS256`.
    pub algorithm: String,
    /// `key_use`, `signing`.
    pub key_use: String,
    /// `subject_dn`, `/CN={connection name}`.
    pub subject_dn: String,
    /// Certificate PEM with `\r\n`.
    pub cert: String,
    /// PKCS#7 PEM (the member is called `pkcs`).
    pub pkcs: String,
    /// Upper-case colon hex SHA-1.
    pub fingerprint: String,
    /// Upper-case hex SHA-1.
    pub thumbprint: String,
    /// In use.
    pub current: bool,
    /// Pre-generated for the next rotation.
    pub next: bool,
    /// Used before the last rotation.
    pub previous: bool,
    /// When it became current.
    pub current_since: Option<OffsetDateTime>,
}

impl SimConnectionKey {
    /// A key for connection `connection_name` made from `cert`, with no role flags.
    pub fn from_cert(kid: &str, cert: &GeneratedCert, connection_name: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            algorithm: "RS256".into(),
            key_use: "signing".into(),
            subject_dn: format!("/CN={connection_name}"),
            cert: cert.pem_crlf(),
            pkcs: cert.pkcs7_pem(),
            fingerprint: cert.fingerprint(),
            thumbprint: cert.thumbprint(),
            current: false,
            next: false,
            previous: false,
            current_since: None,
        }
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

    /// Marks the key previous.
    pub fn previous(mut self) -> Self {
        self.previous = true;
        self
    }
}

/// A random id of `len` characters from `[A-Za-z0-9]` (the alphabet of Auth0 ids).
pub fn random_id(len: usize) -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::certs::generate_cert;
    use time::macros::datetime;

    #[test]
    fn samlp_builder_computes_like_auth0_and_tolerates_garbage() {
        let cert = generate_cert(
            "idp",
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2026-01-01 00:00 UTC),
        );
        let good = SimConnection::samlp("con_1", "acme", &cert.base64_der());
        assert_eq!(good.options["thumbprints"], json!([cert.sha1_hex]));
        assert_eq!(good.options["signingCert"], json!(cert.base64_der()));
        let bad = SimConnection::samlp("con_2", "broken", "garbage");
        assert_eq!(bad.options["signingCert"], json!("garbage"));
        assert!(!bad.options.contains_key("cert"));
        assert!(!bad.options.contains_key("thumbprints"));
    }

    #[test]
    fn rotation_promotes_next_and_demotes_current() {
        let t0 = datetime!(2025-01-01 00:00 UTC);
        let now = datetime!(2025-06-01 00:00 UTC);
        let cur = generate_cert("t", t0, t0 + SIGNING_CERT_VALIDITY);
        let nxt = generate_cert("t", t0, t0 + SIGNING_CERT_VALIDITY);
        let mut tenant = SimTenant::new("acme.eu.auth0.com")
            .at(now)
            .signing_key(SimSigningKey::from_cert("cur", &cur).current(t0))
            .signing_key(SimSigningKey::from_cert("nxt", &nxt).next());
        let promoted = tenant.rotate_signing_keys().kid.clone();
        assert_eq!(promoted, "nxt");
        let flags: Vec<_> = tenant
            .signing_keys
            .iter()
            .map(|k| (k.kid.len(), k.current, k.next, k.previous))
            .collect();
        assert_eq!(
            flags,
            vec![
                (3, false, false, true),
                (3, true, false, false),
                (21, false, true, false)
            ]
        );
        assert_eq!(tenant.signing_keys[0].current_until, Some(now));
        assert_eq!(tenant.signing_keys[1].current_since, Some(now));
    }

    #[test]
    fn referenced_credentials_cover_methods_and_jar() {
        let client = SimClient::new("c", "app")
            .private_key_jwt(&["cred_a", "cred_b"])
            .signed_request_object(true, &["cred_c"]);
        assert_eq!(
            client.referenced_credential_ids(),
            vec!["cred_a", "cred_b", "cred_c"]
        );
    }

    #[test]
    fn tenant_name_and_ticket_urls() {
        let tenant = SimTenant::new("acme-prod.eu.auth0.com").connection(SimConnection::adfs(
            "con_abcdefghij",
            "corp",
            &[],
        ));
        assert_eq!(tenant.tenant_name, "acme-prod");
        assert_eq!(
            tenant.connections[0].provisioning_ticket_url.as_deref(),
            Some("https://acme-prod.eu.auth0.com/p/adfs/abcdefgh")
        );
    }
}
