//! Ready-made tenants: [`tenant`] is the built-in tenant of `certwatch demo` (a few dozen
//! certificates of every kind and status), [`scaled`] generates large tenants for benchmarks.
//!
//! Both take `now` and place every expiry relative to it; ids are derived from names, so they are
//! stable across runs (certificates, and so thumbprints, are generated afresh each time).

use base64::Engine as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use super::certs::{CertFactory, GeneratedCert, generate_cert, generate_chain};
use super::tenant::{
    SIGNING_CERT_VALIDITY, SimClient, SimClientSigningKey, SimConnection, SimConnectionKey,
    SimCredential, SimCustomDomain, SimIdp, SimServedChain, SimSigningKey, SimTenant,
};

/// Domain of the demo tenant.
pub const DEMO_DOMAIN: &str = "demo.certwatch.local";
/// Client id of the demo's machine-to-machine app (the one certwatch authenticates as).
pub const DEMO_CLIENT_ID: &str = "certwatch-demo-m2m";
/// Client secret of the demo's machine-to-machine app.
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-not-for-production";
/// Scopes granted to the demo app: every read scope certwatch uses.
pub const DEMO_SCOPES: &[&str] = &[
    "read:signing_keys",
    "read:clients",
    "read:client_keys",
    "read:client_credentials",
    "read:connections",
    "read:connections_options",
    "read:connections_keys",
    "read:custom_domains",
    "read:custom_signing_keys",
    "read:tenant_settings",
];

/// The demo's Auth0-managed custom domain with a provisioned certificate (renews in 60 days).
pub const DEMO_DOMAIN_PROVISIONED: &str = "login.acme-demo.example.com";
/// The demo's Auth0-managed custom domain whose certificate renewal failed.
pub const DEMO_DOMAIN_RENEWAL_FAILED: &str = "sso.acme-demo.example.com";
/// The demo's self-managed custom domain: its chain (leaf expiring in 12 days) is served by the
/// simulator's TLS listener (`Sim::tls_addr`, SNI = this name), so it is the one to probe.
pub const DEMO_DOMAIN_SELF_MANAGED: &str = "id.acme-demo.example.com";
/// Every custom domain of the demo tenant, in list order.
pub const DEMO_CUSTOM_DOMAINS: &[&str] = &[
    DEMO_DOMAIN_PROVISIONED,
    DEMO_DOMAIN_RENEWAL_FAILED,
    DEMO_DOMAIN_SELF_MANAGED,
];
/// The custom domains whose certificate only a TLS probe can see (self-managed).
pub const DEMO_PROBE_DOMAINS: &[&str] = &[DEMO_DOMAIN_SELF_MANAGED];

/// The kid of the demo's `next` signing key, which the demo's public JWKS leaves out
/// (`jwks_mismatch`).
pub fn demo_jwks_missing_kid() -> String {
    stable_id("", "sk-next", 21)
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// A deterministic Auth0-looking id: `prefix` + `len` characters of `[A-Za-z0-9]` from `seed`.
fn stable_id(prefix: &str, seed: &str, len: usize) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let alnum: String = base64::engine::general_purpose::STANDARD_NO_PAD
        .encode(Sha256::digest(digest))
        .chars()
        .chain(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .encode(digest)
                .chars(),
        )
        .filter(char::is_ascii_alphanumeric)
        .take(len)
        .collect();
    format!("{prefix}{alnum}")
}

fn con_id(name: &str) -> String {
    stable_id("con_", name, 16)
}

fn cred_id(name: &str) -> String {
    stable_id("cred_", name, 22)
}

fn client_id(name: &str) -> String {
    stable_id("", name, 32)
}

/// A certificate valid from `age` days ago until `left` days from `now`.
fn cert(cn: &str, now: OffsetDateTime, age: i64, left: i64) -> GeneratedCert {
    generate_cert(cn, now - days(age), now + days(left))
}

