//! The SAML / PingFederate connection certificate flow (docs/rotation.md): read the connection,
//! PATCH its whole `options` (a new `signingCert` from the store, or — from metadata, in
//! `metadata` — `metadataUrl` kept so Auth0 downloads it again), verify the answer's
//! thumbprints, and PATCH the original options back when the change does not verify. A PATCH
//! that failed in a way that may have taken effect is followed by a re-read.

use super::rotator::{End, Rotator, Run, maybe_applied};
use super::store::Candidate;
use super::{Blocker, NewCert, flow};
use crate::auth0;
use flow::Expect;
use serde_json::Value;

impl Rotator {
    /// Replace the connection's signing certificate with `candidate`.
    pub(super) async fn replace_connection_cert(
        &self,
        run: &mut Run<'_>,
        candidate: &Candidate,
    ) -> End {
        let new = NewCert::of(candidate);
        let original = match self.read_connection(run, candidate.sha1(), &new).await {
            Ok(c) => c,
            Err(end) => return end,
        };
        let body = match flow::saml_patch_body(&original, &flow::signing_cert_value(&candidate.der))
        {
            Ok(b) => b,
            Err(e) => return End::failed(e.to_string(), new),
        };
        let expect = Expect::Exactly(candidate.sha1().to_string());
        self.write_connection(run, &original, body, expect, new)
            .await
    }

    /// GET the connection the step names and check it is still what the plan saw: a rotatable
    /// strategy, not yet trusting `new_sha1` (else not due), still trusting the certificate the
    /// plan replaces (else blocked: changed).
    pub(super) async fn read_connection(
        &self,
        run: &Run<'_>,
        new_sha1: &str,
        new: &NewCert,
    ) -> Result<Value, End> {
        let step = run.step;
        let original = self
            .api
            .get_connection(&step.object_id)
            .await
            .map_err(|e| End::failed(format!("cannot read the connection: {e}"), new.clone()))?;
        let strategy = original
            .get("strategy")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(strategy, "samlp" | "pingfederate") {
            return Err(End::blocked(
                Blocker::UnsupportedStrategy(strategy.to_string()),
                new.clone(),
            ));
        }
        let before = flow::thumbprints(&original);
        if before.iter().any(|t| t == new_sha1) {
            return Err(End::not_due(
                "the new certificate is already in place",
                new.clone(),
            ));
        }
        if let Some(old) = step.current.as_ref().and_then(|c| c.sha1.as_deref())
            && !before.iter().any(|t| t == old)
        {
            return Err(End::blocked(
                Blocker::Changed(format!(
                    "the connection's thumbprints are {before:?}, not [{old:?}]"
                )),
                new.clone(),
            ));
        }
        Ok(original)
    }

    /// Send `body` (unless dry run or deferred), verify the answer against `expect`, undo what
    /// does not verify.
    pub(super) async fn write_connection(
        &self,
        run: &mut Run<'_>,
        original: &Value,
        body: Value,
        expect: Expect,
        new: NewCert,
    ) -> End {
        let id = run.step.object_id.clone();
        let path = format!("/api/v2/connections/{id}");
        run.request("PATCH", path.clone(), Some(&body));
        if !self.writes_now() {
            let how = match expect {
                Expect::Published(_) => " with metadataUrl kept (Auth0 downloads it again)",
                Expect::Exactly(_) => "",
            };
            return End::dry_run(format!("would PATCH {path}{how}"), new);
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }
        match self.api.patch_connection(&id, &body).await {
            Ok(response) => match flow::verify_connection(&body, &response, &expect) {
                Ok(()) => End::applied(
                    format!(
                        "thumbprint is now {}",
                        flow::thumbprints(&response).join(", ")
                    ),
                    trusted_now(new, &response),
                ),
                Err(m) => {
                    self.rollback_connection(
                        run,
                        original,
                        format!("the PATCH response did not verify: {m}"),
                        new,
                    )
                    .await
                }
            },
            Err(e) if maybe_applied(&e) => {
                self.reread_connection(run, original, &body, &expect, e, new)
                    .await
            }
            Err(e) => End::failed(
                format!("PATCH rejected ({e}); the connection is untouched"),
                new,
            ),
        }
    }

    /// PATCH the original options back; `why` is what went wrong.
    async fn rollback_connection(
        &self,
        run: &mut Run<'_>,
        original: &Value,
        why: String,
        new: NewCert,
    ) -> End {
        let id = run.step.object_id.clone();
        let path = format!("/api/v2/connections/{id}");
        let body = match flow::saml_rollback_body(original) {
            Ok(b) => b,
            Err(e) => {
                return End::failed(
                    format!("{why}; cannot build the rollback ({e}): CHECK THE CONNECTION"),
                    new,
                );
            }
        };
        run.request("PATCH", path, Some(&body));
        let want = flow::thumbprints(original);
        match self.api.patch_connection(&id, &body).await {
            Ok(resp) if flow::thumbprints(&resp) == want => End::rolled_back(why, new),
            Ok(resp) => End::failed(
                format!(
                    "{why}; the rollback answered thumbprints {:?}, expected {want:?}: CHECK THE CONNECTION",
                    flow::thumbprints(&resp)
                ),
                new,
            ),
            Err(e) => End::failed(
                format!("{why}; ROLLBACK FAILED ({e}): CHECK THE CONNECTION"),
                new,
            ),
        }
    }

    /// A PATCH failed in a way that may have taken effect: re-read the connection to learn
    /// whether it is untouched, has the new certificate, or changed otherwise (then undo).
    async fn reread_connection(
        &self,
        run: &mut Run<'_>,
        original: &Value,
        body: &Value,
        expect: &Expect,
        e: auth0::Error,
        new: NewCert,
    ) -> End {
        let id = run.step.object_id.clone();
        match self.api.get_connection(&id).await {
            Err(e2) => End::failed(
                format!(
                    "PATCH failed ({e}) and the connection could not be re-read ({e2}); its state is unknown: check it"
                ),
                new,
            ),
            Ok(now) if now.get("options") == original.get("options") => End::failed(
                format!("PATCH failed ({e}); re-read: the connection is untouched"),
                new,
            ),
            Ok(now) => match flow::verify_connection(body, &now, expect) {
                Ok(()) => End::applied(
                    format!(
                        "PATCH answered {e}, but the re-read connection has the new certificate"
                    ),
                    trusted_now(new, &now),
                ),
                Err(m) => {
                    self.rollback_connection(
                        run,
                        original,
                        format!("PATCH failed ({e}) and the connection changed: {m}"),
                        new,
                    )
                    .await
                }
            },
        }
    }
}

/// The new certificate as the connection shows it: when Auth0 chose among published
/// certificates, the SHA-1 it trusts (its expiry only when it is the one planned).
fn trusted_now(mut new: NewCert, connection: &Value) -> NewCert {
    if let [only] = flow::thumbprints(connection).as_slice()
        && new.sha1.as_deref() != Some(only.as_str())
    {
        new.sha1 = Some(only.clone());
        new.not_after = None;
    }
    new
}
