//! The Management API operations of the simulator, as functions of the tenant and the request
//! (no HTTP, no sockets): scope checks, filtering, pagination, PATCH semantics, credential
//! creation and the two-credential limit, signing-key rotation, and the client-credentials check
//! of `/oauth/token`. Error bodies are Auth0's (`{"statusCode","error","message","errorCode"}`,
//! OAuth-style `{"error","error_description"}` on `/oauth/token`).
//!
//! This file holds the replies, the errors, the dispatch ([`handle`]), the listings and the PATCH
//! semantics; `credentials` creates client credentials, `token` checks the client-credentials
//! grant, `metadata` re-reads a samlp connection's `metadataUrl` on PATCH.

mod credentials;
mod metadata;
mod token;

pub use metadata::Refresh;

use credentials::create_credential;
pub use token::{TokenRequest, authorize_client};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::faults::PagingFault;
use super::options::apply_computed;
use super::pagination::{PageRequest, Query, QueryError};
use super::render::{self, ConnectionView, FieldFilter, Scopes};
use super::routes::Endpoint;
use super::tenant::{SimEncryptionKey, SimTenant};

/// A successful answer: status and JSON body (`None` = no body, e.g. 204).
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Option<Value>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Self {
            status: 200,
            body: Some(body),
        }
    }
}

/// An error answer with its Auth0 body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

impl ApiError {
    /// `{"statusCode","error","message"[,"errorCode"]}`.
    pub fn new(status: u16, message: &str, error_code: Option<&str>) -> Self {
        let mut body = json!({
            "statusCode": status,
            "error": reason(status),
            "message": message,
        });
        if let Some(code) = error_code {
            body["errorCode"] = json!(code);
        }
        Self { status, body }
    }

    /// OAuth-style error of `/oauth/token`.
    pub fn oauth(status: u16, error: &str, description: &str) -> Self {
        Self {
            status,
            body: json!({ "error": error, "error_description": description }),
        }
    }

    /// 403 `insufficient_scope` naming the scopes that would have worked.
    pub fn insufficient_scope(expected: &[&str]) -> Self {
        Self::new(
            403,
            &format!(
                "Insufficient scope, expected any of: {}",
                expected.join(",")
            ),
            Some("insufficient_scope"),
        )
    }

    /// 401 for an expired, revoked or unknown bearer token.
    pub fn expired_token() -> Self {
        let message = "Expired token received for JSON Web Token validation";
        Self {
            status: 401,
            body: json!({
                "statusCode": 401,
                "error": "Unauthorized",
                "message": message,
                "attributes": { "error": message },
            }),
        }
    }

    /// 401 for a request without a bearer token.
    pub fn missing_token() -> Self {
        Self::new(401, "Missing authentication", None)
    }

    /// 429 of the global rate limit.
    pub fn too_many_requests() -> Self {
        Self::new(
            429,
            "Global limit has been reached",
            Some("too_many_requests"),
        )
    }

    /// 404 for a path the simulated API does not have.
    pub fn unknown_route() -> Self {
        Self::new(404, "Not Found", None)
    }

    /// 405 for a known path with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(405, "Method Not Allowed", None)
    }

    fn invalid_body(message: &str) -> Self {
        Self::new(400, message, Some("invalid_body"))
    }

    fn no_client() -> Self {
        Self::new(404, "The client does not exist", Some("inexistent_client"))
    }

    fn no_connection() -> Self {
        Self::new(
            404,
            "The connection does not exist",
            Some("inexistent_connection"),
        )
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        Self::new(400, &e.0, Some("invalid_query_string"))
    }
}

/// The HTTP reason phrase Auth0 puts in `error`.
pub fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

/// One authenticated Management API request.
pub struct ApiRequest<'a> {
    /// Parsed query string.
    pub query: &'a Query,
    /// Raw body.
    pub body: &'a [u8],
    /// Scopes of the bearer token.
    pub scopes: &'a Scopes,
    /// How a listing's paging misbehaves, when a fault says so.
    pub paging: Option<&'a PagingFault>,
    /// Where a PATCH carrying `options.metadataUrl` downloads the metadata from, or not at all.
    pub refresh: Refresh<'a>,
}

