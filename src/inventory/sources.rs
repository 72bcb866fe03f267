//! Pure conversion of Auth0 objects into `CertRecord`s, one function per source (docs/inventory.md).
//! No I/O: the poller fetches, these functions decide what each object contributes.

use super::{CertRecord, Kind, Role, Source};
use crate::auth0::wire;
use crate::expiry::Validity;
use crate::x509;
use serde_json::Value;
use std::collections::HashSet;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The identity part of a record, shared by the constructors below.
struct Owner<'a> {
    tenant: &'a str,
    kind: Kind,
    role: Role,
    object_id: &'a str,
    object_name: &'a str,
    source: Source,
}

impl Owner<'_> {
    fn blank(&self, cert_id: String) -> CertRecord {
        CertRecord {
            tenant: self.tenant.to_string(),
            kind: self.kind,
            role: self.role,
            object_id: self.object_id.to_string(),
            object_name: self.object_name.to_string(),
            cert_id,
            subject: None,
            issuer: None,
            serial: None,
            sha1: None,
            sha256: None,
            validity: Validity::Unknown,
            error: None,
            source: self.source,
            owner: None,
            key_use: None,
        }
    }

    /// A record from a certificate value; `cert_id` is the given id or the SHA-1. A value that
    /// does not decode yields a record with `error` (cert_id falls back to the SHA-1 of the text).
    fn certificate(&self, value: &str, id: Option<&str>) -> CertRecord {
        match x509::decode(value) {
            Ok(info) => {
                let mut r = self.blank(id.map_or_else(|| info.sha1.clone(), str::to_string));
                r.fill(&info);
                r
            }
            Err(e) => {
                let fallback =
                    || format!("unparseable-{}", &x509::sha1_hex(value.as_bytes())[..16]);
                let mut r = self.blank(id.map_or_else(fallback, str::to_string));
                r.error = Some(e.to_string());
                r
            }
        }
    }
}

/// Tenant signing keys. Returns the records and the SHA-1s of all tenant keys (to recognise
/// client `signing_keys` that are just the tenant's certificate).
pub fn signing_keys(
    tenant: &str,
    domain: &str,
    keys: &[wire::SigningKey],
) -> (Vec<CertRecord>, HashSet<String>) {
    let mut thumbprints = HashSet::new();
    let records = keys
        .iter()
        .map(|k| {
            let role = if k.revoked == Some(true) {
                Role::Revoked
            } else if k.current == Some(true) {
                Role::Current
            } else if k.next == Some(true) {
                Role::Next
            } else {
                Role::Previous
            };
            let owner = Owner {
                tenant,
                kind: Kind::TenantSigningKey,
                role,
                object_id: &k.kid,
                object_name: domain,
                source: Source::SigningKeys,
            };
            let r = owner.certificate(k.cert.as_deref().unwrap_or(""), Some(&k.kid));
            if let Some(sha1) = &r.sha1 {
                thumbprints.insert(sha1.clone());
            }
            if let Some(t) = &k.thumbprint {
                thumbprints.insert(x509::normalize_thumbprint(t));
            }
            r
        })
        .collect();
    (records, thumbprints)
}

/// What a client contributes directly, and the credential ids it references (for the
/// credentials call). The global client contributes nothing.
pub fn client(
    tenant: &str,
    c: &wire::Client,
    tenant_thumbprints: &HashSet<String>,
) -> (Vec<CertRecord>, HashSet<String>) {
    if c.global == Some(true) {
        return (Vec::new(), HashSet::new());
    }
    let name = c.name.as_deref().unwrap_or(&c.client_id);
    let mut out = Vec::new();
    if let Some(cert) = c.encryption_key.as_ref().and_then(|k| k.cert.as_deref()) {
        let owner = Owner {
            tenant,
            kind: Kind::ClientEncryptionKey,
            role: Role::Active,
            object_id: &c.client_id,
            object_name: name,
            source: Source::Clients,
        };
        out.push(owner.certificate(cert, None));
    }
    for key in c.signing_keys.iter().flatten() {
        let Some(cert) = key.cert.as_deref() else {
            continue;
        };
        let owner = Owner {
            tenant,
            kind: Kind::ClientSigningKey,
            role: Role::Active,
            object_id: &c.client_id,
            object_name: name,
            source: Source::Clients,
        };
        let r = owner.certificate(cert, None);
        let is_tenant_key = r
            .sha1
            .as_ref()
            .is_some_and(|s| tenant_thumbprints.contains(s));
        if !is_tenant_key && !out.iter().any(|o: &CertRecord| o.key() == r.key()) {
            out.push(r);
        }
    }
    if let Some(cert) = saml_addon_cert(c) {
        let owner = Owner {
            tenant,
            kind: Kind::ClientSamlSpCert,
            role: Role::Active,
            object_id: &c.client_id,
            object_name: name,
            source: Source::Clients,
        };
        out.push(owner.certificate(cert, None));
    }
    (out, credential_refs(c))
}

