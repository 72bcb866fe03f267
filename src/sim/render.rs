//! Tenant objects → Management API JSON (pure), including what depends on the caller: scope-based
//! visibility of client members and connection `options`, and `fields`/`include_fields`.
//!
//! Shapes follow the recorded bodies in `tests/fixtures/auth0/`: false key flags are omitted,
//! dates are ISO-8601 with milliseconds, `tenant` (clients) and `is_domain_connection`
//! (connections) come back even when not asked for.

use std::collections::HashSet;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::tenant::{
    SimClient, SimClientSigningKey, SimConnection, SimConnectionKey, SimCredential,
    SimCustomDomain, SimSigningKey, SimTenant,
};

/// `2025-05-30T17:22:07.722Z`: how Auth0 writes dates.
pub fn iso_ms(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .expect("formattable date")
}

/// `2026-02-04T23:31:22Z`: how Auth0 writes some dates (`renews_before`, `last_verified_at`)
/// and how metadata write `validUntil`.
pub fn iso_seconds(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .expect("formattable date")
}

/// The scopes of the token a request came with.
#[derive(Clone, Debug, Default)]
pub struct Scopes(HashSet<String>);

impl Scopes {
    /// From a list of scope names.
    pub fn new<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(scopes.into_iter().map(Into::into).collect())
    }

    /// Whether the token has `scope`.
    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    /// Whether the token has at least one of `scopes`.
    pub fn has_any(&self, scopes: &[&str]) -> bool {
        scopes.iter().any(|s| self.has(s))
    }
}

/// `fields` + `include_fields` of a request: which top-level members to keep.
#[derive(Clone, Debug, Default)]
pub struct FieldFilter {
    fields: Vec<String>,
    include: bool,
}

impl FieldFilter {
    /// From the comma-separated `fields` and the `include_fields` flag (default true).
    pub fn new(fields: Option<&str>, include_fields: Option<bool>) -> Self {
        Self {
            fields: fields
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect(),
            include: include_fields.unwrap_or(true),
        }
    }

    /// Keeps (or drops, with `include_fields=false`) the listed members; `always` members are
    /// kept whenever present, as Auth0 does for `tenant` and `is_domain_connection`.
    pub fn apply(&self, value: Value, always: &[&str]) -> Value {
        if self.fields.is_empty() {
            return value;
        }
        let Value::Object(map) = value else {
            return value;
        };
        let listed = |k: &str| self.fields.iter().any(|f| f == k);
        Value::Object(
            map.into_iter()
                .filter(|(k, _)| {
                    if self.include {
                        listed(k) || always.contains(&k.as_str())
                    } else {
                        !listed(k)
                    }
                })
                .collect(),
        )
    }
}

/// A `/api/v2/keys/signing` item.
pub fn signing_key(key: &SimSigningKey) -> Value {
    let mut m = Map::new();
    m.insert("kid".into(), json!(key.kid));
    m.insert("cert".into(), json!(key.cert));
    m.insert("pkcs7".into(), json!(key.pkcs7));
    m.insert("fingerprint".into(), json!(key.fingerprint));
    m.insert("thumbprint".into(), json!(key.thumbprint));
    flags(
        &mut m,
        &[
            ("current", key.current),
            ("next", key.next),
            ("previous", key.previous),
            ("revoked", key.revoked),
        ],
    );
    dates(
        &mut m,
        &[
            ("current_since", key.current_since),
            ("current_until", key.current_until),
            ("revoked_at", key.revoked_at),
        ],
    );
    Value::Object(m)
}

/// A `/api/v2/connections/{id}/keys` item.
pub fn connection_key(key: &SimConnectionKey) -> Value {
    let mut m = Map::new();
    m.insert("kid".into(), json!(key.kid));
    m.insert("algorithm".into(), json!(key.algorithm));
    m.insert("key_use".into(), json!(key.key_use));
    m.insert("subject_dn".into(), json!(key.subject_dn));
    m.insert("cert".into(), json!(key.cert));
    m.insert("fingerprint".into(), json!(key.fingerprint));
    m.insert("thumbprint".into(), json!(key.thumbprint));
    m.insert("pkcs".into(), json!(key.pkcs));
    flags(
        &mut m,
        &[
            ("current", key.current),
            ("next", key.next),
            ("previous", key.previous),
        ],
    );
    dates(&mut m, &[("current_since", key.current_since)]);
    Value::Object(m)
}

