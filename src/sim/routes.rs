//! The simulator's route table (pure): maps a method and path to an [`Endpoint`] and the axum-style
//! route template (`/api/v2/clients/{id}/credentials`) used by faults and request recording.
//!
//! Routing is done here rather than by axum's router so that recording, faults, rate limiting and
//! authentication can all key on the template before any handler runs.

/// The route template of the token endpoint.
pub const TOKEN: &str = "/oauth/token";
/// The route template of the tenant's public JWKS.
pub const TENANT_JWKS: &str = "/.well-known/jwks.json";
/// The route template of the tenant's public certificate downloads (`/pem`, `?cert=connection`
/// for the SAML SP certificate).
pub const TENANT_PEM: &str = "/pem";

/// A document a simulated upstream IdP serves under `/idp/{connection id}/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdpDocument {
    /// SAML 2.0 metadata (samlp `options.metadataUrl`).
    SamlMetadata,
    /// ADFS `FederationMetadata.xml` (adfs `options.adfs_server`).
    FederationMetadata,
    /// OIDC discovery (oidc/okta `options.discovery_url`).
    OidcDiscovery,
    /// The JWKS the discovery document points at (`options.jwks_uri`).
    OidcJwks,
}

const IDP_DOCUMENTS: [IdpDocument; 4] = [
    IdpDocument::SamlMetadata,
    IdpDocument::FederationMetadata,
    IdpDocument::OidcDiscovery,
    IdpDocument::OidcJwks,
];

impl IdpDocument {
    /// The path below `/idp/{id}/`.
    fn suffix(self) -> &'static str {
        match self {
            IdpDocument::SamlMetadata => "samlp/metadata.xml",
            IdpDocument::FederationMetadata => "FederationMetadata/2007-06/FederationMetadata.xml",
            IdpDocument::OidcDiscovery => ".well-known/openid-configuration",
            IdpDocument::OidcJwks => ".well-known/jwks.json",
        }
    }

    /// The route template.
    pub fn template(self) -> &'static str {
        match self {
            IdpDocument::SamlMetadata => "/idp/{id}/samlp/metadata.xml",
            IdpDocument::FederationMetadata => {
                "/idp/{id}/FederationMetadata/2007-06/FederationMetadata.xml"
            }
            IdpDocument::OidcDiscovery => "/idp/{id}/.well-known/openid-configuration",
            IdpDocument::OidcJwks => "/idp/{id}/.well-known/jwks.json",
        }
    }
}

/// The path (without the leading `/`) of `doc` of connection `id`'s IdP.
pub fn idp_path(id: &str, doc: IdpDocument) -> String {
    format!("idp/{id}/{}", doc.suffix())
}

/// One operation of the simulated API, with its path parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /oauth/token`
    Token,
    /// `GET /api/v2/keys/signing`
    ListSigningKeys,
    /// `GET /api/v2/keys/signing/{kid}`
    GetSigningKey(String),
    /// `POST /api/v2/keys/signing/rotate`
    RotateSigningKeys,
    /// `GET /api/v2/clients`
    ListClients,
    /// `GET /api/v2/clients/{id}`
    GetClient(String),
    /// `PATCH /api/v2/clients/{id}`
    PatchClient(String),
    /// `GET /api/v2/clients/{id}/credentials`
    ListCredentials(String),
    /// `POST /api/v2/clients/{id}/credentials`
    CreateCredential(String),
    /// `GET /api/v2/clients/{id}/credentials/{credential_id}`
    GetCredential(String, String),
    /// `DELETE /api/v2/clients/{id}/credentials/{credential_id}`
    DeleteCredential(String, String),
    /// `GET /api/v2/connections`
    ListConnections,
    /// `GET /api/v2/connections/{id}`
    GetConnection(String),
    /// `PATCH /api/v2/connections/{id}`
    PatchConnection(String),
    /// `GET /api/v2/connections/{id}/keys`
    ListConnectionKeys(String),
    /// `GET /api/v2/custom-domains`
    ListCustomDomains,
    /// `GET /api/v2/keys/custom-signing`
    ListCustomSigningKeys,
    /// `GET /api/v2/tenants/settings`
    GetTenantSettings,
    /// `GET /pem` (public; `?cert=connection` is the SAML SP certificate)
    TenantPem,
    /// `GET /.well-known/jwks.json` (public)
    TenantJwks,
    /// `GET /idp/{id}/…` (public): a document of a connection's simulated upstream IdP.
    Idp(String, IdpDocument),
}

impl Endpoint {
    /// Whether the endpoint is public: no bearer token, and not under the Management API's
    /// rate limit.
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            Endpoint::TenantJwks | Endpoint::TenantPem | Endpoint::Idp(..)
        )
    }
}

/// A path that matched a route template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    /// The route template, e.g. `/api/v2/connections/{id}`.
    pub template: &'static str,
    /// The operation, or `None` when the path exists but not with this method (405).
    pub endpoint: Option<Endpoint>,
}

