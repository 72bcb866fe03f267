//! The client credential flow (docs/rotation.md). Adding: POST the new credential, then
//! reference it next to the old one wherever the old one is referenced; a reference change that
//! does not verify is undone and the new credential deleted. Retiring, after the overlap:
//! unreference the old credential, then DELETE it. Auth0 keeps at most two credentials per
//! client, so an add to a client that has two is blocked.

use super::rotator::{End, Rotator, Run, maybe_applied};
use super::store::Candidate;
use super::{Blocker, NewCert, flow};
use crate::auth0::{self, wire::Credential};
use crate::timefmt::rfc3339;
use serde_json::Value;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn client_path(client_id: &str) -> String {
    format!("/api/v2/clients/{client_id}")
}

fn credentials_path(client_id: &str) -> String {
    format!("/api/v2/clients/{client_id}/credentials")
}

fn credential_path(client_id: &str, id: &str) -> String {
    format!("/api/v2/clients/{client_id}/credentials/{id}")
}

/// An add, as established by reading the client before any change.
struct Add<'a> {
    client_id: String,
    /// The credential being replaced.
    old_id: &'a str,
    candidate: &'a Candidate,
    /// The client as read before the change (what an undo restores).
    client: Value,
    /// Where the old credential is referenced.
    old_places: BTreeSet<String>,
    /// The credential an earlier, interrupted run created for this certificate.
    existing: Option<String>,
    /// `public_key`, `x509_cert`, …: the old credential's type.
    credential_type: String,
    /// The POST body.
    post: Value,
}

/// A dry run of an add: the requests that would be sent, nothing written.
fn preview_add(run: &mut Run<'_>, add: &Add<'_>, new: NewCert) -> End {
    if add.existing.is_none() {
        run.request("POST", credentials_path(&add.client_id), Some(&add.post));
    }
    let preview_id = add.existing.as_deref().unwrap_or("<new credential id>");
    run.request(
        "PATCH",
        client_path(&add.client_id),
        Some(&flow::add_reference(&add.client, add.old_id, preview_id)),
    );
    End::dry_run(
        format!(
            "would add a {} credential for {} next to {}",
            add.credential_type,
            add.candidate.sha1(),
            add.old_id
        ),
        new,
    )
}

/// The client after a PATCH that Auth0 did not reject outright.
struct Patched {
    /// The client's references now: the PATCH answer, or a re-read when the answer has none.
    view: Result<Value, auth0::Error>,
    /// The PATCH's error, when it failed in a way that may have taken effect.
    error: Option<auth0::Error>,
}

impl Rotator {
    /// Add a credential for `candidate` next to `old_id` (the first half of the overlap).
    pub(super) async fn add_credential(
        &self,
        run: &mut Run<'_>,
        old_id: &str,
        candidate: &Candidate,
    ) -> End {
        let mut new = NewCert::of(candidate);
        let add = match self.inspect_add(run, old_id, candidate, &mut new).await {
            Ok(add) => add,
            Err(end) => return end,
        };
        if !self.writes_now() {
            return preview_add(run, &add, new);
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }
        let new_id = match &add.existing {
            Some(id) => id.clone(),
            None => match self.create_credential(run, &add, &mut new).await {
                Ok(id) => id,
                Err(end) => return end,
            },
        };
        new.cert_id = Some(new_id.clone());
        self.reference_credential(run, &add, &new_id, new).await
    }

    /// Read the client and its credentials (nothing is changed when either read fails).
    async fn read_client(
        &self,
        client_id: &str,
        new: &NewCert,
    ) -> Result<(Value, Vec<Credential>), End> {
        let client = self
            .api
            .get_client(client_id)
            .await
            .map_err(|e| End::failed(format!("cannot read the client: {e}"), new.clone()))?;
        let creds = self.api.client_credentials(client_id).await.map_err(|e| {
            End::failed(
                format!("cannot read the client's credentials: {e}"),
                new.clone(),
            )
        })?;
        Ok((client, creds))
    }