fn flags(m: &mut Map<String, Value>, flags: &[(&str, bool)]) {
    for (name, on) in flags {
        if *on {
            m.insert((*name).into(), Value::Bool(true));
        }
    }
}

fn dates(m: &mut Map<String, Value>, dates: &[(&str, Option<OffsetDateTime>)]) {
    for (name, date) in dates {
        if let Some(date) = date {
            m.insert((*name).into(), json!(iso_ms(*date)));
        }
    }
}

/// A `/api/v2/clients/{id}/credentials` item (the members real responses carry per type).
pub fn credential(cred: &SimCredential) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(cred.id));
    m.insert("credential_type".into(), json!(cred.credential_type));
    let optional = [
        ("name", &cred.name),
        ("kid", &cred.kid),
        ("alg", &cred.alg),
        ("subject_dn", &cred.subject_dn),
        ("thumbprint_sha256", &cred.thumbprint_sha256),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            m.insert(key.into(), json!(v));
        }
    }
    m.insert("created_at".into(), json!(iso_ms(cred.created_at)));
    m.insert("updated_at".into(), json!(iso_ms(cred.updated_at)));
    match cred.expires_at {
        Some(t) => {
            m.insert("expires_at".into(), json!(iso_ms(t)));
        }
        None if cred.credential_type != "cert_subject_dn" => {
            m.insert("expires_at".into(), Value::Null);
        }
        None => {}
    }
    Value::Object(m)
}

/// Client members visible with any read scope (incl. `read:client_summary`).
const CLIENT_SUMMARY: &[&str] = &["client_id", "app_type", "name", "description", "tenant"];
/// Client members that need `read:client_keys` or `read:client_credentials`.
const CLIENT_KEY_MEMBERS: &[&str] = &[
    "encryption_key",
    "client_secret",
    "client_authentication_methods",
    "signing_keys",
];