/// Matches `method` + `path` against the simulated API; `None` for an unknown path (404).
pub fn match_route(method: &str, path: &str) -> Option<Matched> {
    use Endpoint as E;
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let owned = |s: &str| s.to_owned();
    let (template, endpoint): (&'static str, Option<Endpoint>) = match (method, segs.as_slice()) {
        (m, ["oauth", "token"]) => (TOKEN, (m == "POST").then_some(E::Token)),
        (m, ["api", "v2", "keys", "custom-signing"]) => (
            "/api/v2/keys/custom-signing",
            (m == "GET").then_some(E::ListCustomSigningKeys),
        ),
        (m, ["pem"]) => (TENANT_PEM, (m == "GET").then_some(E::TenantPem)),
        (m, ["api", "v2", "tenants", "settings"]) => (
            "/api/v2/tenants/settings",
            (m == "GET").then_some(E::GetTenantSettings),
        ),
        (m, ["api", "v2", "keys", "signing"]) => (
            "/api/v2/keys/signing",
            (m == "GET").then_some(E::ListSigningKeys),
        ),
        ("POST", ["api", "v2", "keys", "signing", "rotate"]) => {
            ("/api/v2/keys/signing/rotate", Some(E::RotateSigningKeys))
        }
        (m, ["api", "v2", "keys", "signing", kid]) if !kid.is_empty() => (
            "/api/v2/keys/signing/{kid}",
            (m == "GET").then(|| E::GetSigningKey(owned(kid))),
        ),
        (m, ["api", "v2", "clients"]) => {
            ("/api/v2/clients", (m == "GET").then_some(E::ListClients))
        }
        (m, ["api", "v2", "clients", id]) if !id.is_empty() => (
            "/api/v2/clients/{id}",
            match m {
                "GET" => Some(E::GetClient(owned(id))),
                "PATCH" => Some(E::PatchClient(owned(id))),
                _ => None,
            },
        ),
        (m, ["api", "v2", "clients", id, "credentials"]) if !id.is_empty() => (
            "/api/v2/clients/{id}/credentials",
            match m {
                "GET" => Some(E::ListCredentials(owned(id))),
                "POST" => Some(E::CreateCredential(owned(id))),
                _ => None,
            },
        ),
        (m, ["api", "v2", "clients", id, "credentials", cred])
            if !id.is_empty() && !cred.is_empty() =>
        {
            (
                "/api/v2/clients/{id}/credentials/{credential_id}",
                match m {
                    "GET" => Some(E::GetCredential(owned(id), owned(cred))),
                    "DELETE" => Some(E::DeleteCredential(owned(id), owned(cred))),
                    _ => None,
                },
            )
        }
        (m, ["api", "v2", "connections"]) => (
            "/api/v2/connections",
            (m == "GET").then_some(E::ListConnections),
        ),
        (m, ["api", "v2", "connections", id]) if !id.is_empty() => (
            "/api/v2/connections/{id}",
            match m {
                "GET" => Some(E::GetConnection(owned(id))),
                "PATCH" => Some(E::PatchConnection(owned(id))),
                _ => None,
            },
        ),
        (m, ["api", "v2", "connections", id, "keys"]) if !id.is_empty() => (
            "/api/v2/connections/{id}/keys",
            (m == "GET").then(|| E::ListConnectionKeys(owned(id))),
        ),
        (m, ["api", "v2", "custom-domains"]) => (
            "/api/v2/custom-domains",
            (m == "GET").then_some(E::ListCustomDomains),
        ),
        (m, [".well-known", "jwks.json"]) => (TENANT_JWKS, (m == "GET").then_some(E::TenantJwks)),
        (m, ["idp", id, rest @ ..]) if !id.is_empty() => {
            let rest = rest.join("/");
            let doc = IDP_DOCUMENTS.into_iter().find(|d| d.suffix() == rest)?;
            (doc.template(), (m == "GET").then(|| E::Idp(owned(id), doc)))
        }
        _ => return None,
    };
    Some(Matched { template, endpoint })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_parameters() {
        let m = match_route("GET", "/api/v2/clients/abc/credentials").unwrap();
        assert_eq!(m.template, "/api/v2/clients/{id}/credentials");
        assert_eq!(m.endpoint, Some(Endpoint::ListCredentials("abc".into())));
        let m = match_route("DELETE", "/api/v2/clients/abc/credentials/cred_1").unwrap();
        assert_eq!(
            m.endpoint,
            Some(Endpoint::DeleteCredential("abc".into(), "cred_1".into()))
        );
        let m = match_route("POST", "/api/v2/keys/signing/rotate").unwrap();
        assert_eq!(m.template, "/api/v2/keys/signing/rotate");
        let m = match_route("GET", "/api/v2/keys/signing/rotate").unwrap();
        assert_eq!(m.endpoint, Some(Endpoint::GetSigningKey("rotate".into())));
        assert_eq!(match_route("POST", "/oauth/token").unwrap().template, TOKEN);
        let m = match_route("GET", "/api/v2/custom-domains").unwrap();
        assert_eq!(m.endpoint, Some(Endpoint::ListCustomDomains));
        let m = match_route("GET", "/.well-known/jwks.json").unwrap();
        assert!(m.endpoint.unwrap().is_public());
    }

    #[test]
    fn idp_documents_round_trip_through_their_paths() {
        for doc in IDP_DOCUMENTS {
            let path = format!("/{}", idp_path("con_1", doc));
            let m = match_route("GET", &path).unwrap();
            assert_eq!(m.template, doc.template());
            assert_eq!(m.endpoint, Some(Endpoint::Idp("con_1".into(), doc)));
        }
        assert_eq!(match_route("GET", "/idp/con_1/other.xml"), None);
        assert_eq!(
            match_route("POST", "/idp/con_1/samlp/metadata.xml")
                .unwrap()
                .endpoint,
            None
        );
    }

    #[test]
    fn wrong_method_and_unknown_paths() {
        let m = match_route("DELETE", "/api/v2/connections/con_1").unwrap();
        assert_eq!(m.template, "/api/v2/connections/{id}");
        assert_eq!(m.endpoint, None);
        assert_eq!(match_route("GET", "/api/v2/users"), None);
        assert_eq!(match_route("GET", "/api/v2/clients/"), None);
        assert_eq!(match_route("GET", "/"), None);
    }
}
