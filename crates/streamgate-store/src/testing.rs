//! The escape hatch for this crate's own tests and examples (cargo feature `testing`,
//! enabled only by the crate's dev-dependency on itself): they seed rows directly,
//! inject failures with triggers and measure table sizes, which no store function does
//! and none should. Everything else, the platform, CLI and HLS server included, goes
//! through functions taking `&Store`, so a build of those has no way to the pool.

use sqlx::AnyPool;

use crate::Store;

/// The store's connection pool, for raw SQL in tests and benchmarks.
pub fn pool(store: &Store) -> &AnyPool {
    store.pool()
}
