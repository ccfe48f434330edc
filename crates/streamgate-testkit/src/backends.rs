//! One test per behaviour and backend. A loop over both databases inside one test hid a
//! PostgreSQL failure behind the behaviour's name and ran the two backends one after the
//! other; `backend_tests!` makes each behaviour a module with a `sqlite` and a
//! `postgres` test, so `cargo test` names the backend that failed and runs both in
//! parallel.

/// Turns `async fn behaviour(db) { ... }` into `mod behaviour { fn sqlite(); fn
/// postgres(); }`, each given its own fresh [`TestDb`](crate::TestDb) by value. The
/// attributes written above the function (`#[tokio::test]`, with a flavour if the
/// behaviour needs one) go on both tests. The PostgreSQL test returns early, with the
/// reason printed, when the server is unreachable outside CI, as `TestDb::postgres`
/// does; under `CI=true` it fails.
///
/// ```ignore
/// backend_tests! {
///     #[tokio::test]
///     async fn a_second_apply_changes_nothing(db) {
///         let store = common::store(&db).await;
///         // ...
///     }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($(
        $(#[$attr:meta])*
        async fn $name:ident($db:ident) $body:block
    )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn behaviour($db: $crate::TestDb) $body

            $(#[$attr])*
            async fn sqlite() {
                behaviour($crate::TestDb::sqlite()).await;
            }

            $(#[$attr])*
            async fn postgres() {
                if let Some(db) = $crate::TestDb::postgres().await {
                    behaviour(db).await;
                }
            }
        }
    )*};
}
