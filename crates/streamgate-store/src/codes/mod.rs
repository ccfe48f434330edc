//! Access-code rows: making them in bulk, their status, listing, revoking and the CSV
//! export, one file per concern. Every public item is re-exported here, so callers keep
//! using `streamgate_store::codes::*`.

mod export;
mod generate;
mod list;
mod revoke;
mod status;

pub use export::export_csv;
pub(crate) use generate::insert_into;
pub use generate::{GenerateError, NewCodes, generate, insert};
pub use list::{CodePage, CodeQuery, CodeRow, belongs_to, list_page, unused_codes};
pub use revoke::{bulk_revoke, set_revoked};
pub use status::{CodeStatus, StatusCounts, status_counts};
