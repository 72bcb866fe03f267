//! The client-credentials token cache: one token per tenant, refreshed ahead of expiry and once on
//! 401, with concurrent callers sharing a single refresh.

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
    /// The cached token, or a fresh one from `fetch` (which returns the value and `expires_in`).
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
        guard.1 += 1;
        let token = Token {
            value,
            generation: guard.1,
        };
        guard.0 = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + refresh_after(expires_in),
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
}