/// `addons.samlp.signingCert` when it holds a certificate: Auth0 also accepts a bare public key
/// there, which has no expiry and so is not a record (docs/inventory.md).
fn saml_addon_cert(c: &wire::Client) -> Option<&str> {
    let cert = c
        .addons
        .as_ref()?
        .get("samlp")?
        .get("signingCert")?
        .as_str()
        .filter(|s| !s.trim().is_empty())?;
    (!is_bare_public_key(cert)).then_some(cert)
}

/// Whether a PEM text (raw, or base64 of the PEM) holds a public key and no certificate.
fn is_bare_public_key(value: &str) -> bool {
    use base64::Engine as _;
    let decoded;
    let text = if value.contains("-----BEGIN") {
        value
    } else {
        let compact: String = value.split_whitespace().collect();
        match base64::engine::general_purpose::STANDARD.decode(compact) {
            Ok(bytes) => {
                decoded = String::from_utf8_lossy(&bytes).into_owned();
                &decoded
            }
            Err(_) => return false,
        }
    };
    text.contains("PUBLIC KEY-----") && !text.contains("CERTIFICATE-----")
}

/// Credential ids referenced by `client_authentication_methods` (any method),
/// `signed_request_object` and `token_vault_privileged_access`.
pub fn credential_refs(c: &wire::Client) -> HashSet<String> {
    fn ids(v: Option<&Value>, out: &mut HashSet<String>) {
        let Some(creds) = v
            .and_then(|v| v.get("credentials"))
            .and_then(Value::as_array)
        else {
            return;
        };
        out.extend(
            creds
                .iter()
                .filter_map(|c| c.get("id").and_then(Value::as_str))
                .map(str::to_string),
        );
    }
    let mut out = HashSet::new();
    if let Some(Value::Object(methods)) = &c.client_authentication_methods {
        for method in methods.values() {
            ids(Some(method), &mut out);
        }
    }
    ids(c.signed_request_object.as_ref(), &mut out);
    ids(c.token_vault_privileged_access.as_ref(), &mut out);
    out
}

/// A client's credentials: `in_use` when referenced, `unused` otherwise.
pub fn credentials(
    tenant: &str,
    client_id: &str,
    client_name: &str,
    refs: &HashSet<String>,
    creds: &[wire::Credential],
) -> Vec<CertRecord> {
    creds
        .iter()
        .map(|cred| {
            let owner = Owner {
                tenant,
                kind: Kind::ClientCredential,
                role: if refs.contains(&cred.id) {
                    Role::InUse
                } else {
                    Role::Unused
                },
                object_id: client_id,
                object_name: client_name,
                source: Source::ClientCredentials,
            };
            let mut r = owner.blank(cred.id.clone());
            r.subject = cred.subject_dn.as_ref().map(|s| s.replace('\n', ", "));
            r.sha256 = cred.thumbprint_sha256.as_deref().and_then(base64url_to_hex);
            match cred.expires_at.as_deref() {
                None => r.validity = Validity::Never,
                Some(at) => match OffsetDateTime::parse(at, &Rfc3339) {
                    Ok(not_after) => {
                        r.validity = Validity::Window {
                            not_before: None,
                            not_after,
                        }
                    }
                    Err(e) => r.error = Some(format!("expires_at {at:?} is not RFC 3339: {e}")),
                },
            }
            r
        })
        .collect()
}

fn base64url_to_hex(s: &str) -> Option<String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()?;
    (bytes.len() == 32).then(|| hex::encode(bytes))
}

/// Whether a connection can hold connection keys: every oidc/okta connection, since keys can be
/// created before `private_key_jwt` is switched on (docs/inventory.md).
pub fn has_connection_keys(c: &wire::Connection) -> bool {
    matches!(c.strategy.as_str(), "oidc" | "okta")
}

