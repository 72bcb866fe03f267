//! The tenant signing key flow (docs/rotation.md): check the poll's next key is still there,
//! `POST /api/v2/keys/signing/rotate` (Auth0 promotes the next key; 5 rotations a day), then
//! re-read the keys to confirm the current key changed. A rotate that may have taken effect
//! is judged by that re-read too.

use super::rotator::{End, Rotator, Run, maybe_applied};
use super::{Blocker, NewCert};
use crate::auth0::{self, wire::SigningKey};
use time::OffsetDateTime;

/// The key signing tokens now (current and not revoked).
pub(super) fn current_key(keys: &[SigningKey]) -> Option<&SigningKey> {
    keys.iter()
        .find(|k| k.current == Some(true) && k.revoked != Some(true))
}

/// Lowercase hex SHA-1 of a key's certificate, when it decodes.
fn sha1(key: &SigningKey) -> Option<String> {
    key.cert
        .as_deref()
        .and_then(|c| crate::x509::decode(c).ok())
        .map(|i| i.sha1)
}

impl Rotator {
    /// Promote `next_kid` to the current signing key.
    pub(super) async fn rotate_signing_key(
        &self,
        run: &mut Run<'_>,
        next_kid: &str,
        next_not_after: Option<OffsetDateTime>,
    ) -> End {
        let old_kid = run.step.object_id.clone();
        let mut new = NewCert {
            cert_id: Some(next_kid.to_string()),
            sha1: None,
            not_after: next_not_after,
        };
        let keys = match self.api.signing_keys().await {
            Ok(k) => k,
            Err(e) => return End::failed(format!("cannot read the signing keys: {e}"), new),
        };
        if let Some(c) = current_key(&keys)
            && c.kid != old_kid
        {
            return End::not_due(
                format!("already rotated: the current key is {}", c.kid),
                new,
            );
        }
        let Some(next) = keys
            .iter()
            .find(|k| k.kid == next_kid && k.next == Some(true))
        else {
            return End::blocked(
                Blocker::Changed(format!("next key {next_kid} is gone")),
                new,
            );
        };
        new.sha1 = sha1(next);
        run.request("POST", "/api/v2/keys/signing/rotate".into(), None);
        if !self.writes_now() {
            return End::dry_run(
                format!("would promote {next_kid} (rotate signing key; 5 per day)"),
                new,
            );
        }
        if let Some(end) = self.intent(run, &new) {
            return end;
        }
        let sent = self.api.rotate_signing_key().await.map(drop);
        if let Err(e) = &sent
            && !maybe_applied(e)
        {
            return End::failed(format!("rotate rejected ({e}); keys unchanged"), new);
        }
        self.confirm_rotated(&old_kid, next_kid, sent, new).await
    }

    /// Re-read the keys after a rotate (answered, or failed in a way that may have taken
    /// effect): applied when the current key is no longer `old_kid`.
    async fn confirm_rotated(
        &self,
        old_kid: &str,
        next_kid: &str,
        sent: Result<(), auth0::Error>,
        mut new: NewCert,
    ) -> End {
        let keys = match self.api.signing_keys().await {
            Ok(keys) => keys,
            Err(e) => {
                return End::failed(
                    format!("cannot re-read the signing keys after rotating ({e}): check them"),
                    new,
                );
            }
        };
        match current_key(&keys) {
            Some(c) if c.kid != old_kid => {
                new.cert_id = Some(c.kid.clone());
                if c.kid != next_kid {
                    new.sha1 = sha1(c);
                }
                End::applied(format!("current signing key is now {}", c.kid), new)
            }
            _ => End::failed(
                match sent {
                    Err(e) => format!("rotate failed ({e}); the current key is unchanged"),
                    Ok(()) => "rotate answered, but the current key is unchanged".to_string(),
                },
                new,
            ),
        }
    }
}
