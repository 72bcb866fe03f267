//! DTOs shaped exactly like Auth0's JSON, holding only the fields certwatch reads.
//! Unknown fields are ignored; every field is optional so one odd object never fails a page.

use serde::Deserialize;
use serde_json::Value;

/// An item of `GET /api/v2/keys/signing`.
#[derive(Debug, Clone, Deserialize)]
pub struct SigningKey {
    /// Key id.
    pub kid: String,
    /// PEM (`\r\n`).
    #[serde(default)]
    pub cert: Option<String>,
    /// Upper-case hex SHA-1.
    #[serde(default)]
    pub thumbprint: Option<String>,
    /// Signing tokens now.
    #[serde(default)]
    pub current: Option<bool>,
    /// Pre-generated next key.
    #[serde(default)]
    pub next: Option<bool>,
    /// Previously used key.
    #[serde(default)]
    pub previous: Option<bool>,
    /// Revoked.
    #[serde(default)]
    pub revoked: Option<bool>,
}

/// A key/cert pair as found on clients (`encryption_key`, `signing_keys[]`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyCert {
    /// PEM.
    #[serde(default)]
    pub cert: Option<String>,
}

/// An item of `GET /api/v2/clients` (certificate-related fields only).
#[derive(Debug, Clone, Deserialize)]
pub struct Client {
    /// Client id.
    pub client_id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// The tenant-wide "All Applications" client.
    #[serde(default)]
    pub global: Option<bool>,
    /// `{"private_key_jwt": {"credentials": [{"id"}]}}` and siblings.
    #[serde(default)]
    pub client_authentication_methods: Option<Value>,
    /// `{"required": bool, "credentials": [{"id"}]}` (JAR).
    #[serde(default)]
    pub signed_request_object: Option<Value>,
    /// WS-Fed encryption key.
    #[serde(default)]
    pub encryption_key: Option<KeyCert>,
    /// Signing keys (normally the tenant's).
    #[serde(default)]
    pub signing_keys: Option<Vec<KeyCert>>,
    /// `{"credentials": [{"id"}], "ip_allowlist", "grants"}` (Token Vault privileged access).
    #[serde(default)]
    pub token_vault_privileged_access: Option<Value>,
    /// Add-on settings; `addons.samlp.signingCert` is the SAML2 Web App's SP certificate.
    #[serde(default)]
    pub addons: Option<Value>,
    /// String key/value pairs the tenant's admins set (the owner key lives here).
    #[serde(default)]
    pub client_metadata: Option<Value>,
}

/// Fields requested from `/clients`.
pub const CLIENT_FIELDS: &str = "client_id,name,global,client_authentication_methods,signed_request_object,encryption_key,signing_keys,token_vault_privileged_access,addons,client_metadata";

/// An item of `GET /api/v2/clients/{id}/credentials`.
#[derive(Debug, Clone, Deserialize)]
pub struct Credential {
    /// `cred_…`.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// `public_key` | `x509_cert` | `cert_subject_dn`.
    #[serde(default)]
    pub credential_type: Option<String>,
    /// Subject DN (`cert_subject_dn`).
    #[serde(default)]
    pub subject_dn: Option<String>,
    /// base64url SHA-256 of the certificate (`x509_cert`).
    #[serde(default)]
    pub thumbprint_sha256: Option<String>,
    /// RFC 3339 expiry or null.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// An item of `GET /api/v2/connections`.
#[derive(Debug, Clone, Deserialize)]
pub struct Connection {
    /// `con_…`.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Strategy (`samlp`, `adfs`, …).
    #[serde(default)]
    pub strategy: String,
    /// Options; absent when the token lacks `read:connections_options`.
    #[serde(default)]
    pub options: Option<Value>,
    /// String key/value pairs the tenant's admins set (the owner key lives here).
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// Fields requested from `/connections`.
pub const CONNECTION_FIELDS: &str = "id,name,strategy,options,metadata";

/// `mtls.enable_endpoint_aliases` of a `/api/v2/tenants/settings` body; absent means off.
pub fn mtls_endpoint_aliases(body: &[u8]) -> Result<bool, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("/api/v2/tenants/settings is not JSON: {e}"))?;
    if !v.is_object() {
        return Err("/api/v2/tenants/settings is not a JSON object".into());
    }
    Ok(v.pointer("/mtls/enable_endpoint_aliases")
        .and_then(Value::as_bool)
        .unwrap_or(false))
}