/// A full client object as Auth0 stores it (before scope and field filtering).
pub fn client(tenant: &SimTenant, c: &SimClient) -> Value {
    let mut m = Map::new();
    m.insert("tenant".into(), json!(tenant.tenant_name));
    m.insert("global".into(), json!(c.global));
    m.insert("is_token_endpoint_ip_header_trusted".into(), json!(false));
    m.insert("name".into(), json!(c.name));
    m.insert("client_id".into(), json!(c.client_id));
    m.insert("client_secret".into(), json!(c.client_secret));
    m.insert("is_first_party".into(), json!(c.is_first_party));
    m.insert("callbacks".into(), json!([]));
    m.insert("allowed_origins".into(), json!([]));
    m.insert("web_origins".into(), json!([]));
    m.insert("allowed_logout_urls".into(), json!([]));
    m.insert("sso_disabled".into(), json!(false));
    m.insert("cross_origin_authentication".into(), json!(false));
    m.insert("custom_login_page_on".into(), json!(true));
    m.insert(
        "jwt_configuration".into(),
        json!({ "alg": "RS256", "lifetime_in_seconds": 36000, "secret_encoded": false }),
    );
    if !c.global {
        m.insert("oidc_conformant".into(), json!(true));
        m.insert(
            "grant_types".into(),
            json!([
                "authorization_code",
                "implicit",
                "refresh_token",
                "client_credentials"
            ]),
        );
    }
    if let Some(app_type) = &c.app_type {
        m.insert("app_type".into(), json!(app_type));
    }
    if let Some(description) = &c.description {
        m.insert("description".into(), json!(description));
    }
    match &c.client_authentication_methods {
        Some(methods) => {
            m.insert("client_authentication_methods".into(), methods.clone());
        }
        None if !c.global => {
            m.insert(
                "token_endpoint_auth_method".into(),
                json!("client_secret_post"),
            );
        }
        None => {}
    }
    if let Some(sro) = &c.signed_request_object {
        m.insert("signed_request_object".into(), sro.clone());
    }
    if let Some(key) = &c.encryption_key {
        m.insert(
            "encryption_key".into(),
            json!({ "pub": key.public_key, "cert": key.cert, "subject": key.subject }),
        );
    }
    let signing_keys: Vec<SimClientSigningKey> = match &c.signing_keys {
        Some(keys) => keys.clone(),
        None => tenant
            .current_signing_key()
            .map(|k| SimClientSigningKey::from_signing_key(k, &tenant.domain))
            .into_iter()
            .collect(),
    };
    m.insert(
        "signing_keys".into(),
        Value::Array(
            signing_keys
                .iter()
                .map(|k| json!({ "cert": k.cert, "pkcs7": k.pkcs7, "subject": k.subject }))
                .collect(),
        ),
    );
    for (k, v) in &c.extra {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

/// A client as a caller with `scopes` sees it: summary members always, key members with
/// `read:client_keys`/`read:client_credentials`, the rest with `read:clients`/`read:client_keys`.
pub fn client_for(tenant: &SimTenant, c: &SimClient, scopes: &Scopes) -> Value {
    let keys = scopes.has_any(&["read:client_keys", "read:client_credentials"]);
    let config = scopes.has_any(&["read:clients", "read:client_keys"]);
    let Value::Object(full) = client(tenant, c) else {
        unreachable!("client() renders an object")
    };
    Value::Object(
        full.into_iter()
            .filter(|(k, _)| {
                if CLIENT_SUMMARY.contains(&k.as_str()) {
                    true
                } else if CLIENT_KEY_MEMBERS.contains(&k.as_str()) {
                    keys
                } else {
                    config
                }
            })
            .collect(),
    )
}

/// Whether a connection is rendered for a list or for a single-connection response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionView {
    /// `GET /api/v2/connections` item.
    ListItem,
    /// `GET`/`PATCH /api/v2/connections/{id}`.
    Single,
}

/// A connection; `options` only when `with_options` (the `read:connections_options` scope).
pub fn connection(c: &SimConnection, view: ConnectionView, with_options: bool) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("name".into(), json!(c.name));
    m.insert("strategy".into(), json!(c.strategy));
    if with_options {
        m.insert("options".into(), Value::Object(c.options.clone()));
    }
    if let Some(d) = &c.display_name {
        m.insert("display_name".into(), json!(d));
    }
    m.insert("is_domain_connection".into(), json!(c.is_domain_connection));
    if let Some(b) = c.show_as_button {
        m.insert("show_as_button".into(), json!(b));
    }
    m.insert("realms".into(), json!(c.realms));
    m.insert("enabled_clients".into(), json!(c.enabled_clients));
    if let (ConnectionView::Single, Some(url)) = (view, &c.provisioning_ticket_url) {
        m.insert("provisioning_ticket_url".into(), json!(url));
    }
    for (k, v) in &c.extra {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

/// A `/api/v2/custom-domains` item. The verification record is derived like Auth0's
/// (`{tenant domain}-{id, lower case, `_` → `-`}.edge.tenants.us.auth0.com`); self-managed
/// domains verify with a TXT record (not recorded: our guess at its shape).
pub fn custom_domain(tenant: &SimTenant, d: &SimCustomDomain) -> Value {
    let mut m = Map::new();
    m.insert("custom_domain_id".into(), json!(d.custom_domain_id));
    m.insert("domain".into(), json!(d.domain));
    m.insert("primary".into(), json!(d.primary));
    m.insert("is_default".into(), json!(d.is_default));
    m.insert("status".into(), json!(d.status));
    m.insert("type".into(), json!(d.domain_type));
    let method = if d.domain_type == "self_managed_certs" {
        json!({
            "name": "txt",
            "record": format!("auth0-domain-verification={}", d.custom_domain_id),
            "domain": format!("_cf-custom-hostname.{}", d.domain),
        })
    } else {
        let edge = d.custom_domain_id.to_ascii_lowercase().replace('_', "-");
        json!({
            "name": "CNAME",
            "record": format!("{}-{edge}.edge.tenants.us.auth0.com", tenant.domain),
            "domain": d.domain,
        })
    };
    let mut verification = Map::new();
    verification.insert("methods".into(), json!([method]));
    if let Some(at) = d.last_verified_at {
        verification.insert("last_verified_at".into(), json!(iso_seconds(at)));
    }
    if let Some(status) = &d.verification_status {
        verification.insert("status".into(), json!(status));
    }
    m.insert("verification".into(), Value::Object(verification));
    if let Some(policy) = &d.tls_policy {
        m.insert("tls_policy".into(), json!(policy));
    }
    m.insert(
        "domain_metadata".into(),
        Value::Object(d.domain_metadata.clone()),
    );
    if let Some(cert) = &d.certificate {
        let mut c = Map::new();
        let members = [
            ("certificate_authority", cert.certificate_authority.clone()),
            ("renews_before", cert.renews_before.map(iso_seconds)),
            ("status", cert.status.clone()),
            ("error_msg", cert.error_msg.clone()),
        ];
        for (key, value) in members {
            if let Some(v) = value {
                c.insert(key.into(), json!(v));
            }
        }
        m.insert("certificate".into(), Value::Object(c));
    }
    m.insert("created_at".into(), json!(iso_ms(d.created_at)));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn iso_dates_have_milliseconds_and_z() {
        assert_eq!(
            iso_ms(datetime!(2025-05-30 17:22:07.722 UTC)),
            "2025-05-30T17:22:07.722Z"
        );
        assert_eq!(
            iso_ms(datetime!(2025-05-30 19:22:07 +2)),
            "2025-05-30T17:22:07.000Z"
        );
    }

    #[test]
    fn field_filter_keeps_always_members() {
        let v = json!({ "client_id": "a", "tenant": "t", "name": "n" });
        let only_id = FieldFilter::new(Some("client_id"), Some(true));
        assert_eq!(
            only_id.apply(v.clone(), &["tenant"]),
            json!({ "client_id": "a", "tenant": "t" })
        );
        let without_name = FieldFilter::new(Some("name"), Some(false));
        assert_eq!(
            without_name.apply(v.clone(), &["tenant"]),
            json!({ "client_id": "a", "tenant": "t" })
        );
        assert_eq!(FieldFilter::new(None, None).apply(v.clone(), &[]), v);
    }

    #[test]
    fn client_key_members_need_key_scopes() {
        let tenant = SimTenant::new("acme.eu.auth0.com");
        let c = SimClient::new("id1", "billing").private_key_jwt(&["cred_1"]);
        let summary = client_for(&tenant, &c, &Scopes::new(["read:client_summary"]));
        let keys: Vec<_> = summary.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, vec!["app_type", "client_id", "name", "tenant"]);
        let clients_only = client_for(&tenant, &c, &Scopes::new(["read:clients"]));
        assert!(clients_only.get("client_authentication_methods").is_none());
        assert!(clients_only.get("client_secret").is_none());
        assert_eq!(clients_only["is_first_party"], json!(true));
        let with_keys = client_for(
            &tenant,
            &c,
            &Scopes::new(["read:clients", "read:client_keys"]),
        );
        assert_eq!(
            with_keys["client_authentication_methods"]["private_key_jwt"]["credentials"][0]["id"],
            "cred_1"
        );
    }

    #[test]
    fn credentials_render_per_type() {
        let t = datetime!(2026-07-01 12:29:32.288 UTC);
        let pk = credential(&SimCredential::public_key("cred_1", "k", t, None));
        assert_eq!(pk["expires_at"], Value::Null);
        assert_eq!(pk["created_at"], "2026-07-01T12:29:32.288Z");
        let dn = credential(&SimCredential::cert_subject_dn("cred_2", "d", "CN=x", t));
        assert!(dn.get("expires_at").is_none());
        assert_eq!(dn["subject_dn"], "CN=x");
    }
}
