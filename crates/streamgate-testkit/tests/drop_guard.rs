//! A PostgreSQL test database goes when its `TestDb` goes: dropped, or unwound by a
//! panicking test, or through the explicit `cleanup()`.

use sqlx::{Connection, Row};
use streamgate_testkit::{TestDb, postgres_admin_url};

async fn exists(url: &str) -> bool {
    let name = url.rsplit('/').next().expect("database name").to_owned();
    let mut conn = sqlx::AnyConnection::connect(&postgres_admin_url())
        .await
        .expect("admin connection");
    let row = sqlx::query("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_one(&mut conn)
        .await
        .expect("query");
    let _ = conn.close().await;
    row.try_get::<i64, _>(0).expect("count") == 1
}

#[tokio::test]
async fn a_panicking_test_leaves_no_database() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    assert!(exists(&url).await);
    // Something holds a connection, as a test's pool does when it panics.
    let mut held = sqlx::AnyConnection::connect(&url).await.expect("connect");
    sqlx::query("SELECT 1")
        .execute(&mut held)
        .await
        .expect("use");
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _db = db;
        panic!("the test fails");
    }));
    assert!(unwound.is_err());
    assert!(!exists(&url).await, "the guard dropped {url}");
}

#[tokio::test]
async fn cleanup_still_drops_the_database() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    db.cleanup().await;
    assert!(!exists(&url).await);
}
