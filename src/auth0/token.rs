//! The client-credentials token cache: one token per tenant, refreshed ahead of expiry and once on
//! 401, with concurrent callers sharing a single refresh; and how long a token is believed to
//! live ([`lifetime`]): whatever `expires_in` a token response carries (huge, zero, negative,
//! fractional, a string, absent) becomes a lifetime between [`MIN_LIFETIME`] and
//! [`MAX_LIFETIME`], so no answer can overflow a clock or cause a token request per call.

use crate::secret::Secret;
use std::future::Future;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// A bearer token and the generation it belongs to (to invalidate exactly the token that failed).
#[derive(Debug, Clone)]
pub struct Token {
    /// The bearer value.
    pub value: Secret,
    /// Increases with every fetch.
    pub generation: u64,
}

#[derive(Debug)]
struct Cached {
    token: Token,
    refresh_at: Instant,
}

/// Caches one token; `get` fetches under a lock so N concurrent callers cause one request.
#[derive(Debug, Default)]
pub struct TokenCache {
    inner: Mutex<(Option<Cached>, u64)>,
}

/// The shortest lifetime a token is cached for (a shorter `expires_in`, zero or negative, is
/// raised to it: a refusal then shows as a 401, which refreshes once).
pub const MIN_LIFETIME: Duration = Duration::from_secs(60);
/// The longest lifetime a token is cached for (Auth0 allows at most 30 days).
pub const MAX_LIFETIME: Duration = Duration::from_secs(30 * 86_400);
/// The lifetime of a token whose response has no usable `expires_in` (Auth0's default).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(86_400);

/// How long to believe a token lives, from its response's `expires_in` (the raw JSON text of a
/// number of seconds, or of a string holding one), and why the value was not taken as is, when
/// it was not.
pub fn lifetime(expires_in: Option<&serde_json::value::RawValue>) -> (Duration, Option<String>) {
    let text = expires_in.map_or("null", |raw| raw.get().trim());
    if text == "null" {
        return (DEFAULT_LIFETIME, None);
    }
    // A JSON string is read for the number inside; a number as written (1e400 is +inf).
    let number = match serde_json::from_str::<String>(text) {
        Ok(inner) => inner.trim().parse::<f64>().ok(),
        Err(_) => text.parse::<f64>().ok(),
    };
    let Some(secs) = number.filter(|s| !s.is_nan()) else {
        let why = "expires_in is not a number of seconds".to_string();
        return (DEFAULT_LIFETIME, Some(why));
    };
    let (min, max) = (MIN_LIFETIME.as_secs_f64(), MAX_LIFETIME.as_secs_f64());
    if secs < min || secs > max {
        let why = format!("expires_in {text} is outside {min}..={max} seconds");
        return (
            clamp(Duration::from_secs_f64(secs.clamp(min, max))),
            Some(why),
        );
    }
    (Duration::from_secs_f64(secs), None)
}

/// `d` within [`MIN_LIFETIME`]..=[`MAX_LIFETIME`].
fn clamp(d: Duration) -> Duration {
    d.clamp(MIN_LIFETIME, MAX_LIFETIME)
}

/// When to refresh a token that lives `expires_in`: 60 s early, or halfway for short-lived tokens.
pub fn refresh_after(expires_in: Duration) -> Duration {
    const SKEW: Duration = Duration::from_secs(60);
    if expires_in > SKEW * 2 {
        expires_in - SKEW
    } else {
        expires_in / 2
    }
}

