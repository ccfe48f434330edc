//! Rate limits (SPEC section 8): fixed windows counted in memory on one instance, or in
//! Redis when `platform.redis_url` is set so that every platform instance draws on one
//! budget. A Redis outage does not take the API down: the instance falls back to its
//! own memory counters and says so in the log.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A limit: at most `max` hits per `window` for one key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Name used in keys and logs (`validate`, `refresh`, `login`).
    pub name: &'static str,
    /// Hits allowed per window; 0 disables the limit.
    pub max: u32,
    /// Window length.
    pub window: Duration,
}

/// Over the limit: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// Seconds until the window resets.
    pub retry_after: u64,
}

/// Counts hits per key and window.
pub struct RateLimiter {
    memory: Mutex<HashMap<(String, u64), u32>>,
    redis: Option<redis::aio::ConnectionManager>,
    /// Unix seconds every hit is counted at, when a test pinned them; 0: the system
    /// clock. Windows are aligned to the clock, so a test that needs several hits in
    /// one window pins "now" instead of waiting for the next minute to begin.
    pinned_now: AtomicU64,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("shared", &self.redis.is_some())
            .finish()
    }
}

/// Why the Redis limiter could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot use Redis at {url} for rate limits: {source}")]
pub struct RedisError {
    url: String,
    source: redis::RedisError,
}

impl RateLimiter {
    /// Counters in this process only.
    pub fn in_memory() -> Self {
        Self {
            memory: Mutex::new(HashMap::new()),
            redis: None,
            pinned_now: AtomicU64::new(0),
        }
    }

    /// Counters shared through Redis at `url`.
    pub async fn redis(url: &str) -> Result<Self, RedisError> {
        let err = |source| RedisError {
            url: url.to_owned(),
            source,
        };
        let client = redis::Client::open(url).map_err(err)?;
        let manager = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(err)?;
        Ok(Self {
            memory: Mutex::new(HashMap::new()),
            redis: Some(manager),
            pinned_now: AtomicU64::new(0),
        })
    }

    /// Counts every later hit and check as made at `unix_seconds` (0: the system clock
    /// again). For tests: instances pinned to one second share one window whatever the
    /// time, instead of a test waiting for a window to begin. Production never pins.
    pub fn pin_now(&self, unix_seconds: u64) {
        self.pinned_now.store(unix_seconds, Ordering::Relaxed);
    }

    /// Unix seconds now: the pinned second, or the system clock's.
    fn now(&self) -> u64 {
        match self.pinned_now.load(Ordering::Relaxed) {
            0 => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
            pinned => pinned,
        }
    }

    /// Counts one hit of `key` against `limit`.
    pub async fn hit(&self, limit: Limit, key: &str) -> Result<(), Exceeded> {
        if limit.max == 0 {
            return Ok(());
        }
        let (index, window, retry_after) = window_of(limit, self.now());
        let count = match &self.redis {
            Some(redis) => match redis_hit(redis.clone(), limit.name, key, index, window).await {
                Ok(count) => count,
                Err(e) => {
                    tracing::warn!(
                        "Redis rate limit unavailable, counting in memory on this instance: {e}"
                    );
                    self.memory_hit(limit.name, key, index)
                }
            },
            None => self.memory_hit(limit.name, key, index),
        };
        if count > u64::from(limit.max) {
            Err(Exceeded { retry_after })
        } else {
            Ok(())
        }
    }

    /// Whether `key` is already over `limit` in the current window, without counting
    /// a hit: for a check that must happen before work whose failures are what counts
    /// (a status lookup that would answer 200 must not run once failures used the budget).
    pub async fn check(&self, limit: Limit, key: &str) -> Result<(), Exceeded> {
        if limit.max == 0 {
            return Ok(());
        }
        let (index, _, retry_after) = window_of(limit, self.now());
        let count = match &self.redis {
            Some(redis) => match redis_count(redis.clone(), limit.name, key, index).await {
                Ok(count) => count,
                Err(e) => {
                    tracing::warn!(
                        "Redis rate limit unavailable, counting in memory on this instance: {e}"
                    );
                    self.memory_count(limit.name, key, index)
                }
            },
            None => self.memory_count(limit.name, key, index),
        };
        if count >= u64::from(limit.max) {
            Err(Exceeded { retry_after })
        } else {
            Ok(())
        }
    }

    fn memory_count(&self, name: &str, key: &str, index: u64) -> u64 {
        let Ok(map) = self.memory.lock() else {
            return 0;
        };
        map.get(&(format!("{name}:{key}"), index))
            .map_or(0, |n| u64::from(*n))
    }

    fn memory_hit(&self, name: &str, key: &str, index: u64) -> u64 {
        let Ok(mut map) = self.memory.lock() else {
            return 0;
        };
        // Old windows are dropped as the map grows, so it stays bounded by the
        // number of keys seen within one window.
        if map.len() > 10_000 {
            map.retain(|(_, i), _| *i >= index);
        }
        let n = map.entry((format!("{name}:{key}"), index)).or_insert(0);
        *n = n.saturating_add(1);
        u64::from(*n)
    }
}

/// The window's index at `now` (unix seconds), its length and the seconds until it ends.
fn window_of(limit: Limit, now: u64) -> (u64, u64, u64) {
    let window = limit.window.as_secs().max(1);
    let index = now / window;
    (index, window, (index + 1) * window - now)
}

async fn redis_count(
    mut conn: redis::aio::ConnectionManager,
    name: &str,
    key: &str,
    index: u64,
) -> Result<u64, redis::RedisError> {
    let key = format!("streamgate:rl:{name}:{key}:{index}");
    let count: Option<u64> = redis::cmd("GET").arg(&key).query_async(&mut conn).await?;
    Ok(count.unwrap_or(0))
}

async fn redis_hit(
    mut conn: redis::aio::ConnectionManager,
    name: &str,
    key: &str,
    index: u64,
    window: u64,
) -> Result<u64, redis::RedisError> {
    let key = format!("streamgate:rl:{name}:{key}:{index}");
    let (count,): (u64,) = redis::pipe()
        .atomic()
        .incr(&key, 1u64)
        .expire(&key, i64::try_from(window + 1).unwrap_or(i64::MAX))
        .ignore()
        .query_async(&mut conn)
        .await?;
    Ok(count)
}