/// The demo tenant. What it holds (status with the default 30d/7d thresholds):
///
/// - **Tenant signing keys** (`CN=demo.certwatch.local`): current (ok, ~12 years left), next
///   (ok), previous (expires in 10 days — not alerting, role `previous`), revoked (expired).
/// - **SAML connections** (`samlp`): `acme-okta-saml` expired 2 days ago (raw PEM),
///   `initech-saml` critical, 3 days (base64 of a CRLF PEM), `umbrella-saml` warning, 20 days
///   (base64 DER), `contoso-saml` ok (raw PEM with `\r\n`), `hooli-saml` ok (`cert` and
///   `signingCert` identical strings), `stark-saml` warning, 25 days (`signingCert` only, no
///   `cert`), `broken-idp-saml` unparseable (garbage `signingCert`, no `cert`),
///   `legacy-thumbprint-saml` (thumbprint only), `partner-portal-saml` ok IdP cert plus an SP
///   `signing_key` (ok) and a `decryptionKey` {key, cert} (warning, 12 days), `globex-saml`
///   ok with a PEM-string `decryptionKey`.
/// - `acme-pingfederate` (ok, 180 days), `contoso-adfs` (2 thumbprints), `acme-azure-ad`
///   (`waad`, 3 thumbprints), `corp-ldap` (`ad`, two `certs`: ok and 45 days).
/// - `partner-oidc` (`oidc`, private_key_jwt) keys: current (ok), next (ok), previous (9 days,
///   not alerting); `workforce-okta` (`okta`) keys: current (critical, 6 days), next (ok).
/// - `Username-Password-Authentication` (`auth0`) and `google-oauth2` without certificates.
/// - **Clients**: "All Applications" (global, skipped), `certwatch` (this app, nothing),
///   `billing-api` (private_key_jwt, two in-use public_key credentials: critical 5 days and ok),
///   `partner-gateway` (tls_client_auth, cert_subject_dn credential: never expires),
///   `iot-fleet-manager` (self_signed_tls_client_auth x509 credential in use, ok; a second x509
///   credential unused and expired), `mobile-banking` (signed_request_object, public_key with
///   `expires_at: null`: never expires), `reporting-batch` (public_key unused, ok 90 days),
///   `legacy-payments` (private_key_jwt credential in use, expired 4 days ago),
///   `wsfed-intranet` (`encryption_key` warning, 18 days), `legacy-sso-app` (own
///   `signing_keys` cert, 60 days: differs from the tenant key), and plain `customer-portal`,
///   `admin-dashboard`, `marketing-site`. Every client without its own `signing_keys` shows the
///   tenant's current signing certificate, as real Auth0 does.
///
/// What lies outside the Management API listings (docs/findings.md, served by the simulator):
///
/// - **Public JWKS** (`/.well-known/jwks.json`): current and previous keys, but not the `next`
///   one ([`demo_jwks_missing_kid`]) → `jwks_mismatch`.
/// - **IdP metadata**: `contoso-saml`'s IdP publishes its trusted certificate plus a new one
///   (→ `idp_new_certificate`); `globex-saml`'s IdP rolled over: it publishes only a new
///   certificate (→ `idp_certificate_withdrawn`, and `idp_new_certificate` for the new one) and
///   its metadata `validUntil` is 5 days away (→ `metadata_expiring`); `contoso-adfs`'s
///   FederationMetadata.xml publishes the primary (20 days, warning) and secondary token-signing
///   certificates, whose SHA-1s are the connection's two thumbprints; `partner-oidc`'s
///   `discovery_url` leads to a JWKS whose `x5c` certificate expires in 10 days.
/// - **Custom domains** (`/api/v2/custom-domains`): [`DEMO_DOMAIN_PROVISIONED`] (Auth0-managed,
///   renews before 60 days from now), [`DEMO_DOMAIN_RENEWAL_FAILED`] (Auth0-managed,
///   `renewing_failed` with an `error_msg` → `custom_domain_certificate_failed`) and
///   [`DEMO_DOMAIN_SELF_MANAGED`] (self-managed; the TLS listener serves its chain, leaf
///   expiring in 12 days).
pub fn tenant(now: OffsetDateTime) -> SimTenant {
    let mut t = SimTenant::new(DEMO_DOMAIN).m2m(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SCOPES);
    t = with_signing_keys(t, now);
    t = with_connections(t, now);
    t = with_custom_domains(t, now);
    t = with_tenant_keys(t, now);
    t = with_clients(t, now);
    with_saml_apps(t, now)
}