impl TokenCache {
    /// The cached token, or a fresh one from `fetch` (which returns the value and `expires_in`,
    /// taken within [`MIN_LIFETIME`]..=[`MAX_LIFETIME`]).
    pub async fn get<F, Fut, E>(&self, fetch: F) -> Result<Token, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(Secret, Duration), E>>,
    {
        let mut guard = self.inner.lock().await;
        if let Some(cached) = &guard.0
            && Instant::now() < cached.refresh_at
        {
            return Ok(cached.token.clone());
        }
        let (value, expires_in) = fetch().await?;
        let now = Instant::now();
        // Never past the clock's range, whatever the caller passed.
        let refresh_at = now
            .checked_add(refresh_after(clamp(expires_in)))
            .unwrap_or(now);
        guard.1 += 1;
        let token = Token {
            value,
            generation: guard.1,
        };
        guard.0 = Some(Cached {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// Forget the token of `generation` (a 401 said it is no longer valid). A newer token that
    /// another caller already fetched is kept.
    pub async fn invalidate(&self, generation: u64) {
        let mut guard = self.inner.lock().await;
        if guard
            .0
            .as_ref()
            .is_some_and(|c| c.token.generation == generation)
        {
            guard.0 = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn refresh_schedule() {
        assert_eq!(
            refresh_after(Duration::from_secs(86_400)),
            Duration::from_secs(86_340)
        );
        assert_eq!(
            refresh_after(Duration::from_secs(60)),
            Duration::from_secs(30)
        );
        assert_eq!(refresh_after(Duration::ZERO), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_fetch_and_refresh_before_expiry() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicU32::new(0));
        let fetch = |fetches: Arc<AtomicU32>| async move {
            let n = fetches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok::<_, ()>((Secret::new(format!("t{n}")), Duration::from_secs(600)))
        };
        let mut handles = Vec::new();
        for _ in 0..10 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            handles.push(tokio::spawn(
                async move { cache.get(|| fetch(fetches)).await },
            ));
        }
        for h in handles {
            assert_eq!(h.await.unwrap().unwrap().value.expose(), "t0");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);

        tokio::time::advance(Duration::from_secs(539)).await;
        assert_eq!(
            cache
                .get(|| fetch(fetches.clone()))
                .await
                .unwrap()
                .value
                .expose(),
            "t0"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            cache
                .get(|| fetch(fetches.clone()))
                .await
                .unwrap()
                .value
                .expose(),
            "t1",
            "refreshed 60 s before expiry"
        );
    }

    #[tokio::test]
    async fn invalidate_only_the_failed_generation() {
        let cache = TokenCache::default();
        let mk = |v: &'static str| async move {
            Ok::<_, ()>((Secret::new(v), Duration::from_secs(600)))
        };
        let a = cache.get(|| mk("a")).await.unwrap();
        cache.invalidate(a.generation + 1).await;
        assert_eq!(cache.get(|| mk("b")).await.unwrap().value.expose(), "a");
        cache.invalidate(a.generation).await;
        let b = cache.get(|| mk("b")).await.unwrap();
        assert_eq!(b.value.expose(), "b");
        assert!(b.generation > a.generation);
    }

    #[test]
    fn hostile_lifetimes_are_clamped_or_defaulted() {
        let life = |text: &str| {
            let raw = serde_json::value::RawValue::from_string(text.to_string()).unwrap();
            lifetime(Some(&raw))
        };
        let (huge, why) = life("18446744073709551615");
        assert_eq!(huge, MAX_LIFETIME);
        assert!(why.unwrap().contains("outside"));
        assert_eq!(life("1e300").0, MAX_LIFETIME);
        assert_eq!(life("1e400").0, MAX_LIFETIME, "no float holds it: +inf");
        assert_eq!(life("-1e400").0, MIN_LIFETIME);
        assert_eq!(life("0").0, MIN_LIFETIME, "never a token per request");
        assert_eq!(life("-86400").0, MIN_LIFETIME);
        assert_eq!(life("-9223372036854775808").0, MIN_LIFETIME);
        assert_eq!(life("0.5").0, MIN_LIFETIME);
        assert_eq!(life("3600.5"), (Duration::from_secs_f64(3_600.5), None));
        assert_eq!(life("\"7200\""), (Duration::from_secs(7_200), None));
        assert_eq!(life("\"1e999\"").0, MAX_LIFETIME);
        assert_eq!(life("\"NaN\"").0, DEFAULT_LIFETIME);
        let (soon, why) = life("\"soon\"");
        assert_eq!(soon, DEFAULT_LIFETIME);
        assert!(why.is_some());
        assert_eq!(life("true").0, DEFAULT_LIFETIME);
        assert_eq!(life("[1]").0, DEFAULT_LIFETIME);
        assert_eq!(life("{\"s\": 1}").0, DEFAULT_LIFETIME);
        assert_eq!(life("null"), (DEFAULT_LIFETIME, None));
        assert_eq!(lifetime(None), (DEFAULT_LIFETIME, None));
        assert_eq!(life("86400"), (Duration::from_secs(86_400), None));
    }

    #[tokio::test(start_paused = true)]
    async fn the_cache_survives_any_duration_and_never_refetches_per_call() {
        let cache = TokenCache::default();
        let fetches = AtomicU32::new(0);
        let fetch = |d: Duration| {
            fetches.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, ()>((Secret::new("t"), d)) }
        };
        cache.get(|| fetch(Duration::MAX)).await.unwrap();
        cache.invalidate(1).await;
        cache.get(|| fetch(Duration::ZERO)).await.unwrap();
        for _ in 0..100 {
            cache.get(|| fetch(Duration::ZERO)).await.unwrap();
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "a 0 s token is kept for a while"
        );
        tokio::time::advance(MIN_LIFETIME).await;
        cache.get(|| fetch(Duration::ZERO)).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
    }
}
