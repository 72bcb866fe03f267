//! The simulator's public documents (pure): the tenant's `/.well-known/jwks.json`, and what a
//! connection's simulated upstream IdP publishes — SAML 2.0 metadata, ADFS
//! `FederationMetadata.xml`, OIDC discovery and its JWKS — rendered from the tenant and the
//! simulator's base URL. No HTTP here; `server.rs` sends what these return.
//!
//! Shapes: the tenant JWKS is byte-for-byte the recorded `common.auth0.com` one (members in
//! Auth0's order, compact); the metadata follow what Okta-style SAML IdPs (`md:`/`ds:` prefixes)
//! and ADFS (default namespaces, a `ds:Signature`, the STS `RoleDescriptor`) publish.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use serde_json::json;
use sha1::{Digest as _, Sha1};
use x509_parser::public_key::PublicKey;

use super::certs::decode_cert_text;
use super::faults::IdpFault;
use super::render::iso_seconds;
use super::routes::{IdpDocument, idp_path};
use super::tenant::{SimConnection, SimCustomSigningKey, SimIdp, SimSigningKey, SimTenant};
use crate::escape::html as xml_escape;

/// `Cache-Control` of the real tenant JWKS (recorded on `common.auth0.com`).
pub const JWKS_CACHE_CONTROL: &str =
    "public, max-age=15, stale-while-revalidate=15, stale-if-error=86400";

const JSON: &str = "application/json; charset=utf-8";
const SAML_METADATA: &str = "application/samlmetadata+xml";

/// A response to send as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// `Cache-Control`, when the real endpoint sends one.
    pub cache_control: Option<&'static str>,
    /// The body.
    pub body: Vec<u8>,
}

impl Document {
    fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type,
            cache_control: None,
            body,
        }
    }

    /// A plain 404 for an IdP document that does not exist.
    pub fn not_found() -> Self {
        status_page(404)
    }
}

/// One JSON Web Key with its certificate, members in the order Auth0 writes them.
#[derive(Serialize)]
struct Jwk {
    alg: &'static str,
    kty: &'static str,
    #[serde(rename = "use")]
    key_use: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<String>,
    kid: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    x5t: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    x5c: Vec<String>,
}

#[derive(Serialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

/// base64url (unpadded) SHA-1 of the DER: a JWK's `x5t`.
fn x5t(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha1::digest(der))
}

/// The JWK of a certificate's public key (RSA, or EC on P-256/384/521); `None` for anything
/// else or a DER that is not a certificate.
fn jwk(kid: String, der: &[u8], x5t: String) -> Option<Jwk> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let b64 = |bytes: &[u8]| {
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        URL_SAFE_NO_PAD.encode(&bytes[first..])
    };
    let mut jwk = Jwk {
        alg: "RS256",
        kty: "RSA",
        key_use: "sig",
        n: None,
        e: None,
        crv: None,
        x: None,
        y: None,
        kid,
        x5t,
        x5c: vec![STANDARD.encode(der)],
    };
    match cert.public_key().parsed().ok()? {
        PublicKey::RSA(rsa) => {
            jwk.n = Some(b64(rsa.modulus));
            jwk.e = Some(b64(rsa.exponent));
        }
        PublicKey::EC(point) => {
            let data = point.data();
            let len = data.len().checked_sub(1)? / 2;
            let (crv, alg) = match (data.first(), len) {
                (Some(4), 32) => ("P-256", "ES256"),
                (Some(4), 48) => ("P-384", "ES384"),
                (Some(4), 66) => ("P-521", "ES512"),
                _ => return None,
            };
            jwk.alg = alg;
            jwk.kty = "EC";
            jwk.crv = Some(crv);
            jwk.x = Some(URL_SAFE_NO_PAD.encode(&data[1..=len]));
            jwk.y = Some(URL_SAFE_NO_PAD.encode(&data[1 + len..]));
        }
        _ => return None,
    }
    Some(jwk)
}

