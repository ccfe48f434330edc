//! The reconciler: makes the database's config-managed events and code batches match
//! `streamgate.toml`, the way Terraform makes infrastructure match its files.
//!
//! [`plan`] compares and describes; [`apply`] computes the same plan *inside* one
//! write transaction (after taking the applier lock on PostgreSQL, so two processes
//! applying at once serialise and the second finds nothing left to do) and carries it
//! out. Either everything in a plan happens or nothing does.
//!
//! Rules (DESIGN.md section 3): runtime state is never touched; an event removed from
//! the file is deactivated and archived, not deleted, unless `--prune`; a batch's count
//! going down is an error unless `--prune`, which revokes surplus *unredeemed* codes;
//! an event that still has redeemed codes or viewers is retired only when asked
//! (`--allow-retire`; the destroy guard in [`guard`]).

mod apply;
mod guard;
mod plan;
mod show;
mod staging;

pub use apply::{ApplyOptions, ApplyReport, apply};
pub use guard::Holdings;
pub use plan::{Change, FieldChange, Plan, PlanOptions, plan, plan_in};
