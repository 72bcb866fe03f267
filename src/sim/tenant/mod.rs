//! The simulated tenant's data: signing keys, clients (with credentials), connections (with
//! options and keys), custom domains and the machine-to-machine apps allowed to get tokens, plus
//! the builders and mutators tests use to set up and change it.
//!
//! Certificates are held as raw strings exactly as Auth0 returns them, so tests can put anything
//! there (garbage, base64 of PEM, base64 DER, `\r\n` PEM, literal `\\n` escapes, chains). The
//! `from_cert`/typed constructors fill them the way Auth0 would. Nothing here reads the clock:
//! every time is an argument, and `now` (when set) is the server's notion of the present.
//!
//! # Layout
//! - this file: [`SimTenant`] (what it holds, its builders and mutators), the M2M apps, the
//!   public JWKS departures, [`SIM_BASE_URL`] and [`random_id`].
//! - `signing_keys`: tenant signing keys ([`SimSigningKey`]).
//! - `clients`: applications and their credentials ([`SimClient`], [`SimCredential`], …).
//! - `connections`: connections and connection keys ([`SimConnection`], [`SimConnectionKey`]).
//! - `idp`: what a connection's upstream IdP publishes ([`SimIdp`]).
//! - `custom_domains`: custom domains and the chains their servers present
//!   ([`SimCustomDomain`], [`SimServedChain`], …).

mod clients;
mod connections;
mod custom_domains;
mod idp;
mod signing_keys;

pub use clients::{SimClient, SimClientSigningKey, SimCredential, SimEncryptionKey};
pub use connections::{SimConnection, SimConnectionKey};
pub use custom_domains::{SimCustomDomain, SimDomainCertificate, SimServedChain};
pub use idp::SimIdp;
pub use signing_keys::{SIGNING_CERT_VALIDITY, SimSigningKey};

use time::OffsetDateTime;

use super::certs::GeneratedCert;

/// Set `{member}.{key}` = `value` among an object's top-level members (`client_metadata`,
/// connection `metadata`: string pairs).
fn set_metadata(
    extra: &mut serde_json::Map<String, serde_json::Value>,
    member: &str,
    key: &str,
    value: &str,
) {
    if let serde_json::Value::Object(m) = extra
        .entry(member)
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()))
    {
        m.insert(key.to_owned(), serde_json::Value::String(value.to_owned()));
    }
}

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
    /// Custom signing keys (`/api/v2/keys/custom-signing`, also prepended to the public JWKS).
    pub custom_signing_keys: Vec<SimCustomSigningKey>,
    /// The tenant's SAML SP certificate served at `/pem?cert=connection` as PEM; `None` = 404.
    pub saml_sp_cert: Option<String>,
    /// `mtls.enable_endpoint_aliases` of `/api/v2/tenants/settings`: custom domains also serve
    /// the mTLS endpoints at `mtls.{domain}`.
    pub mtls_endpoint_aliases: bool,
}

/// A custom signing key: a JWK made from a certificate's public key, with the certificate as
/// `x5c` unless `with_x5c` is false (a bare key, which Auth0 accepts too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimCustomSigningKey {
    /// `kid`.
    pub kid: String,
    /// The certificate (DER) whose key the JWK holds.
    pub der: Vec<u8>,
    /// Whether the JWK carries `x5c`/`x5t`.
    pub with_x5c: bool,
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
            custom_signing_keys: Vec::new(),
            saml_sp_cert: None,
            mtls_endpoint_aliases: false,
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

    /// Adds a custom signing key holding `cert` (as `x5c` when `with_x5c`).
    pub fn custom_signing_key(mut self, kid: &str, cert: &GeneratedCert, with_x5c: bool) -> Self {
        self.custom_signing_keys.push(SimCustomSigningKey {
            kid: kid.to_owned(),
            der: cert.der.clone(),
            with_x5c,
        });
        self
    }

    /// Turns on `mtls.enable_endpoint_aliases` in the tenant settings.
    pub fn mtls_endpoint_aliases(mut self) -> Self {
        self.mtls_endpoint_aliases = true;
        self
    }

    /// Sets the SAML SP certificate served at `/pem?cert=connection`.
    pub fn saml_sp_cert(mut self, cert: &GeneratedCert) -> Self {
        self.saml_sp_cert = Some(cert.pem_crlf());
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
        let alias = hostname
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("mtls."))
            .map(|_| &hostname[5..]);
        self.custom_domains.iter().find_map(|d| {
            if d.domain.eq_ignore_ascii_case(hostname) {
                d.served.as_ref()
            } else if alias.is_some_and(|a| d.domain.eq_ignore_ascii_case(a)) {
                d.mtls_served.as_ref()
            } else {
                None
            }
        })
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

/// The placeholder for the simulator's base URL (`http://127.0.0.1:PORT/`) in tenant data: the
/// address is only known once the simulator listens, so IdP URLs in connection options are
/// stored with this prefix and every response carries the real address instead.
pub const SIM_BASE_URL: &str = "http://certwatch-sim.invalid/";

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
mod tests;