/// A signing key's JWK. Old Auth0 keys have `kid == x5t == base64url("<UPPER-HEX SHA-1>")`
/// (docs/auth0-api.md); a key whose kid has that form keeps it as its `x5t`.
fn signing_key_jwk(key: &SimSigningKey) -> Option<Jwk> {
    let der = decode_cert_text(&key.cert)?;
    let legacy = URL_SAFE_NO_PAD.encode(hex::encode_upper(Sha1::digest(&der)));
    let x5t = if key.kid == legacy { legacy } else { x5t(&der) };
    jwk(key.kid.clone(), &der, x5t)
}

/// A custom signing key's JWK (without `x5c`/`x5t` when it has no certificate).
fn custom_signing_jwk(key: &SimCustomSigningKey) -> Option<Jwk> {
    let mut jwk = jwk(key.kid.clone(), &key.der, x5t(&key.der))?;
    if !key.with_x5c {
        jwk.x5c.clear();
        jwk.x5t.clear();
    }
    Some(jwk)
}

/// `GET /api/v2/keys/custom-signing`'s body `{"keys":[JWK…]}`; `None` when the tenant has none
/// (Auth0 answers 404 then).
pub fn custom_signing_keys(tenant: &SimTenant) -> Option<serde_json::Value> {
    if tenant.custom_signing_keys.is_empty() {
        return None;
    }
    let keys: Vec<Jwk> = tenant
        .custom_signing_keys
        .iter()
        .filter_map(custom_signing_jwk)
        .collect();
    Some(serde_json::to_value(Jwks { keys }).expect("JWKS serializes"))
}

/// `GET /pem`: the current signing certificate, or with `cert=connection` in `query` the
/// tenant's SAML SP certificate; 404 when the tenant has none.
pub fn tenant_pem(tenant: &SimTenant, query: &str) -> Document {
    let pem = if query.split('&').any(|p| p == "cert=connection") {
        tenant.saml_sp_cert.clone()
    } else {
        tenant.current_signing_key().map(|k| k.cert.clone())
    };
    pem.map_or_else(Document::not_found, |pem| {
        Document::ok("application/x-pem-file", pem.into_bytes())
    })
}

/// `GET /.well-known/jwks.json`: the custom signing keys (prepended, as Auth0 does), then the
/// current, next and previous signing keys that are not revoked, in list order, minus
/// [`SimTenant::jwks`]'s omissions, plus its extra keys.
pub fn tenant_jwks(tenant: &SimTenant) -> Document {
    let custom = tenant
        .custom_signing_keys
        .iter()
        .filter_map(custom_signing_jwk);
    let published = tenant
        .signing_keys
        .iter()
        .filter(|k| (k.current || k.next || k.previous) && !k.revoked)
        .filter(|k| !tenant.jwks.omit.contains(&k.kid))
        .filter_map(signing_key_jwk);
    let extra = tenant
        .jwks
        .extra
        .iter()
        .filter_map(|(kid, der)| jwk(kid.clone(), der, x5t(der)));
    let body = Jwks {
        keys: custom.chain(published).chain(extra).collect(),
    };
    Document {
        cache_control: Some(JWKS_CACHE_CONTROL),
        ..Document::ok(JSON, serde_json::to_vec(&body).expect("JWKS serializes"))
    }
}

/// A document of `conn`'s simulated IdP (404 when the connection has none), with the IdP's fault
/// applied. `base` is the simulator's base URL (ending in `/`).
pub fn idp_document(conn: &SimConnection, doc: IdpDocument, base: &str) -> Document {
    let Some(idp) = &conn.idp else {
        return Document::not_found();
    };
    if let Some(IdpFault::Status(code)) = idp.fault {
        return status_page(code);
    }
    let mut document = match doc {
        IdpDocument::SamlMetadata => {
            Document::ok(SAML_METADATA, saml_metadata(conn, idp, base).into_bytes())
        }
        IdpDocument::FederationMetadata => Document::ok(
            SAML_METADATA,
            federation_metadata(conn, idp, base).into_bytes(),
        ),
        IdpDocument::OidcDiscovery => Document::ok(JSON, oidc_discovery(conn, base)),
        IdpDocument::OidcJwks => Document::ok(JSON, oidc_jwks(idp)),
    };
    match idp.fault {
        Some(IdpFault::Malformed) => document.body.truncate(document.body.len() / 2),
        Some(IdpFault::Oversized(n)) if n > document.body.len() => document.body.resize(n, b' '),
        _ => {}
    }
    document
}