/// What a connection's options contribute (docs/inventory.md). The caller checks `options` is present.
pub fn connection(tenant: &str, c: &wire::Connection, options: &Value) -> Vec<CertRecord> {
    let owner = |kind| Owner {
        tenant,
        kind,
        role: Role::Active,
        object_id: &c.id,
        object_name: &c.name,
        source: Source::Connections,
    };
    let str_at = |key: &str| {
        options
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    let mut out: Vec<CertRecord> = Vec::new();
    let push = |r: CertRecord, out: &mut Vec<CertRecord>| {
        if !out.iter().any(|o| o.key() == r.key()) {
            out.push(r);
        }
    };

    let idp_certs: Vec<&str> = match c.strategy.as_str() {
        "samlp" | "pingfederate" => {
            // `cert` is Auth0's decoded copy of `signingCert`; identical values yield one record.
            let mut v: Vec<&str> = str_at("cert").into_iter().collect();
            if let Some(sc) = str_at("signingCert") {
                v.push(sc);
            }
            v
        }
        "ad" => options
            .get("certs")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let signing = owner(Kind::ConnectionSigningCert);
    let decoded: Vec<CertRecord> = idp_certs
        .iter()
        .map(|v| signing.certificate(v, None))
        .collect();
    // Prefer the parseable ones: a broken `signingCert` next to a good `cert` is not a finding.
    let any_ok = decoded.iter().any(|r| r.error.is_none());
    for r in decoded {
        if r.error.is_none() || !any_ok {
            push(r, &mut out);
        }
    }
    if out.is_empty()
        && matches!(
            c.strategy.as_str(),
            "samlp" | "adfs" | "waad" | "ad" | "pingfederate"
        )
    {
        let thumbs = options.get("thumbprints").and_then(Value::as_array);
        for t in thumbs.into_iter().flatten().filter_map(Value::as_str) {
            let t = x509::normalize_thumbprint(t);
            if t.is_empty() {
                continue;
            }
            let mut r = owner(Kind::ConnectionThumbprint).blank(t.clone());
            if t.len() == 40 {
                r.sha1 = Some(t);
            }
            push(r, &mut out);
        }
    }
    if let Some(cert) = options
        .get("signing_key")
        .and_then(|k| k.get("cert"))
        .and_then(Value::as_str)
    {
        push(
            owner(Kind::ConnectionSpSigningKey).certificate(cert, None),
            &mut out,
        );
    }
    let decryption = match options.get("decryptionKey") {
        Some(Value::String(pem)) => Some(pem.as_str()),
        Some(obj) => obj.get("cert").and_then(Value::as_str),
        None => None,
    };
    if let Some(cert) = decryption {
        push(
            owner(Kind::ConnectionDecryptionKey).certificate(cert, None),
            &mut out,
        );
    }
    out
}

/// A connection's keys (`private_key_jwt` signing keys, encryption keys), with their `key_use`.
pub fn connection_keys(
    tenant: &str,
    c: &wire::Connection,
    keys: &[wire::ConnectionKey],
) -> Vec<CertRecord> {
    keys.iter()
        .map(|k| {
            let role = if k.current == Some(true) {
                Role::Current
            } else if k.next == Some(true) {
                Role::Next
            } else {
                Role::Previous
            };
            let mut r = Owner {
                tenant,
                kind: Kind::ConnectionKey,
                role,
                object_id: &c.id,
                object_name: &c.name,
                source: Source::ConnectionKeys,
            }
            .certificate(k.cert.as_deref().unwrap_or(""), Some(&k.kid));
            r.key_use = k.key_use.clone();
            r
        })
        .collect()
}

/// Custom signing keys: one record per JWK with `x5c` (its first certificate); a key without
/// a certificate has no expiry and is not a record. The object is the key itself, like a tenant
/// signing key (`object_id` = `cert_id` = kid, `object_name` = the tenant's domain).
pub fn custom_signing_keys(
    tenant: &str,
    domain: &str,
    keys: &[wire::CustomSigningKey],
) -> Vec<CertRecord> {
    keys.iter()
        .filter_map(|k| {
            let der = k.x5c.as_ref()?.first()?;
            let fallback;
            let kid = match k.kid.as_deref() {
                Some(kid) => kid,
                None => {
                    fallback = x509::sha1_hex(der.as_bytes());
                    &fallback
                }
            };
            let owner = Owner {
                tenant,
                kind: Kind::CustomSigningKey,
                role: Role::Active,
                object_id: kid,
                object_name: domain,
                source: Source::CustomSigningKeys,
            };
            Some(owner.certificate(der, Some(kid)))
        })
        .collect()
}

/// What the JWKS check needs of the custom signing keys: every kid, and the SHA-1 of `x5c[0]`.
pub fn custom_signing_jwks(keys: &[wire::CustomSigningKey]) -> Vec<crate::remote::TenantJwk> {
    keys.iter()
        .map(|k| crate::remote::TenantJwk {
            kid: k.kid.clone(),
            sha1: k
                .x5c
                .as_ref()
                .and_then(|c| c.first())
                .and_then(|c| x509::decode(c).ok())
                .map(|info| info.sha1),
        })
        .collect()
}

/// The tenant's SAML SP certificate (`/pem?cert=connection`), owned by the tenant's domain.
pub fn tenant_saml_cert(tenant: &str, domain: &str, pem: &[u8]) -> CertRecord {
    Owner {
        tenant,
        kind: Kind::TenantSamlCert,
        role: Role::Active,
        object_id: domain,
        object_name: domain,
        source: Source::TenantSaml,
    }
    .certificate(&String::from_utf8_lossy(pem), None)
}

#[cfg(test)]
mod tests;
