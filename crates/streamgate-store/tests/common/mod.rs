//! What the store's test binaries share on top of `streamgate-testkit`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::path::Path;

use streamgate_core::Config;
use streamgate_core::env::Env;
use streamgate_store::Store;
pub use streamgate_testkit::TestDb;

/// A migrated store on a test database.
pub async fn store(db: &TestDb) -> Store {
    Store::connect(&db.url)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name))
}

/// A validated configuration from TOML text, as the loader would give it.
pub fn config(text: &str) -> Config {
    streamgate_core::load::load_text(Path::new("test.toml"), Some(text), &Env::default(), None)
        .unwrap_or_else(|r| panic!("test config invalid:\n{r}"))
        .config
}

/// Every row of every table (see `streamgate_testkit::snapshot`).
pub async fn snapshot(store: &Store) -> Vec<String> {
    streamgate_testkit::snapshot(store.pool()).await
}

/// One number from a query.
pub async fn count(store: &Store, sql: &'static str) -> i64 {
    streamgate_testkit::count(store.pool(), sql).await
}