fn status_page(code: u16) -> Document {
    let reason = super::api::reason(code);
    Document {
        status: code,
        content_type: "text/html; charset=utf-8",
        cache_control: None,
        body: format!(
            "<html><head><title>{code} {reason}</title></head><body><h1>{reason}</h1></body></html>"
        )
        .into_bytes(),
    }
}

fn valid_until(idp: &SimIdp) -> String {
    idp.valid_until
        .map(|t| format!(r#" validUntil="{}""#, iso_seconds(t)))
        .unwrap_or_default()
}

fn option<'a>(conn: &'a SimConnection, key: &str) -> Option<&'a str> {
    conn.options.get(key).and_then(|v| v.as_str())
}

/// `KeyDescriptor`s for `certs`; `prefix` is `md:` and `ds:` for Okta-style metadata, empty
/// for ADFS (which declares the xmldsig namespace as the default on `KeyInfo`).
fn key_descriptors(out: &mut String, use_: &str, certs: &[Vec<u8>], md: &str, ds: &str) {
    let ds_ns = if ds.is_empty() {
        r#" xmlns="http://www.w3.org/2000/09/xmldsig#""#
    } else {
        ""
    };
    for der in certs {
        out.push_str(&format!(
            r#"<{md}KeyDescriptor use="{use_}"><{ds}KeyInfo{ds_ns}><{ds}X509Data><{ds}X509Certificate>{}</{ds}X509Certificate></{ds}X509Data></{ds}KeyInfo></{md}KeyDescriptor>"#,
            STANDARD.encode(der)
        ));
    }
}

/// SAML 2.0 IdP metadata as Okta-style IdPs publish it.
fn saml_metadata(conn: &SimConnection, idp: &SimIdp, base: &str) -> String {
    let entity = format!("{base}idp/{}", conn.id);
    let sso = xml_escape(
        &option(conn, "signInEndpoint")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{entity}/samlp/sso")),
    );
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{}"{}>"#,
        xml_escape(&entity),
        valid_until(idp)
    ));
    x.push_str(r#"<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#);
    key_descriptors(&mut x, "signing", &idp.signing_certs, "md:", "ds:");
    key_descriptors(&mut x, "encryption", &idp.encryption_certs, "md:", "ds:");
    x.push_str(
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>",
    );
    for binding in ["HTTP-POST", "HTTP-Redirect"] {
        x.push_str(&format!(
            r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:{binding}" Location="{sso}"/>"#
        ));
    }
    x.push_str("</md:IDPSSODescriptor></md:EntityDescriptor>\n");
    x
}

/// ADFS `FederationMetadata.xml`: an enveloped signature, the WS-Federation STS
/// `RoleDescriptor` and the SAML `IDPSSODescriptor`, both listing the signing certificates.
fn federation_metadata(conn: &SimConnection, idp: &SimIdp, base: &str) -> String {
    let id = format!("_{}", conn.id);
    let entity = format!("{base}idp/{}/adfs/services/trust", conn.id);
    let sso = xml_escape(
        &option(conn, "signInEndpoint")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("{base}idp/{}/adfs/ls/", conn.id)),
    );
    let mut x = String::from("\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    x.push_str(&format!(
        r#"<EntityDescriptor ID="{id}" entityID="{}" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"{}>"#,
        xml_escape(&entity),
        valid_until(idp)
    ));
    x.push_str(&format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>c2ltdWxhdGVk</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>c2ltdWxhdGVkIHNpZ25hdHVyZQ==</ds:SignatureValue>"##
    ));
    if let Some(first) = idp.signing_certs.first() {
        x.push_str(&format!(
            r#"<KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo>"#,
            STANDARD.encode(first)
        ));
    }
    x.push_str("</ds:Signature>");
    x.push_str(r#"<RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/ws-sx/ws-trust/200512 http://schemas.xmlsoap.org/ws/2005/02/trust http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706">"#);
    key_descriptors(&mut x, "signing", &idp.signing_certs, "", "");
    x.push_str(r#"<fed:TokenTypesOffered><fed:TokenType Uri="urn:oasis:names:tc:SAML:2.0:assertion"/><fed:TokenType Uri="urn:oasis:names:tc:SAML:1.0:assertion"/></fed:TokenTypesOffered>"#);
    x.push_str(&format!(
        r#"<fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>{sso}</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor>"#
    ));
    x.push_str(
        r#"<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
    );
    key_descriptors(&mut x, "encryption", &idp.encryption_certs, "", "");
    key_descriptors(&mut x, "signing", &idp.signing_certs, "", "");
    x.push_str(&format!(
        r#"<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/><NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso}"/></IDPSSODescriptor></EntityDescriptor>"#
    ));
    x
}

/// An OIDC discovery document whose `jwks_uri` is the IdP's JWKS on the simulator.
fn oidc_discovery(conn: &SimConnection, base: &str) -> Vec<u8> {
    let issuer = format!("{base}idp/{}", conn.id);
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{base}{}", idp_path(&conn.id, IdpDocument::OidcJwks)),
        "response_types_supported": ["code", "id_token", "code id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "scopes_supported": ["openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
    });
    serde_json::to_vec(&doc).expect("JSON serializes")
}