impl ApiRequest<'_> {
    fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        match serde_json::from_slice(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(ApiError::invalid_body(
                "Payload validation error: 'Expected type object'.",
            )),
            Err(_) => Err(ApiError::new(
                400,
                "Invalid request payload JSON format",
                None,
            )),
        }
    }

    fn require_any(&self, scopes: &[&str]) -> Result<(), ApiError> {
        if self.scopes.has_any(scopes) {
            Ok(())
        } else {
            Err(ApiError::insufficient_scope(scopes))
        }
    }

    fn fields(&self) -> Result<FieldFilter, ApiError> {
        Ok(FieldFilter::new(
            self.query.get("fields"),
            self.query.bool("include_fields")?,
        ))
    }
}

/// Runs one Management API operation (everything except `/oauth/token`).
pub fn handle(
    endpoint: &Endpoint,
    req: &ApiRequest<'_>,
    tenant: &mut SimTenant,
) -> Result<Reply, ApiError> {
    match endpoint {
        Endpoint::Token => Err(ApiError::unknown_route()),
        Endpoint::ListSigningKeys => {
            req.require_any(&["read:signing_keys"])?;
            Ok(Reply::ok(Value::Array(
                tenant
                    .signing_keys
                    .iter()
                    .map(render::signing_key)
                    .collect(),
            )))
        }
        Endpoint::GetSigningKey(kid) => {
            req.require_any(&["read:signing_keys"])?;
            tenant
                .signing_keys
                .iter()
                .find(|k| &k.kid == kid)
                .map(|k| Reply::ok(render::signing_key(k)))
                .ok_or_else(|| ApiError::new(404, "Signing key not found.", None))
        }
        Endpoint::RotateSigningKeys => {
            if !(req.scopes.has("create:signing_keys") && req.scopes.has("update:signing_keys")) {
                return Err(ApiError::new(
                    403,
                    "Insufficient scope, expected all of: create:signing_keys,update:signing_keys",
                    Some("insufficient_scope"),
                ));
            }
            let key = tenant.rotate_signing_keys();
            Ok(Reply {
                status: 201,
                body: Some(json!({ "cert": key.cert, "kid": key.kid })),
            })
        }
        Endpoint::ListClients => list_clients(req, tenant),
        Endpoint::GetClient(id) => {
            req.require_any(CLIENT_READ)?;
            let client = tenant.get_client(id).ok_or_else(ApiError::no_client)?;
            let body = render::client_for(tenant, client, req.scopes);
            Ok(Reply::ok(req.fields()?.apply(body, &["tenant"])))
        }
        Endpoint::PatchClient(id) => patch_client(id, req, tenant),
        Endpoint::ListCredentials(id) => {
            req.require_any(&["read:client_credentials"])?;
            let client = tenant.get_client(id).ok_or_else(ApiError::no_client)?;
            Ok(Reply::ok(Value::Array(
                client.credentials.iter().map(render::credential).collect(),
            )))
        }
        Endpoint::GetCredential(id, cred_id) => {
            req.require_any(&["read:client_credentials"])?;
            let client = tenant.get_client(id).ok_or_else(ApiError::no_client)?;
            client
                .credentials
                .iter()
                .find(|c| &c.id == cred_id)
                .map(|c| Reply::ok(render::credential(c)))
                .ok_or_else(no_credential)
        }
        Endpoint::CreateCredential(id) => create_credential(id, req, tenant),
        Endpoint::DeleteCredential(id, cred_id) => {
            req.require_any(&["delete:client_credentials"])?;
            let client = tenant.client_mut(id).ok_or_else(ApiError::no_client)?;
            let before = client.credentials.len();
            client.credentials.retain(|c| &c.id != cred_id);
            if client.credentials.len() == before {
                return Err(no_credential());
            }
            Ok(Reply {
                status: 204,
                body: None,
            })
        }
        Endpoint::ListConnections => list_connections(req, tenant),
        Endpoint::GetConnection(id) => {
            req.require_any(&["read:connections"])?;
            let conn = tenant
                .get_connection(id)
                .ok_or_else(ApiError::no_connection)?;
            let body = render::connection(
                conn,
                ConnectionView::Single,
                req.scopes.has("read:connections_options"),
            );
            Ok(Reply::ok(
                req.fields()?.apply(body, &["is_domain_connection"]),
            ))
        }
        Endpoint::PatchConnection(id) => patch_connection(id, req, tenant),
        Endpoint::ListCustomDomains => list_custom_domains(req, tenant),
        Endpoint::TenantJwks | Endpoint::TenantPem | Endpoint::Idp(..) => {
            Err(ApiError::unknown_route())
        }
        Endpoint::GetTenantSettings => {
            req.require_any(&["read:tenant_settings"])?;
            let body = serde_json::json!({
                "friendly_name": tenant.tenant_name,
                "flags": { "enable_client_connections": false },
                "mtls": { "enable_endpoint_aliases": tenant.mtls_endpoint_aliases },
            });
            Ok(Reply::ok(req.fields()?.apply(body, &[])))
        }
        Endpoint::ListCustomSigningKeys => {
            req.require_any(&["read:custom_signing_keys"])?;
            super::public::custom_signing_keys(tenant)
                .map(Reply::ok)
                .ok_or_else(|| {
                    ApiError::new(404, "No custom signing keys found for this tenant", None)
                })
        }
        Endpoint::ListConnectionKeys(id) => {
            req.require_any(&["read:connections_keys"])?;
            let conn = tenant
                .get_connection(id)
                .ok_or_else(ApiError::no_connection)?;
            Ok(Reply::ok(Value::Array(
                conn.keys.iter().map(render::connection_key).collect(),
            )))
        }
    }
}