/// The value of `key` in an object's metadata (`client_metadata`, connection `metadata`) when
/// it is a non-empty string (docs/alerts.md#owners); surrounding spaces are dropped.
pub fn metadata_value(metadata: Option<&Value>, key: &str) -> Option<String> {
    let v = metadata?.get(key)?.as_str()?.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Strategies that can carry certificates (docs/auth0-api.md, connections).
pub const CERT_STRATEGIES: [&str; 7] = [
    "samlp",
    "pingfederate",
    "adfs",
    "waad",
    "ad",
    "oidc",
    "okta",
];

/// An item of `GET /api/v2/connections/{id}/keys`.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionKey {
    /// Key id.
    pub kid: String,
    /// PEM.
    #[serde(default)]
    pub cert: Option<String>,
    /// Current key.
    #[serde(default)]
    pub current: Option<bool>,
    /// Next key.
    #[serde(default)]
    pub next: Option<bool>,
    /// Previous key.
    #[serde(default)]
    pub previous: Option<bool>,
    /// `signing` | `encryption`.
    #[serde(default)]
    pub key_use: Option<String>,
}

/// A JWK of `GET /api/v2/keys/custom-signing` (`{"keys": [JWK…]}`; docs/auth0-api.md).
#[derive(Debug, Clone, Deserialize)]
pub struct CustomSigningKey {
    /// Key id.
    #[serde(default)]
    pub kid: Option<String>,
    /// `RSA` | `EC`.
    #[serde(default)]
    pub kty: Option<String>,
    /// Certificate chain, base64 DER; a key without it has no expiry to watch.
    #[serde(default)]
    pub x5c: Option<Vec<String>>,
}

/// An item of `GET /api/v2/custom-domains` (docs/auth0-api.md, custom domains).
#[derive(Debug, Clone, Deserialize)]
pub struct CustomDomain {
    /// `cd_…`.
    pub custom_domain_id: String,
    /// The hostname, e.g. `login.example.com`.
    pub domain: String,
    /// The tenant's primary custom domain.
    #[serde(default)]
    pub primary: Option<bool>,
    /// `pending_verification` | `ready` | `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// `auth0_managed_certs` | `self_managed_certs`.
    #[serde(default, rename = "type")]
    pub r#type: Option<String>,
    /// Only for `auth0_managed_certs` (a self-managed domain's certificate must be probed).
    #[serde(default)]
    pub certificate: Option<DomainCertificate>,
}

/// A custom domain's Auth0-managed certificate (`DomainCertificate`; the certificate itself is
/// not returned, only its provisioning state).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DomainCertificate {
    /// `provisioning` | `provisioning_failed` | `provisioned` | `renewing_failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// Why provisioning or renewal failed.
    #[serde(default)]
    pub error_msg: Option<String>,
    /// `letsencrypt` | `googletrust`.
    #[serde(default)]
    pub certificate_authority: Option<String>,
    /// When Auth0 must have renewed it (RFC 3339 string).
    #[serde(default)]
    pub renews_before: Option<String>,
}

/// Auth0's error body, both Management API and OAuth styles (docs/auth0-api.md, error body).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    /// Management API `errorCode`.
    #[serde(default, rename = "errorCode")]
    pub error_code: Option<String>,
    /// Management API reason phrase, or OAuth error code.
    #[serde(default)]
    pub error: Option<String>,
    /// Some endpoints use `code`.
    #[serde(default)]
    pub code: Option<String>,
    /// Management API message.
    #[serde(default)]
    pub message: Option<String>,
    /// OAuth message.
    #[serde(default)]
    pub error_description: Option<String>,
}

impl ErrorBody {
    /// Parse leniently; a non-JSON body becomes an empty `ErrorBody`.
    pub fn parse(bytes: &[u8]) -> Self {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    /// `errorCode` → `error` → `code`, as auth0-python reads it (blank values skipped).
    pub fn code(&self) -> String {
        [&self.error_code, &self.error, &self.code]
            .into_iter()
            .find_map(|v| v.clone().filter(|s| !s.trim().is_empty()))
            .unwrap_or_else(|| "unknown".into())
    }

    /// `error_description` → `message` → `error` (blank values skipped).
    pub fn message(&self) -> String {
        [&self.error_description, &self.message, &self.error]
            .into_iter()
            .find_map(|v| v.clone().filter(|s| !s.trim().is_empty()))
            .unwrap_or_else(|| "no error message".into())
    }
}

/// The token response of `POST /oauth/token`.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    /// Bearer token.
    pub access_token: String,
    /// Lifetime in seconds, as sent: any JSON text, even a number no float holds
    /// (`auth0::token::lifetime` reads it).
    #[serde(default)]
    pub expires_in: Option<Box<serde_json::value::RawValue>>,
    /// Granted scopes, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
}

