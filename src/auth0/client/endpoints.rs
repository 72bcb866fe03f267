//! The Management API calls of `Client`: for each `Auth0Api` method, the route template it is
//! counted under, the path (ids percent-encoded), the query (the fields certwatch reads) and how
//! the answer is read (a page, an array, a whole object). Transport, pacing and retries are the
//! parent module's.

use super::{Budget, Client, JWKS_ENDPOINT, status_error};
use crate::auth0::{Auth0Api, Error, Page, PageRequest, route, wire};
use bytes::Bytes;

#[async_trait::async_trait]
impl Auth0Api for Client {
    async fn signing_keys(&self) -> Result<Vec<wire::SigningKey>, Error> {
        self.get_array("/api/v2/keys/signing", "api/v2/keys/signing", "kid")
            .await
    }

    async fn clients(&self, page: &PageRequest) -> Result<Page<wire::Client>, Error> {
        let query = vec![
            ("fields", wire::CLIENT_FIELDS.to_string()),
            ("include_fields", "true".to_string()),
            ("is_global", "false".to_string()),
        ];
        self.get_page(
            route::CLIENTS,
            "api/v2/clients",
            query,
            page,
            "clients",
            "client_id",
        )
        .await
    }

    async fn client_credentials(&self, client_id: &str) -> Result<Vec<wire::Credential>, Error> {
        let path = format!("api/v2/clients/{}/credentials", encode(client_id));
        self.get_array("/api/v2/clients/{id}/credentials", &path, "id")
            .await
    }

    async fn connections(
        &self,
        page: &PageRequest,
        strategies: &[&str],
    ) -> Result<Page<wire::Connection>, Error> {
        let mut query = vec![
            ("fields", wire::CONNECTION_FIELDS.to_string()),
            ("include_fields", "true".to_string()),
        ];
        query.extend(strategies.iter().map(|s| ("strategy", s.to_string())));
        self.get_page(
            route::CONNECTIONS,
            "api/v2/connections",
            query,
            page,
            "connections",
            "id",
        )
        .await
    }

    async fn connection_keys(
        &self,
        connection_id: &str,
    ) -> Result<Vec<wire::ConnectionKey>, Error> {
        let path = format!("api/v2/connections/{}/keys", encode(connection_id));
        match self
            .get_array("/api/v2/connections/{id}/keys", &path, "kid")
            .await
        {
            // Every oidc/okta connection is asked, keys or not (docs/inventory.md): a 404 (no
            // keys, or the connection deleted since it was listed) holds no key to watch.
            Err(Error::NotFound { .. }) => Ok(Vec::new()),
            other => other,
        }
    }

    async fn custom_domains(&self, page: &PageRequest) -> Result<Page<wire::CustomDomain>, Error> {
        self.get_page(
            route::CUSTOM_DOMAINS,
            "api/v2/custom-domains",
            Vec::new(),
            page,
            "custom_domains",
            "custom_domain_id",
        )
        .await
    }

    async fn tenant_jwks(&self) -> Result<Bytes, Error> {
        self.get_public(JWKS_ENDPOINT, JWKS_ENDPOINT).await
    }

    async fn custom_signing_keys(&self) -> Result<Vec<wire::CustomSigningKey>, Error> {
        const ENDPOINT: &str = "/api/v2/keys/custom-signing";
        let body = match self.get(ENDPOINT, "api/v2/keys/custom-signing", &[]).await {
            Ok(body) => body,
            // docs/auth0-api.md: "No custom signing keys found for this tenant" is a 404.
            Err(Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let (items, rejected, _) =
            wire::decode_list(&body, "keys", "kid").map_err(Error::Decode)?;
        if let Some(first) = rejected.first() {
            tracing::warn!(tenant = %self.settings.tenant, endpoint = ENDPOINT, rejected = rejected.len(), first = %first.message, "keys that do not decode were skipped");
        }
        Ok(items)
    }

    async fn mtls_endpoint_aliases(&self) -> Result<bool, Error> {
        let query = [
            ("fields", "mtls".to_string()),
            ("include_fields", "true".to_string()),
        ];
        let body = self
            .get(
                "/api/v2/tenants/settings",
                "api/v2/tenants/settings",
                &query,
            )
            .await?;
        wire::mtls_endpoint_aliases(&body).map_err(Error::Decode)
    }

    async fn tenant_saml_cert(&self) -> Result<Option<Bytes>, Error> {
        match self
            .get_public(TENANT_SAML_ENDPOINT, "pem?cert=connection")
            .await
        {
            Ok(body) => Ok(Some(body)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn get_connection(&self, id: &str) -> Result<serde_json::Value, Error> {
        let path = format!("api/v2/connections/{}", encode(id));
        self.write_json(
            reqwest::Method::GET,
            "/api/v2/connections/{id}",
            &path,
            None,
        )
        .await
    }

    async fn patch_connection(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let path = format!("api/v2/connections/{}", encode(id));
        self.write_json(
            reqwest::Method::PATCH,
            "/api/v2/connections/{id}",
            &path,
            Some(body),
        )
        .await
    }

    async fn get_client(&self, id: &str) -> Result<serde_json::Value, Error> {
        let path = format!("api/v2/clients/{}", encode(id));
        self.write_json(reqwest::Method::GET, "/api/v2/clients/{id}", &path, None)
            .await
    }

    async fn patch_client(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let path = format!("api/v2/clients/{}", encode(id));
        self.write_json(
            reqwest::Method::PATCH,
            "/api/v2/clients/{id}",
            &path,
            Some(body),
        )
        .await
    }

    async fn create_credential(
        &self,
        client_id: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, Error> {
        let path = format!("api/v2/clients/{}/credentials", encode(client_id));
        self.write_json(
            reqwest::Method::POST,
            "/api/v2/clients/{id}/credentials",
            &path,
            Some(body),
        )
        .await
    }

    async fn delete_credential(&self, client_id: &str, credential_id: &str) -> Result<(), Error> {
        let path = format!(
            "api/v2/clients/{}/credentials/{}",
            encode(client_id),
            encode(credential_id)
        );
        self.write_json(
            reqwest::Method::DELETE,
            "/api/v2/clients/{id}/credentials/{credential_id}",
            &path,
            None,
        )
        .await
        .map(|_| ())
    }

    async fn rotate_signing_key(&self) -> Result<serde_json::Value, Error> {
        self.write_json(
            reqwest::Method::POST,
            "/api/v2/keys/signing/rotate",
            "api/v2/keys/signing/rotate",
            None,
        )
        .await
    }

    fn requests_sent(&self) -> u64 {
        self.sent()
    }
}

/// The route the tenant's SAML SP certificate is counted under (docs/auth0-api.md).
pub const TENANT_SAML_ENDPOINT: &str = "/pem?cert=connection";

impl Client {
    /// A public document of the tenant's domain: no token is fetched and no Authorization
    /// header is sent, and it runs outside the Management API budget (see `Budget::Public`).
    /// Reads are retried on 5xx/timeouts like every other read, and the body is bounded the
    /// same way.
    async fn get_public(&self, endpoint: &'static str, path: &str) -> Result<Bytes, Error> {
        let url = self.url(path)?;
        let resp = self
            .send(endpoint, true, Budget::Public, || {
                self.http.get(url.clone())
            })
            .await?;
        if !resp.status.is_success() {
            return Err(status_error(resp.status, &resp.body, false));
        }
        Ok(resp.body)
    }
}

/// Percent-encode a path segment (ids come from Auth0 and are echoed back; never trust them).
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(super::encode("con_1/../x"), "con_1%2F..%2Fx");
    }
}