    /// Read the client and check the add still makes sense: the old credential exists and is
    /// referenced, the new one is not in use already, and there is room for it.
    async fn inspect_add<'a>(
        &self,
        run: &Run<'_>,
        old_id: &'a str,
        candidate: &'a Candidate,
        new: &mut NewCert,
    ) -> Result<Add<'a>, End> {
        let client_id = run.step.object_id.clone();
        let (client, creds) = self.read_client(&client_id, new).await?;
        let ours = flow::credential_name(candidate.sha1());
        let existing = creds
            .iter()
            .find(|c| c.name.as_deref() == Some(ours.as_str()));
        let changed = |why: String| End::blocked(Blocker::Changed(why), new.clone());
        let Some(old) = creds.iter().find(|c| c.id == old_id) else {
            return Err(changed(format!("credential {old_id} no longer exists")));
        };
        let old_places = flow::places(&client, old_id);
        if old_places.is_empty() {
            return Err(changed(format!(
                "credential {old_id} is no longer referenced by the client"
            )));
        }
        if let Some(e) = existing
            && !flow::places(&client, &e.id).is_empty()
        {
            new.cert_id = Some(e.id.clone());
            return Err(End::not_due(
                format!("the new credential {} is already in use", e.id),
                new.clone(),
            ));
        }
        if existing.is_none() && creds.len() >= 2 {
            let unused = creds
                .iter()
                .filter(|c| flow::places(&client, &c.id).is_empty())
                .map(|c| c.id.clone())
                .collect();
            return Err(End::blocked(
                Blocker::CredentialLimit {
                    count: creds.len(),
                    unused,
                },
                new.clone(),
            ));
        }
        let credential_type = old
            .credential_type
            .clone()
            .unwrap_or_else(|| "public_key".into());
        Ok(Add {
            post: flow::credential_body(&credential_type, candidate),
            client_id,
            old_id,
            candidate,
            client,
            old_places,
            existing: existing.map(|e| e.id.clone()),
            credential_type,
        })
    }

    /// POST the new credential; its id. A POST that may have taken effect is followed by a
    /// look-up by name; a credential Auth0 gives another expiry than the certificate's is
    /// deleted again.
    async fn create_credential(
        &self,
        run: &mut Run<'_>,
        add: &Add<'_>,
        new: &mut NewCert,
    ) -> Result<String, End> {
        let ours = flow::credential_name(add.candidate.sha1());
        run.request("POST", credentials_path(&add.client_id), Some(&add.post));
        let created = match self.api.create_credential(&add.client_id, &add.post).await {
            Ok(created) => created,
            Err(e) if maybe_applied(&e) => {
                return self
                    .find_credential(&add.client_id, &ours)
                    .await
                    .ok_or_else(|| {
                        End::failed(
                            format!("POST failed ({e}); no credential was created"),
                            new.clone(),
                        )
                    });
            }
            Err(e) => {
                return Err(End::failed(
                    format!("POST rejected ({e}); the client is untouched"),
                    new.clone(),
                ));
            }
        };
        let id = match created.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => self
                .find_credential(&add.client_id, &ours)
                .await
                .ok_or_else(|| End::failed("the POST answer has no credential id", new.clone()))?,
        };
        if let Some(at) = created.get("expires_at").and_then(Value::as_str)
            && let Ok(at) = OffsetDateTime::parse(at, &Rfc3339)
            && at.unix_timestamp() != add.candidate.info.not_after.unix_timestamp()
        {
            new.cert_id = Some(id.clone());
            let why = format!(
                "Auth0 reports expires_at {} for the new credential, the certificate says {}",
                rfc3339(at),
                rfc3339(add.candidate.info.not_after)
            );
            return Err(
                match self.delete_credential(run, &add.client_id, &id).await {
                    Ok(()) => End::rolled_back(why, new.clone()),
                    Err(e) => End::failed(format!("{why}; deleting it failed: {e}"), new.clone()),
                },
            );
        }
        Ok(id)
    }

    /// Reference `new_id` next to the old credential and verify it; undo when it does not verify.
    async fn reference_credential(
        &self,
        run: &mut Run<'_>,
        add: &Add<'_>,
        new_id: &str,
        new: NewCert,
    ) -> End {
        let old_id = add.old_id;
        let patch = flow::add_reference(&add.client, old_id, new_id);
        run.request("PATCH", client_path(&add.client_id), Some(&patch));
        let (view, error) = match self.patch_references(&add.client_id, &patch).await {
            Ok(Patched { view, error }) => (view.ok(), error),
            Err(e) => {
                let why = format!("PATCH rejected ({e})");
                return self
                    .discard_credential(run, &add.client_id, new_id, why, new)
                    .await;
            }
        };
        let Some(view) = view else {
            let why = error.map_or_else(
                || "the PATCH answer has no references".to_string(),
                |e| format!("PATCH failed ({e})"),
            );
            return End::failed(
                format!("{why}; the client could not be re-read: its state is unknown, check it"),
                new,
            );
        };
        if flow::places(&view, new_id).is_superset(&add.old_places)
            && flow::places(&view, old_id) == add.old_places
        {
            let note = error
                .map(|e| format!(" (PATCH answered {e}, re-read confirms)"))
                .unwrap_or_default();
            return End::applied(
                format!(
                    "credential {new_id} referenced next to {old_id}{note}; {old_id} is removed after the overlap"
                ),
                new,
            );
        }
        let untouched =
            flow::places(&view, new_id).is_empty() && flow::places(&view, old_id) == add.old_places;
        let why = match &error {
            Some(e) => format!("PATCH failed ({e})"),
            None => "the client's references did not verify".to_string(),
        };
        if untouched {
            self.discard_credential(run, &add.client_id, new_id, why, new)
                .await
        } else {
            self.undo_credential(run, add, &patch, new_id, why, new)
                .await
        }
    }

    /// PATCH the client's references and see them afterwards; `Err` when Auth0 rejected the
    /// PATCH (nothing changed).
    async fn patch_references(
        &self,
        client_id: &str,
        patch: &Value,
    ) -> Result<Patched, auth0::Error> {
        let (view, error) = match self.api.patch_client(client_id, patch).await {
            Ok(resp) if resp.get("client_authentication_methods").is_some() => (Ok(resp), None),
            Ok(_) => (self.api.get_client(client_id).await, None),
            Err(e) if maybe_applied(&e) => (self.api.get_client(client_id).await, Some(e)),
            Err(e) => return Err(e),
        };
        Ok(Patched { view, error })
    }

    /// The client is untouched: delete the new, unreferenced credential; the step failed.
    async fn discard_credential(
        &self,
        run: &mut Run<'_>,
        client_id: &str,
        new_id: &str,
        why: String,
        new: NewCert,
    ) -> End {
        match self.delete_credential(run, client_id, new_id).await {
            Ok(()) => End::failed(
                format!("{why}; the client is untouched and the new credential was deleted"),
                new,
            ),
            Err(d) => End::failed(
                format!("{why}; deleting the unreferenced credential {new_id} failed: {d}"),
                new,
            ),
        }
    }

    /// The client changed but not as intended: restore its references, then delete the new
    /// credential.
    async fn undo_credential(
        &self,
        run: &mut Run<'_>,
        add: &Add<'_>,
        patch: &Value,
        new_id: &str,
        why: String,
        new: NewCert,
    ) -> End {
        let restore = flow::restore_references(&add.client, patch);
        run.request("PATCH", client_path(&add.client_id), Some(&restore));
        if let Err(e) = self.api.patch_client(&add.client_id, &restore).await {
            return End::failed(
                format!("{why}; restoring the references FAILED ({e}): CHECK THE CLIENT"),
                new,
            );
        }
        match self.delete_credential(run, &add.client_id, new_id).await {
            Ok(()) => End::rolled_back(why, new),
            Err(e) => End::failed(
                format!("{why}; references restored, deleting {new_id} failed: {e}"),
                new,
            ),
        }
    }

    /// DELETE a credential; one that is already gone counts as deleted.
    async fn delete_credential(
        &self,
        run: &mut Run<'_>,
        client_id: &str,
        id: &str,
    ) -> Result<(), auth0::Error> {
        run.request("DELETE", credential_path(client_id, id), None);
        match self.api.delete_credential(client_id, id).await {
            Ok(()) | Err(auth0::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The id of the client's credential named `name`, if it can be read.
    async fn find_credential(&self, client_id: &str, name: &str) -> Option<String> {
        let creds = self.api.client_credentials(client_id).await.ok()?;
        creds
            .into_iter()
            .find(|c| c.name.as_deref() == Some(name))
            .map(|c| c.id)
    }

    /// Unreference and delete `old_id`, keeping `new_id` (the end of the overlap).
    pub(super) async fn retire_credential(
        &self,
        run: &mut Run<'_>,
        old_id: &str,
        new_id: &str,
    ) -> End {
        let client_id = run.step.object_id.clone();
        let new = NewCert {
            cert_id: Some(new_id.to_string()),
            ..NewCert::default()
        };
        let (client, old_places) = match self.inspect_retire(&client_id, old_id, new_id, &new).await
        {
            Ok(found) => found,
            Err(end) => return end,
        };
        let patch = (!old_places.is_empty()).then(|| flow::remove_reference(&client, old_id));
        if !self.writes_now() {
            if let Some(p) = &patch {
                run.request("PATCH", client_path(&client_id), Some(p));
            }
            run.request("DELETE", credential_path(&client_id, old_id), None);
            return End::dry_run(
                format!("would unreference and delete {old_id}, keeping {new_id}"),
                new,
            );
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }
        if let Some(p) = &patch
            && let Err(why) = self
                .unreference(run, &client_id, p, (old_id, new_id), &old_places)
                .await
        {
            return End::failed(why, new);
        }
        match self.delete_credential(run, &client_id, old_id).await {
            Ok(()) => End::applied(
                format!("{old_id} unreferenced and deleted; {new_id} stays"),
                new,
            ),
            Err(e) => End::failed(
                format!(
                    "{old_id} is no longer referenced, but DELETE failed ({e}); retried on the next pass"
                ),
                new,
            ),
        }
    }

    /// Read the client and check the retirement is still safe: the old credential is there, its
    /// replacement too, and referenced everywhere the old one is. The client and where the old
    /// credential is referenced.
    async fn inspect_retire(
        &self,
        client_id: &str,
        old_id: &str,
        new_id: &str,
        new: &NewCert,
    ) -> Result<(Value, BTreeSet<String>), End> {
        let (client, creds) = self.read_client(client_id, new).await?;
        if !creds.iter().any(|c| c.id == old_id) {
            return Err(End::not_due(
                format!("{old_id} is already removed"),
                new.clone(),
            ));
        }
        let kept = |why: String| End::blocked(Blocker::Changed(why), new.clone());
        if !creds.iter().any(|c| c.id == new_id) {
            return Err(kept(format!(
                "the replacement {new_id} is gone; {old_id} is kept"
            )));
        }
        let old_places = flow::places(&client, old_id);
        if !old_places.is_subset(&flow::places(&client, new_id)) {
            return Err(kept(format!(
                "{new_id} is not referenced everywhere {old_id} is; {old_id} is kept"
            )));
        }
        Ok((client, old_places))
    }

    /// PATCH `old_id`'s references away and verify that `new_id` still holds all of them;
    /// `Err` says why both credentials stay.
    async fn unreference(
        &self,
        run: &mut Run<'_>,
        client_id: &str,
        patch: &Value,
        (old_id, new_id): (&str, &str),
        old_places: &BTreeSet<String>,
    ) -> Result<(), String> {
        run.request("PATCH", client_path(client_id), Some(patch));
        let view = match self.patch_references(client_id, patch).await {
            Ok(Patched { view, error: None }) => view,
            Ok(Patched {
                view,
                error: Some(e),
            }) => view.map_err(|_| e),
            Err(e) => Err(e),
        };
        match view {
            Ok(v)
                if flow::places(&v, old_id).is_empty()
                    && flow::places(&v, new_id).is_superset(old_places) =>
            {
                Ok(())
            }
            Ok(_) => Err(format!(
                "removing {old_id} from the client did not verify; both credentials stay"
            )),
            Err(e) => Err(format!("PATCH failed ({e}); {old_id} stays")),
        }
    }
}