/// The upstream JWKS: one key per published signing certificate, `kid` = `x5t`.
fn oidc_jwks(idp: &SimIdp) -> Vec<u8> {
    let keys = idp
        .signing_certs
        .iter()
        .filter_map(|der| jwk(x5t(der), der, x5t(der)))
        .collect();
    serde_json::to_vec(&Jwks { keys }).expect("JWKS serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::certs::generate_cert;
    use time::macros::datetime;

    #[test]
    fn ec_keys_become_ec_jwks_with_matching_x5t() {
        let cert = generate_cert(
            "t",
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2030-01-01 00:00 UTC),
        );
        let jwk = jwk("k".into(), &cert.der, x5t(&cert.der)).unwrap();
        assert_eq!((jwk.kty, jwk.alg, jwk.crv), ("EC", "ES256", Some("P-256")));
        assert_eq!(URL_SAFE_NO_PAD.decode(jwk.x.unwrap()).unwrap().len(), 32);
        assert_eq!(URL_SAFE_NO_PAD.decode(jwk.y.unwrap()).unwrap().len(), 32);
        assert_eq!(
            hex::encode(URL_SAFE_NO_PAD.decode(&jwk.x5t).unwrap()),
            cert.sha1_hex
        );
        assert!(jwk.n.is_none());
        assert!(super::jwk("k".into(), b"garbage", String::new()).is_none());
    }

    #[test]
    fn idp_faults_shape_the_document() {
        let cert = generate_cert(
            "idp",
            datetime!(2024-01-01 00:00 UTC),
            datetime!(2030-01-01 00:00 UTC),
        );
        let base = "http://127.0.0.1:1/";
        let conn = |fault: Option<IdpFault>| {
            let idp = SimIdp::publishing(&[&cert]);
            let idp = match fault {
                Some(f) => idp.fault(f),
                None => idp,
            };
            SimConnection::samlp("con_1", "x", &cert.pem).idp(idp)
        };
        let good = idp_document(&conn(None), IdpDocument::SamlMetadata, base);
        assert!(roxmltree::Document::parse(std::str::from_utf8(&good.body).unwrap()).is_ok());
        let bad = idp_document(
            &conn(Some(IdpFault::Malformed)),
            IdpDocument::SamlMetadata,
            base,
        );
        assert_eq!(bad.status, 200);
        assert!(roxmltree::Document::parse(std::str::from_utf8(&bad.body).unwrap()).is_err());
        let big = idp_document(
            &conn(Some(IdpFault::Oversized(2_000_000))),
            IdpDocument::SamlMetadata,
            base,
        );
        assert_eq!(big.body.len(), 2_000_000);
        assert!(roxmltree::Document::parse(std::str::from_utf8(&big.body).unwrap()).is_ok());
        let down = idp_document(
            &conn(Some(IdpFault::Status(500))),
            IdpDocument::SamlMetadata,
            base,
        );
        assert_eq!(down.status, 500);
        let none = idp_document(
            &SimConnection::samlp("con_2", "y", &cert.pem),
            IdpDocument::SamlMetadata,
            base,
        );
        assert_eq!(none.status, 404);
    }
}