const CLIENT_READ: &[&str] = &[
    "read:clients",
    "read:client_keys",
    "read:client_credentials",
    "read:client_summary",
];

fn no_credential() -> ApiError {
    ApiError::new(
        404,
        "The credential does not exist",
        Some("inexistent_credential"),
    )
}

fn list_clients(req: &ApiRequest<'_>, tenant: &SimTenant) -> Result<Reply, ApiError> {
    req.require_any(CLIENT_READ)?;
    let q = req.query;
    let page = PageRequest::from_query(q)?;
    let fields = req.fields()?;
    let is_global = q.bool("is_global")?;
    let is_first_party = q.bool("is_first_party")?;
    let app_types = q.get_all("app_type");
    let items: Vec<_> = tenant
        .clients
        .iter()
        .filter(|c| is_global.is_none_or(|g| c.global == g))
        .filter(|c| is_first_party.is_none_or(|f| c.is_first_party == f))
        .filter(|c| {
            app_types.is_empty()
                || c.app_type
                    .as_deref()
                    .is_some_and(|t| app_types.contains(&t))
        })
        .collect();
    Ok(Reply::ok(page.paginate(
        req.paging,
        items,
        "clients",
        |c| fields.apply(render::client_for(tenant, c, req.scopes), &["tenant"]),
    )))
}

fn list_connections(req: &ApiRequest<'_>, tenant: &SimTenant) -> Result<Reply, ApiError> {
    req.require_any(&["read:connections"])?;
    let q = req.query;
    let page = PageRequest::from_query(q)?;
    let fields = req.fields()?;
    let strategies = q.get_all("strategy");
    let name = q.get("name");
    let with_options = req.scopes.has("read:connections_options");
    let items: Vec<_> = tenant
        .connections
        .iter()
        .filter(|c| strategies.is_empty() || strategies.contains(&c.strategy.as_str()))
        .filter(|c| name.is_none_or(|n| c.name == n))
        .collect();
    Ok(Reply::ok(page.paginate(
        req.paging,
        items,
        "connections",
        |c| {
            fields.apply(
                render::connection(c, ConnectionView::ListItem, with_options),
                &["is_domain_connection"],
            )
        },
    )))
}

/// `GET /api/v2/custom-domains`: checkpoint pages (`{"custom_domains":[…],"next"?}`) with
/// `take`/`from`, otherwise every domain as a bare array (the endpoint has no offset paging).
fn list_custom_domains(req: &ApiRequest<'_>, tenant: &SimTenant) -> Result<Reply, ApiError> {
    req.require_any(&["read:custom_domains"])?;
    let fields = req.fields()?;
    let render = |d| fields.apply(render::custom_domain(tenant, d), &[]);
    let items = tenant.custom_domains.iter();
    Ok(Reply::ok(match PageRequest::from_query(req.query)? {
        page @ PageRequest::Checkpoint { .. } => {
            page.paginate(req.paging, items.collect(), "custom_domains", render)
        }
        PageRequest::Offset { .. } => Value::Array(items.map(render).collect()),
    }))
}

