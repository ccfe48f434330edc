//! `sqlx::migrate!` embeds the migration files at compile time but cannot tell cargo
//! that a *new* file in the folder matters; without this, a new migration would be
//! missing from a binary built incrementally.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