/// The custom signing keys (one with a certificate expiring in 40 days, one bare key that is not
/// a record) and the tenant's SAML SP certificate (`/pem?cert=connection`).
fn with_tenant_keys(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let custom = cert("custom-signing.acme-demo.example.com", now, 325, 40);
    let bare = cert("custom-signing-bare.acme-demo.example.com", now, 10, 355);
    let saml_sp = cert(DEMO_DOMAIN, now, 400, 4600);
    t.custom_signing_key(&stable_id("", "custom-signing-2025", 21), &custom, true)
        .custom_signing_key(&stable_id("", "custom-signing-bare", 21), &bare, false)
        .saml_sp_cert(&saml_sp)
}

/// Applications with the SAML2 Web App add-on: `expense-saml` validates AuthnRequests with a
/// certificate expiring in 25 days; `vendor-saml` with a bare public key (not a record). And
/// `ai-agent`, whose only credential is referenced by `token_vault_privileged_access`.
fn with_saml_apps(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let expense = cert("sp.expense.example.com", now, 340, 25);
    let vendor = cert("sp.vendor.example.com", now, 30, 700);
    let spki = super::options::CertFacts::from_der(&vendor.der)
        .map(|f| f.spki_der)
        .unwrap_or_default();
    let vendor_key = super::certs::pem_encode("PUBLIC KEY", &spki, "\n", true);
    let vault = SimCredential::public_key(
        &cred_id("ai-agent-token-vault"),
        "ai-agent-token-vault",
        now - days(30),
        None,
    );
    let app = |name: &str| SimClient::new(&client_id(name), name).app_type("regular_web");
    let addon = |pem: &str| json!({ "samlp": { "signingCert": pem, "audience": "urn:sp" } });
    t.client(
        app("expense-saml")
            .field("addons", addon(&expense.pem))
            .metadata("certwatch_owner", "finance-apps"),
    )
    .client(app("vendor-saml").field("addons", addon(&vendor_key)))
    .client(
        app("ai-agent")
            .app_type("non_interactive")
            .field(
                "token_vault_privileged_access",
                json!({
                    "credentials": [{ "id": vault.id }],
                    "grants": [{ "connection": "google-oauth2", "scopes": ["openid"] }],
                }),
            )
            .credential(vault.clone()),
    )
}

fn with_custom_domains(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let created = now - days(300);
    let cd_id = |name: &str| stable_id("cd_", name, 16);
    let (leaf, ca) = generate_chain(DEMO_DOMAIN_SELF_MANAGED, now - days(78), now + days(12));
    // The mTLS endpoint alias has a certificate of its own (a warning: 20 days left).
    let mtls_host = format!("mtls.{DEMO_DOMAIN_SELF_MANAGED}");
    let (mtls_leaf, mtls_ca) = generate_chain(&mtls_host, now - days(70), now + days(20));
    t.custom_domain(
        SimCustomDomain::auth0_managed(
            &cd_id(DEMO_DOMAIN_PROVISIONED),
            DEMO_DOMAIN_PROVISIONED,
            created,
        )
        .provisioned(now + days(60))
        .verified("verified", now - days(1))
        .primary(true),
    )
    .custom_domain(
        SimCustomDomain::auth0_managed(
            &cd_id(DEMO_DOMAIN_RENEWAL_FAILED),
            DEMO_DOMAIN_RENEWAL_FAILED,
            created,
        )
        .renewing_failed(
            now + days(9),
            "The CNAME record of sso.acme-demo.example.com no longer points to the Auth0 edge; \
             the certificate cannot be renewed",
        )
        .verified("failed", now - days(2)),
    )
    .custom_domain(
        SimCustomDomain::self_managed(
            &cd_id(DEMO_DOMAIN_SELF_MANAGED),
            DEMO_DOMAIN_SELF_MANAGED,
            created,
            SimServedChain::new(&leaf, &[&ca]),
        )
        .mtls_alias(SimServedChain::new(&mtls_leaf, &[&mtls_ca])),
    )
    .mtls_endpoint_aliases()
}