/// `PATCH /api/v2/connections/{id}`: `options`, when sent, replaces the whole object (then
/// Auth0's computed members are recomputed, for samlp from the metadata at `metadataUrl` when
/// it carries one); `display_name` falls back to `name` when omitted; other top-level members
/// are merged. Answers with the full connection.
fn patch_connection(
    id: &str,
    req: &ApiRequest<'_>,
    tenant: &mut SimTenant,
) -> Result<Reply, ApiError> {
    req.require_any(&["update:connections"])?;
    let mut body = req.json_object()?;
    if tenant.get_connection(id).is_none() {
        return Err(ApiError::no_connection());
    }
    if body.contains_key("options") {
        req.require_any(&["update:connections_options"])?;
    }
    for forbidden in ["id", "name", "strategy"] {
        if body.contains_key(forbidden) {
            return Err(ApiError::invalid_body(&format!(
                "Payload validation error: 'Additional properties not allowed: {forbidden}'."
            )));
        }
    }
    let (strategy, previous) = tenant
        .get_connection(id)
        .map(|c| (c.strategy.clone(), c.options.clone()))
        .unwrap_or_default();
    let new_options = match body.remove("options") {
        None => None,
        Some(Value::Object(mut options)) => {
            metadata::apply(tenant, &strategy, &mut options, &previous, req.refresh)?;
            apply_computed(&strategy, &mut options, Some(&previous))
                .map_err(|e| ApiError::invalid_body(&e.0))?;
            Some(options)
        }
        Some(_) => {
            return Err(ApiError::invalid_body(
                "Payload validation error: 'Expected type object but found type array' on property options.",
            ));
        }
    };
    let conn = tenant.connection_mut(id).expect("checked above");
    if let Some(options) = new_options {
        conn.options = options;
    }
    conn.display_name = match body.remove("display_name") {
        Some(Value::String(d)) => Some(d),
        _ => Some(conn.name.clone()),
    };
    for (key, value) in body {
        match (key.as_str(), value) {
            ("show_as_button", v) => conn.show_as_button = v.as_bool(),
            ("is_domain_connection", v) => conn.is_domain_connection = v.as_bool().unwrap_or(false),
            ("realms", v) => conn.realms = serde_json::from_value(v).unwrap_or_default(),
            ("enabled_clients", v) => {
                conn.enabled_clients = serde_json::from_value(v).unwrap_or_default();
            }
            (_, v) => {
                conn.extra.insert(key, v);
            }
        }
    }
    Ok(Reply::ok(render::connection(
        conn,
        ConnectionView::Single,
        true,
    )))
}

/// `PATCH /api/v2/clients/{id}`: top-level merge; `client_authentication_methods`,
/// `signed_request_object` and `encryption_key` are replaced whole (or removed with `null`) and
/// must only reference credentials the client has.
fn patch_client(id: &str, req: &ApiRequest<'_>, tenant: &mut SimTenant) -> Result<Reply, ApiError> {
    req.require_any(&[
        "update:clients",
        "update:client_keys",
        "update:client_credentials",
    ])?;
    let body = req.json_object()?;
    if body.contains_key("client_authentication_methods")
        || body.contains_key("signed_request_object")
    {
        req.require_any(&["update:client_credentials"])?;
    }
    if body.contains_key("client_secret") || body.contains_key("encryption_key") {
        req.require_any(&["update:client_keys"])?;
    }
    if body.contains_key("client_id") {
        return Err(ApiError::invalid_body(
            "Payload validation error: 'Additional properties not allowed: client_id'.",
        ));
    }
    let client = tenant.client_mut(id).ok_or_else(ApiError::no_client)?;
    let mut updated = client.clone();
    for (key, value) in body {
        let as_opt = |v: Value| (!v.is_null()).then_some(v);
        match key.as_str() {
            "name" => updated.name = value.as_str().unwrap_or_default().to_owned(),
            "app_type" => updated.app_type = value.as_str().map(str::to_owned),
            "description" => updated.description = value.as_str().map(str::to_owned),
            "is_first_party" => updated.is_first_party = value.as_bool().unwrap_or(true),
            "client_secret" => updated.client_secret = value.as_str().unwrap_or_default().into(),
            "client_authentication_methods" => {
                updated.client_authentication_methods = as_opt(value);
            }
            "signed_request_object" => updated.signed_request_object = as_opt(value),
            "encryption_key" => {
                updated.encryption_key = as_opt(value).map(|v| SimEncryptionKey {
                    public_key: str_member(&v, "pub"),
                    cert: str_member(&v, "cert"),
                    subject: str_member(&v, "subject"),
                });
            }
            _ => {
                updated.extra.insert(key, value);
            }
        }
    }
    for referenced in updated.referenced_credential_ids() {
        if !updated.credentials.iter().any(|c| c.id == referenced) {
            return Err(ApiError::invalid_body(&format!(
                "The credential {referenced} does not exist on this client"
            )));
        }
    }
    *client = updated;
    let client = tenant.get_client(id).expect("just updated");
    Ok(Reply::ok(render::client(tenant, client)))
}

fn str_member(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests;
