//! The client-credentials grant of `/oauth/token`: the request's fields (JSON or form body) and
//! the check of grant type, client secret and audience, with Auth0's OAuth-style errors.

use serde_json::Value;

use super::ApiError;
use crate::sim::tenant::SimTenant;

/// The fields of a `/oauth/token` request.
#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `client_secret`.
    pub client_secret: Option<String>,
    /// `audience`.
    pub audience: Option<String>,
}

impl TokenRequest {
    /// Reads a JSON or form-encoded body.
    pub fn parse(body: &[u8], json_body: bool) -> Self {
        let pairs: Vec<(String, String)> = if json_body {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => map
                    .into_iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
                    .collect(),
                _ => Vec::new(),
            }
        } else {
            url::form_urlencoded::parse(body).into_owned().collect()
        };
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        Self {
            grant_type: get("grant_type"),
            client_id: get("client_id"),
            client_secret: get("client_secret"),
            audience: get("audience"),
        }
    }
}

/// Checks a client-credentials grant; on success returns the app's `client_id` and scopes.
pub fn authorize_client(
    tenant: &SimTenant,
    req: &TokenRequest,
) -> Result<(String, Vec<String>), ApiError> {
    match req.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(ApiError::oauth(
                400,
                "unsupported_grant_type",
                &format!("Unsupported grant type: {other}"),
            ));
        }
        None => {
            return Err(ApiError::oauth(
                400,
                "invalid_request",
                "Missing required parameter: grant_type",
            ));
        }
    }
    let app = tenant
        .m2m_apps
        .iter()
        .find(|a| Some(&a.client_id) == req.client_id.as_ref())
        .filter(|a| Some(&a.client_secret) == req.client_secret.as_ref())
        .ok_or_else(|| ApiError::oauth(401, "access_denied", "Unauthorized"))?;
    match req.audience.as_deref() {
        Some(aud) if aud == tenant.audience() => Ok((app.client_id.clone(), app.scopes.clone())),
        Some(aud) => Err(ApiError::oauth(
            403,
            "access_denied",
            &format!("Service not enabled within domain: {aud}"),
        )),
        None => Err(ApiError::oauth(
            403,
            "access_denied",
            "No audience parameter was provided, and no default audience has been configured",
        )),
    }
}
