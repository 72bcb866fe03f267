//! Recovery of interrupted changes (docs/rotation.md): an `intent` audit record without a
//! result means certwatch stopped mid-change. At the start of an applying pass each one is
//! re-verified against Auth0 (did the change take effect?) and its result appended; an
//! orphaned credential it created is deleted. Intents that cannot be checked yet stay open.

use super::rotator::Rotator;
use super::signing_key::current_key;
use super::{audit, flow};
use crate::auth0::{self, wire::Credential};
use tracing::{Instrument as _, info_span, warn};

/// What re-verifying an interrupted change found.
struct Resolution {
    outcome: audit::Outcome,
    error: Option<String>,
    /// The new certificate's id, when it was learnt.
    new_cert_id: Option<String>,
}

impl Resolution {
    fn applied(new_cert_id: Option<String>) -> Self {
        Self {
            outcome: audit::Outcome::Applied,
            error: None,
            new_cert_id,
        }
    }

    fn failed(error: impl Into<String>, new_cert_id: Option<String>) -> Self {
        Self {
            outcome: audit::Outcome::Failed,
            error: Some(error.into()),
            new_cert_id,
        }
    }
}

impl Rotator {
    /// Re-verify this tenant's interrupted changes (intents without a result) against Auth0 and
    /// append their resolution. Intents that cannot be checked now (Auth0 unreachable) stay open
    /// for the next pass. Only call when applying: resolving may delete an orphaned credential.
    pub async fn recover(&self) -> Result<Vec<audit::Record>, audit::Error> {
        let records = self.audit.read()?;
        let mut out = Vec::new();
        for intent in audit::unresolved(&records, &self.tenant) {
            let span = info_span!("recover", tenant = %intent.tenant, object = %intent.object_name, id = %intent.id);
            let resolution = match self.reverify(&intent).instrument(span).await {
                Ok(r) => r,
                Err(e) => {
                    warn!(id = %intent.id, error = %e, "cannot re-verify an interrupted rotation yet");
                    continue;
                }
            };
            let outcome = resolution.outcome;
            let mut record = intent.clone();
            record.time = self.clock.now();
            record.outcome = outcome;
            record.error = resolution.error;
            record.dry_run = false;
            record.new_cert_id = resolution.new_cert_id.or(record.new_cert_id);
            record.detail = Some("interrupted run re-verified at start".into());
            self.audit.append(&record)?;
            self.metrics
                .rotation(&record.tenant, record.kind.as_str(), outcome.as_str());
            warn!(
                action = %record.action,
                object = %record.object_name,
                outcome = outcome.as_str(),
                error = record.error.as_deref().unwrap_or_default(),
                "resolved an interrupted rotation"
            );
            out.push(record);
        }
        Ok(out)
    }

    /// Whether the interrupted change took effect, by its action.
    async fn reverify(&self, intent: &audit::Record) -> Result<Resolution, auth0::Error> {
        match intent.action.as_str() {
            "replace_connection_cert" | "replace_from_metadata" => {
                self.reverify_connection(intent).await
            }
            "add_credential" => self.reverify_add(intent).await,
            "retire_credential" => self.reverify_retire(intent).await,
            "rotate_signing_key" => self.reverify_signing_key(intent).await,
            other => Ok(Resolution::failed(
                format!("interrupted {other:?}: unknown action, check by hand"),
                None,
            )),
        }
    }

    /// Applied when the connection has the new thumbprint.
    async fn reverify_connection(
        &self,
        intent: &audit::Record,
    ) -> Result<Resolution, auth0::Error> {
        let conn = self.api.get_connection(&intent.object_id).await?;
        let t = flow::thumbprints(&conn);
        let has = |s: &Option<String>| s.as_deref().is_some_and(|s| t.iter().any(|x| x == s));
        Ok(if has(&intent.new_sha1) {
            Resolution::applied(None)
        } else if has(&intent.old_sha1) {
            Resolution::failed(
                "interrupted before the change took effect; the connection is untouched",
                None,
            )
        } else {
            Resolution::failed(
                format!("interrupted; the connection now has thumbprints {t:?}: check it"),
                None,
            )
        })
    }

    /// Applied when the credential it created is referenced wherever the old one is; a created
    /// credential that is not referenced at all is deleted.
    async fn reverify_add(&self, intent: &audit::Record) -> Result<Resolution, auth0::Error> {
        let client_id = intent.object_id.as_str();
        let name = flow::credential_name(intent.new_sha1.as_deref().unwrap_or_default());
        let creds = self.api.client_credentials(client_id).await?;
        let Some(created) = creds
            .into_iter()
            .find(|c| c.name.as_deref() == Some(name.as_str()))
        else {
            return Ok(Resolution::failed(
                "interrupted before the credential was created",
                None,
            ));
        };
        let client = self.api.get_client(client_id).await?;
        let old_places = flow::places(&client, intent.old_cert_id.as_deref().unwrap_or_default());
        let new_places = flow::places(&client, &created.id);
        if !new_places.is_empty() && old_places.is_subset(&new_places) {
            Ok(Resolution::applied(Some(created.id)))
        } else if new_places.is_empty() {
            Ok(self.delete_orphan(client_id, created).await)
        } else {
            Ok(Resolution::failed(
                format!(
                    "interrupted; credential {} is referenced only partly: check the client",
                    created.id
                ),
                Some(created.id),
            ))
        }
    }

    /// Delete a credential an interrupted add created but never referenced.
    async fn delete_orphan(&self, client_id: &str, created: Credential) -> Resolution {
        let id = created.id;
        match self.api.delete_credential(client_id, &id).await {
            Ok(()) | Err(auth0::Error::NotFound { .. }) => Resolution::failed(
                format!("interrupted; the unreferenced credential {id} it created was deleted"),
                Some(id),
            ),
            Err(e) => Resolution::failed(
                format!(
                    "interrupted; the unreferenced credential {id} it created could not be deleted ({e})"
                ),
                Some(id),
            ),
        }
    }

    /// Applied when the old credential is gone.
    async fn reverify_retire(&self, intent: &audit::Record) -> Result<Resolution, auth0::Error> {
        let old = intent.old_cert_id.as_deref().unwrap_or_default();
        let creds = self.api.client_credentials(&intent.object_id).await?;
        Ok(if creds.iter().any(|c| c.id == old) {
            Resolution::failed(
                format!("interrupted; {old} is still there and is retried on the next pass"),
                None,
            )
        } else {
            Resolution::applied(None)
        })
    }

    /// Applied when the current signing key is no longer the old one.
    async fn reverify_signing_key(
        &self,
        intent: &audit::Record,
    ) -> Result<Resolution, auth0::Error> {
        let keys = self.api.signing_keys().await?;
        Ok(match current_key(&keys) {
            Some(c) if Some(c.kid.as_str()) != intent.old_cert_id.as_deref() => {
                Resolution::applied(Some(c.kid.clone()))
            }
            _ => Resolution::failed("interrupted; the current signing key is unchanged", None),
        })
    }
}
