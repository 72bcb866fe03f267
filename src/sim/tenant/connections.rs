//! Connections (`GET /api/v2/connections`) with their options stored as Auth0 stores them, one
//! builder per enterprise strategy (computed certificate members filled the way Auth0 does), and
//! connection keys (`GET /api/v2/connections/{id}/keys`) of oidc/okta connections.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{SIM_BASE_URL, SimIdp};
use crate::sim::certs::GeneratedCert;
use crate::sim::options::apply_computed;

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

    /// Sets `metadata.{key}` (string key/value pairs, like Auth0's).
    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        super::set_metadata(&mut self.extra, "metadata", key, value);
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
        use crate::sim::routes::{IdpDocument, idp_path};
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

    /// Makes it an encryption key (`key_use: "encryption"`).
    pub fn encryption(mut self) -> Self {
        self.key_use = "encryption".into();
        self
    }
}