fn with_signing_keys(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let d = DEMO_DOMAIN;
    let current_since = now - days(400);
    let current = generate_cert(d, current_since, current_since + SIGNING_CERT_VALIDITY);
    let next = generate_cert(d, now - days(10), now - days(10) + SIGNING_CERT_VALIDITY);
    let previous = generate_cert(d, now - days(4990), now + days(10));
    let revoked = generate_cert(d, now - days(5030), now - days(30));
    let mut revoked_key = SimSigningKey::from_cert(&stable_id("", "sk-revoked", 21), &revoked)
        .revoked(now - days(60));
    revoked_key.current_since = Some(now - days(5030));
    revoked_key.current_until = Some(now - days(4990));
    t.signing_key(
        SimSigningKey::from_cert(&stable_id("", "sk-current", 21), &current).current(current_since),
    )
    .signing_key(SimSigningKey::from_cert(&demo_jwks_missing_kid(), &next).next())
    .signing_key(
        SimSigningKey::from_cert(&stable_id("", "sk-previous", 21), &previous)
            .previous(now - days(4990), current_since),
    )
    .signing_key(revoked_key)
    .jwks_without(&demo_jwks_missing_kid())
}

fn saml(name: &str, signing_cert: &str) -> SimConnection {
    SimConnection::samlp(&con_id(name), name, signing_cert)
}

/// Every demo connection, in list order: database and social, SAML, thumbprint-based enterprise
/// strategies, then the keyed OIDC ones.
fn with_connections(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let t = with_certificateless_connections(t);
    let t = with_saml_connections(t, now);
    let t = with_thumbprint_connections(t, now);
    with_keyed_connections(t, now)
}

/// A certificate of the IdP `idp.{name}.example.com`.
fn idp_cert(name: &str, now: OffsetDateTime, age: i64, left: i64) -> GeneratedCert {
    cert(&format!("idp.{name}.example.com"), now, age, left)
}

/// A stable fake SHA-1 thumbprint (hex) derived from `seed`.
fn thumb(seed: &str) -> String {
    hex::encode(&Sha256::digest(seed.as_bytes())[..20])
}

/// `Username-Password-Authentication` (`auth0`) and `google-oauth2`: no certificates.
fn with_certificateless_connections(t: SimTenant) -> SimTenant {
    t.connection(SimConnection::new(
        &con_id("Username-Password-Authentication"),
        "Username-Password-Authentication",
        "auth0",
    ))
    .connection(
        SimConnection::new(&con_id("google-oauth2"), "google-oauth2", "google-oauth2")
            .option("scope", json!(["email", "profile"])),
    )
}

