//! Rotation of a SAML connection's certificate from what its IdP publishes (docs/rotation.md,
//! `source = "metadata"`): the connection flow of `connection` with another body. A connection
//! with `options.metadataUrl` is PATCHed with its whole options and `metadataUrl` kept, so that
//! Auth0 downloads the metadata again (it never refreshes it by itself), and must then trust a
//! certificate the IdP publishes. A connection certwatch watches through `metadata_urls` gets
//! `signingCert` = the published certificate the plan chose, and must trust exactly that one.
//! Either way a change that does not verify is rolled back.

use super::plan::TrustChange;
use super::rotator::{End, Rotator, Run};
use super::{NewCert, flow};

impl Rotator {
    /// Make the connection trust what its IdP publishes.
    pub(super) async fn replace_from_metadata(
        &self,
        run: &mut Run<'_>,
        change: &TrustChange,
    ) -> End {
        let new = NewCert {
            cert_id: None,
            sha1: Some(change.after.sha1.clone()),
            not_after: change.after.not_after,
        };
        let original = match self.read_connection(run, &change.after.sha1, &new).await {
            Ok(c) => c,
            Err(end) => return end,
        };
        match flow::metadata_body(&original, change) {
            Ok((body, expect)) => {
                self.write_connection(run, &original, body, expect, new)
                    .await
            }
            Err(e) => End::failed(e.to_string(), new),
        }
    }
}