/// An object of a paginated listing, known by its id (a listing keeps one copy per id).
pub trait Listed {
    /// The object's id (`client_id`, connection `id`, `custom_domain_id`).
    fn id(&self) -> &str;
}

impl Listed for Client {
    fn id(&self) -> &str {
        &self.client_id
    }
}

impl Listed for Connection {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Listed for CustomDomain {
    fn id(&self) -> &str {
        &self.custom_domain_id
    }
}

/// A list item that did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its id field, or [`Rejected::NO_ID`].
    pub id: String,
    /// What was wrong.
    pub message: String,
}

impl Rejected {
    /// The `id` of an item without a string id field.
    pub const NO_ID: &str = "?";

    /// Its id, when it had one.
    pub fn known_id(&self) -> Option<&str> {
        (self.id != Self::NO_ID).then_some(self.id.as_str())
    }
}

/// Decode a list response (plain array, offset envelope or checkpoint envelope) item by item.
/// Returns the decoded items, messages for items that did not decode, and the paging info.
///
/// The body is scanned once into borrowed raw items and each item is decoded straight into `T`
/// (no intermediate `Value` tree per page: a poll decodes megabytes of lists, and building and
/// dropping that tree cost more CPU than the decoding itself). Only an item that does not decode
/// that way is read again as a `Value`, which names its id, and accepted if it decodes from
/// there (the rules a `Value` applies, e.g. to repeated keys, stay as they were).
pub fn decode_list<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    key: &str,
    id_field: &str,
) -> Result<(Vec<T>, Vec<Rejected>, super::pagination::PageInfo), String> {
    use serde_json::value::RawValue;
    let invalid = |e: serde_json::Error| format!("invalid JSON: {e}");
    let expected = || format!("expected an array or an envelope with \"{key}\"");
    let mut info = super::pagination::PageInfo::default();
    let items: Vec<&RawValue> = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {
            let map: std::collections::HashMap<String, &RawValue> =
                serde_json::from_slice(bytes).map_err(invalid)?;
            let member = |name: &str| map.get(name).map(|raw| raw.get());
            info.total = member("total").and_then(|t| serde_json::from_str::<u64>(t).ok());
            info.next = member("next")
                .and_then(|n| serde_json::from_str::<Option<String>>(n).ok())
                .flatten();
            let list = member(key).ok_or_else(expected)?;
            serde_json::from_str(list).map_err(|_| expected())?
        }
        _ => serde_json::from_slice(bytes).map_err(|e| {
            if e.is_data() {
                format!("invalid JSON: {e}; {}", expected())
            } else {
                invalid(e)
            }
        })?,
    };
    info.got = items.len();
    let mut ok = Vec::with_capacity(items.len());
    let mut rejected = Vec::new();
    for raw in items {
        if let Ok(v) = serde_json::from_str::<T>(raw.get()) {
            ok.push(v);
            continue;
        }
        let item: Value = serde_json::from_str(raw.get()).map_err(invalid)?;
        let id = item
            .get(id_field)
            .and_then(Value::as_str)
            .unwrap_or(Rejected::NO_ID)
            .to_string();
        match serde_json::from_value::<T>(item) {
            Ok(v) => ok.push(v),
            Err(e) => rejected.push(Rejected {
                message: format!("{key} item {id}: {e}"),
                id,
            }),
        }
    }
    Ok((ok, rejected, info))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/auth0/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn decodes_recorded_offset_envelope() {
        let (clients, rejected, info) = decode_list::<Client>(
            &recorded("clients-list-offset-envelope.go-auth0.json"),
            "clients",
            "client_id",
        )
        .unwrap();
        assert!(rejected.is_empty());
        assert_eq!(clients[0].client_id, "MlHBtDG6MsQ4wccuZyaI6ASClmpOfDlM");
        assert_eq!(info.total, Some(1));
        assert_eq!(info.got, 1);
    }

    #[test]
    fn decodes_recorded_checkpoint_envelope_without_next() {
        let (conns, _, info) = decode_list::<Connection>(
            &recorded("connections-list-checkpoint-last-page.terraform.json"),
            "connections",
            "id",
        )
        .unwrap();
        assert_eq!(conns.len(), 2);
        assert_eq!(info.next, None);
        assert!(conns[0].options.is_some());
    }

    #[test]
    fn decodes_recorded_plain_arrays() {
        let (creds, _, _) = decode_list::<Credential>(
            &recorded("client-credentials-list.terraform.json"),
            "",
            "id",
        )
        .unwrap();
        assert_eq!(creds.len(), 2);
        assert_eq!(
            creds[0].expires_at.as_deref(),
            Some("2033-05-13T11:29:08.000Z")
        );
        let (keys, _, _) = decode_list::<ConnectionKey>(
            &recorded("connection-keys-list-after-rotate.go-auth0.json"),
            "",
            "kid",
        )
        .unwrap();
        assert_eq!(keys.iter().filter(|k| k.current == Some(true)).count(), 1);
        assert_eq!(keys.iter().filter(|k| k.next == Some(true)).count(), 1);
    }

    #[test]
    fn decodes_recorded_custom_domains_checkpoint_page() {
        let (domains, rejected, info) = decode_list::<CustomDomain>(
            &recorded("custom-domains-list-checkpoint-page2.go-auth0.json"),
            "custom_domains",
            "custom_domain_id",
        )
        .unwrap();
        assert!(rejected.is_empty());
        assert_eq!(domains.len(), 2);
        assert!(
            info.next
                .as_deref()
                .is_some_and(|n| n.starts_with("Fe26.2*"))
        );
        let fresh = &domains[0];
        assert_eq!(fresh.custom_domain_id, "cd_UUjqFP42iem2WuwJ");
        assert_eq!(fresh.status.as_deref(), Some("pending_verification"));
        assert_eq!(fresh.r#type.as_deref(), Some("auth0_managed_certs"));
        assert_eq!(fresh.primary, Some(false));
        assert!(fresh.certificate.is_none());
        let ready = &domains[1];
        assert_eq!(ready.domain, "acul.acmetest.org");
        let cert = ready.certificate.as_ref().unwrap();
        assert_eq!(cert.status.as_deref(), Some("provisioned"));
        assert_eq!(cert.certificate_authority.as_deref(), Some("letsencrypt"));
        assert_eq!(cert.renews_before.as_deref(), Some("2026-02-04T23:31:22Z"));
        assert_eq!(cert.error_msg, None);
    }

    #[test]
    fn custom_domains_also_come_as_a_bare_array_and_bad_items_are_rejected() {
        let body = br#"[{"custom_domain_id":"cd_1","domain":"a.example.com","type":"self_managed_certs"},{"custom_domain_id":"cd_2"},{"custom_domain_id":"cd_3","domain":"c.example.com","certificate":{"status":"renewing_failed","error_msg":"CAA record forbids letsencrypt"}}]"#;
        let (ok, rejected, info) =
            decode_list::<CustomDomain>(body, "custom_domains", "custom_domain_id").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[0].r#type.as_deref(), Some("self_managed_certs"));
        assert_eq!(
            ok[1].certificate.as_ref().unwrap().error_msg.as_deref(),
            Some("CAA record forbids letsencrypt")
        );
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].id, "cd_2");
        assert_eq!(info.next, None);
    }

    #[test]
    fn one_bad_item_does_not_hide_the_others() {
        let body = br#"{"total":3,"start":0,"limit":100,"clients":[{"client_id":"a"},{"client_id":7},{"client_id":"c"}]}"#;
        let (ok, rejected, info) = decode_list::<Client>(body, "clients", "client_id").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(rejected.len(), 1);
        assert_eq!(info.got, 3);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode_list::<Client>(b"<html>", "clients", "client_id").is_err());
        assert!(decode_list::<Client>(br#"{"foo":1}"#, "clients", "client_id").is_err());
        assert!(decode_list::<Client>(br#"[{"client_id":"a"}"#, "clients", "client_id").is_err());
    }

    #[test]
    fn error_body_both_styles() {
        let m = ErrorBody::parse(
            br#"{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:grants","errorCode":"insufficient_scope"}"#,
        );
        assert_eq!(m.code(), "insufficient_scope");
        assert!(m.message().starts_with("Insufficient scope"));
        let o =
            ErrorBody::parse(br#"{"error":"access_denied","error_description":"Unauthorized"}"#);
        assert_eq!(o.code(), "access_denied");
        assert_eq!(o.message(), "Unauthorized");
        let g = ErrorBody::parse(b"<html>bad gateway</html>");
        assert_eq!(g.code(), "unknown");
    }
}