/// The `samlp` connections: one per status and per encoding of `signingCert`, SP keys, and the
/// two whose upstream IdP publishes metadata (docs/findings.md).
fn with_saml_connections(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let idp = |name: &str, age: i64, left: i64| idp_cert(name, now, age, left);
    let expired = idp("acme-okta", 732, -2);
    let critical = idp("initech", 362, 3);
    let warning = idp("umbrella", 345, 20);
    let healthy = idp("contoso", 100, 630);
    let identical = idp("hooli", 30, 700);
    let no_cert = idp("stark", 340, 25);
    let portal = idp("partner-portal", 50, 1000);
    let globex = idp("globex", 10, 355);
    let sp_signing = cert("sp.demo.certwatch.local", now, 20, 345);
    let decryption = cert("decrypt.demo.certwatch.local", now, 353, 12);
    let globex_decryption = cert("decrypt-globex.demo.certwatch.local", now, 5, 725);
    // What the upstream IdPs publish (docs/findings.md).
    let contoso_new = idp("contoso", 0, 1095);
    let globex_rolled = idp("globex", 3, 727);

    t.connection(saml("acme-okta-saml", &expired.pem))
        .connection(
            saml("initech-saml", &critical.base64_pem_crlf())
                .metadata("certwatch_owner", "partner-integrations"),
        )
        .connection(saml("umbrella-saml", &warning.base64_der()))
        .connection(
            saml("contoso-saml", &healthy.pem_crlf())
                .idp(SimIdp::publishing(&[&healthy, &contoso_new])),
        )
        .connection(saml("hooli-saml", &identical.pem_lf_trimmed()))
        .connection(saml("stark-saml", &no_cert.base64_pem_crlf()).without_option("cert"))
        .connection(saml(
            "broken-idp-saml",
            "MIIBroken-this-is-not-a-certificate==",
        ))
        .connection(
            saml("legacy-thumbprint-saml", "")
                .without_option("signingCert")
                .option("thumbprints", json!([thumb("legacy-thumbprint-saml")])),
        )
        .connection(
            saml("partner-portal-saml", &portal.base64_pem())
                .sp_signing_key(&sp_signing.key_pem, &sp_signing.pem)
                .decryption_key(&decryption.key_pem, &decryption.pem),
        )
        .connection(
            saml("globex-saml", &globex.pem)
                .decryption_key_pem(&globex_decryption.pem)
                .idp(SimIdp::publishing(&[&globex_rolled]).valid_until(now + days(5))),
        )
}

/// `acme-pingfederate`, `contoso-adfs` (its FederationMetadata.xml served), `acme-azure-ad`
/// (`waad`) and `corp-ldap` (`ad`): certificates known by thumbprint or computed from `certs`.
fn with_thumbprint_connections(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let ping = idp_cert("pingfederate", now, 185, 180);
    let ldap_a = cert("ldap-connector-a.corp.example.com", now, 300, 430);
    let ldap_b = cert("ldap-connector-b.corp.example.com", now, 320, 45);
    let adfs_primary = cert("adfs.contoso-adfs.example.com", now, 345, 20);
    let adfs_secondary = cert("adfs.contoso-adfs.example.com", now, 5, 385);

    t.connection(SimConnection::pingfederate(
        &con_id("acme-pingfederate"),
        "acme-pingfederate",
        &ping.base64_pem_crlf(),
    ))
    .connection(
        SimConnection::adfs(
            &con_id("contoso-adfs"),
            "contoso-adfs",
            &[&adfs_primary.sha1_hex, &adfs_secondary.sha1_hex],
        )
        .idp(SimIdp::publishing(&[&adfs_primary, &adfs_secondary])),
    )
    .connection(SimConnection::waad(
        &con_id("acme-azure-ad"),
        "acme-azure-ad",
        &[&thumb("waad-1"), &thumb("waad-2"), &thumb("waad-3")],
    ))
    .connection(SimConnection::ad(
        &con_id("corp-ldap"),
        "corp-ldap",
        &[&ldap_a.pem, &ldap_b.pem],
    ))
}

/// A connection key of `connection` whose kid derives from `seed`.
fn connection_key(seed: &str, cert: &GeneratedCert, connection: &str) -> SimConnectionKey {
    SimConnectionKey::from_cert(&stable_id("", seed, 43), cert, connection)
}

