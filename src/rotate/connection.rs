//! The SAML / PingFederate connection certificate flow (docs/rotation.md): read the connection,
//! PATCH `options.signingCert` with every other option kept, verify the answer's thumbprints,
//! and PATCH the original options back when the change does not verify. A PATCH that failed
//! in a way that may have taken effect is followed by a re-read.

use super::rotator::{End, Rotator, Run, maybe_applied};
use super::store::Candidate;
use super::{Blocker, NewCert, flow};
use crate::auth0;
use serde_json::Value;

impl Rotator {
    /// Replace the connection's signing certificate with `candidate`.
    pub(super) async fn replace_connection_cert(
        &self,
        run: &mut Run<'_>,
        candidate: &Candidate,
    ) -> End {
        let step = run.step;
        let new = NewCert::of(candidate);
        let id = step.object_id.as_str();
        let path = format!("/api/v2/connections/{id}");
        let original = match self.api.get_connection(id).await {
            Ok(c) => c,
            Err(e) => return End::failed(format!("cannot read the connection: {e}"), new),
        };
        let strategy = original
            .get("strategy")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !matches!(strategy, "samlp" | "pingfederate") {
            return End::blocked(Blocker::UnsupportedStrategy(strategy.to_string()), new);
        }
        let before = flow::thumbprints(&original);
        if before.iter().any(|t| t == candidate.sha1()) {
            return End::not_due("the new certificate is already in place", new);
        }
        if let Some(old) = step.current.as_ref().and_then(|c| c.sha1.as_deref())
            && !before.iter().any(|t| t == old)
        {
            return End::blocked(
                Blocker::Changed(format!(
                    "the connection's thumbprints are {before:?}, not [{old:?}]"
                )),
                new,
            );
        }
        let body = match flow::saml_patch_body(&original, &flow::signing_cert_value(&candidate.der))
        {
            Ok(b) => b,
            Err(e) => return End::failed(e.to_string(), new),
        };
        run.request("PATCH", path.clone(), Some(&body));
        if !self.apply {
            return End::dry_run(format!("would PATCH {path}"), new);
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }
        match self.api.patch_connection(id, &body).await {
            Ok(response) => match flow::verify_saml(&body, &response, candidate.sha1()) {
                Ok(()) => End::applied(format!("thumbprint is now {}", candidate.sha1()), new),
                Err(m) => {
                    self.rollback_connection(
                        run,
                        &original,
                        format!("the PATCH response did not verify: {m}"),
                        new,
                    )
                    .await
                }
            },
            Err(e) if maybe_applied(&e) => {
                self.reread_connection(run, &original, &body, candidate, e, new)
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
        candidate: &Candidate,
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
            Ok(now) => match flow::verify_saml(body, &now, candidate.sha1()) {
                Ok(()) => End::applied(
                    format!(
                        "PATCH answered {e}, but the re-read connection has the new certificate"
                    ),
                    new,
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