/// `partner-oidc` (`oidc`) and `workforce-okta` (`okta`): private_key_jwt with connection keys,
/// and an upstream discovery document and JWKS served by the simulator.
fn with_keyed_connections(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let oidc_name = "partner-oidc";
    let oidc_current = cert(oidc_name, now, 100, 265);
    let oidc_next = cert(oidc_name, now, 100, 265);
    let oidc_previous = cert(oidc_name, now, 356, 9);
    let okta_name = "workforce-okta";
    let okta_current = cert(okta_name, now, 359, 6);
    let okta_next = cert(okta_name, now, 1, 364);
    let oidc_upstream = cert("login.partner-oidc.example.com", now, 355, 10);
    // Served by the simulator too, so the demo never fetches from outside (ok, 300 days).
    let okta_upstream = cert("workforce-okta.example.com", now, 65, 300);

    t.connection(
        SimConnection::oidc(&con_id(oidc_name), oidc_name)
            .idp(SimIdp::publishing(&[&oidc_upstream]))
            .key(connection_key("oidc-cur", &oidc_current, oidc_name).current(now - days(100)))
            .key(connection_key("oidc-prev", &oidc_previous, oidc_name).previous())
            .key(connection_key("oidc-next", &oidc_next, oidc_name).next()),
    )
    .connection(
        SimConnection::okta(&con_id(okta_name), okta_name)
            .metadata("certwatch_owner", "workforce-it")
            .key(connection_key("okta-cur", &okta_current, okta_name).current(now - days(359)))
            .key(connection_key("okta-next", &okta_next, okta_name).next())
            .idp(SimIdp::publishing(&[&okta_upstream])),
    )
}

fn with_clients(t: SimTenant, now: OffsetDateTime) -> SimTenant {
    let created = now - days(200);
    let pk = |name: &str, left: Option<i64>| {
        SimCredential::public_key(&cred_id(name), name, created, left.map(|d| now + days(d)))
    };
    let billing_a = pk("billing-api-2024", Some(5));
    let billing_b = pk("billing-api-2025", Some(300));
    let gateway = SimCredential::cert_subject_dn(
        &cred_id("partner-gateway-mtls"),
        "partner-gateway-mtls",
        "C=US\nO=Partner Inc\nCN=gateway.partner.example.com",
        created,
    );
    let iot_cert = cert("iot-fleet-manager.demo.certwatch.local", now, 165, 200);
    let iot_old = cert("iot-fleet-manager-old.demo.certwatch.local", now, 375, -10);
    let iot = SimCredential::x509_cert(
        &cred_id("iot-fleet-2025"),
        "iot-fleet-2025",
        &iot_cert,
        created,
    );
    let iot_unused = SimCredential::x509_cert(
        &cred_id("iot-fleet-2024"),
        "iot-fleet-2024",
        &iot_old,
        now - days(375),
    );
    let banking = pk("mobile-banking-jar", None);
    let reporting = pk("reporting-batch-key", Some(90));
    let legacy = pk("legacy-payments-key", Some(-4));
    let wsfed = cert("wsfed-intranet.demo.certwatch.local", now, 347, 18);
    let legacy_sso = cert("legacy-sso-app.demo.certwatch.local", now, 305, 60);

    let client =
        |name: &str, app_type: &str| SimClient::new(&client_id(name), name).app_type(app_type);
    t.global_client(&client_id("All Applications"))
        .client(
            SimClient::new(DEMO_CLIENT_ID, "certwatch")
                .app_type("non_interactive")
                .field(
                    "description",
                    json!("certwatch certificate monitor (read-only)"),
                ),
        )
        .client(
            client("billing-api", "non_interactive")
                .private_key_jwt(&[&billing_a.id, &billing_b.id])
                .credential(billing_a.clone())
                .credential(billing_b.clone()),
        )
        .client(
            client("partner-gateway", "regular_web")
                .tls_client_auth(&[&gateway.id])
                .credential(gateway.clone()),
        )
        .client(
            client("iot-fleet-manager", "non_interactive")
                .self_signed_tls_client_auth(&[&iot.id])
                .credential(iot.clone())
                .credential(iot_unused),
        )
        .client(
            client("mobile-banking", "native")
                .signed_request_object(true, &[&banking.id])
                .credential(banking.clone()),
        )
        .client(client("reporting-batch", "non_interactive").credential(reporting))
        .client(
            client("legacy-payments", "non_interactive")
                .private_key_jwt(&[&legacy.id])
                .credential(legacy.clone()),
        )
        .client(client("wsfed-intranet", "regular_web").encryption_key(&wsfed))
        .client(
            client("legacy-sso-app", "regular_web").signing_keys(vec![SimClientSigningKey {
                cert: legacy_sso.pem_crlf(),
                pkcs7: legacy_sso.pkcs7_pem(),
                subject: format!("/CN={}", legacy_sso.common_name),
            }]),
        )
        .client(client("customer-portal", "spa"))
        .client(client("admin-dashboard", "regular_web"))
        .client(client("marketing-site", "spa"))
}

/// Size of a generated benchmark tenant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleSpec {
    /// Applications (besides the global one).
    pub clients: usize,
    /// Fraction of applications with a (private_key_jwt, in-use) credential.
    pub credential_ratio: f64,
    /// SAML connections, each with its own certificate.
    pub connections: usize,
    /// Tenant signing keys (current, next, then previous ones).
    pub signing_keys: usize,
    /// Every SAML connection's IdP publishes metadata (its own URL) on the simulator.
    pub idp_metadata: bool,
}

impl ScaleSpec {
    /// 100 clients, 20 connections.
    pub const S: ScaleSpec = ScaleSpec {
        clients: 100,
        credential_ratio: 0.2,
        connections: 20,
        signing_keys: 3,
        idp_metadata: false,
    };
    /// 2,000 clients, 300 connections.
    pub const M: ScaleSpec = ScaleSpec {
        clients: 2_000,
        credential_ratio: 0.2,
        connections: 300,
        signing_keys: 3,
        idp_metadata: false,
    };
    /// 10,000 clients (20% with credentials), 1,000 SAML connections, 5 signing keys.
    pub const L: ScaleSpec = ScaleSpec {
        clients: 10_000,
        credential_ratio: 0.2,
        connections: 1_000,
        signing_keys: 5,
        idp_metadata: false,
    };
}

/// A generated tenant of `spec`'s size, with the demo app's credentials and scopes
/// ([`DEMO_CLIENT_ID`]/[`DEMO_CLIENT_SECRET`]) on domain [`DEMO_DOMAIN`]. Expiries are spread
/// deterministically from 30 days ago to two years ahead; certificates share one key pair.
pub fn scaled(now: OffsetDateTime, spec: ScaleSpec) -> SimTenant {
    let factory = CertFactory::shared();
    let spread = |i: usize| days((i as i64 * 37) % 760 - 30);
    let mut t = SimTenant::new(DEMO_DOMAIN)
        .m2m(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SCOPES)
        .global_client(&client_id("All Applications"));
    for i in 0..spec.signing_keys {
        let since = now - days(400 * i as i64);
        let c = factory.issue(DEMO_DOMAIN, since, since + SIGNING_CERT_VALIDITY);
        let key = SimSigningKey::from_cert(&stable_id("", &format!("scale-sk-{i}"), 21), &c);
        t.add_signing_key(match i {
            0 => key.current(since),
            1 => key.next(),
            _ => key.previous(since, since + days(400)),
        });
    }
    let ratio = spec.credential_ratio.clamp(0.0, 1.0);
    for i in 0..spec.clients {
        let name = format!("app-{i:05}");
        let mut client =
            SimClient::new(&format!("scale{i:027}"), &name).app_type("non_interactive");
        if ((i + 1) as f64 * ratio).floor() > (i as f64 * ratio).floor() {
            let cred = SimCredential::public_key(
                &format!("cred_scale{i:017}"),
                &format!("{name}-key"),
                now - days(100),
                Some(now + spread(i)),
            );
            client = client.private_key_jwt(&[&cred.id]).credential(cred);
        }
        t.add_client(client);
    }
    for i in 0..spec.connections {
        let name = format!("saml-{i:04}");
        let c = factory.issue(
            &format!("idp.{name}.example.com"),
            now - days(365),
            now + spread(i),
        );
        let mut conn =
            SimConnection::samlp(&format!("con_scale{i:011}"), &name, &c.base64_pem_crlf());
        if spec.idp_metadata {
            conn = conn.idp(SimIdp::publishing(&[&c]));
        }
        t.add_connection(conn);
    }
    t
}

#[cfg(test)]
mod tests;
