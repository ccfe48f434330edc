//! The CSV export of an event's codes.

use std::io::Write;

use sqlx::AnyConnection;
use streamgate_core::EventId;
use streamgate_core::csv::safe_cell;

use super::status::CodeStatus;
use crate::row::Flag;
use crate::{StoreError, format_ms, now_ms};

/// A code as the export reads it, with its live-session count.
#[derive(sqlx::FromRow)]
struct ExportRow {
    code: String,
    label: Option<String>,
    #[sqlx(try_from = "Flag")]
    is_revoked: bool,
    #[sqlx(try_from = "Flag")]
    is_suspended: bool,
    redeemed_at: Option<i64>,
    expires_at: i64,
    created_at: i64,
    live: i64,
}

/// Writes an event's codes as CSV: `code,label,status,createdAt,expiresAt`.
/// Every cell passes through [`safe_cell`], so a label cannot become a spreadsheet formula.
/// `session_timeout_ms` decides which sessions still count as live.
pub async fn export_csv(
    conn: &mut AnyConnection,
    event_id: &EventId,
    session_timeout_ms: i64,
    out: impl Write,
) -> Result<u64, StoreError> {
    if crate::events::get(conn, event_id).await?.is_none() {
        return Err(StoreError::EventNotFound(event_id.to_string()));
    }
    let now = now_ms();
    let rows: Vec<ExportRow> = sqlx::query_as(
        "SELECT c.code, c.label, c.is_revoked, c.is_suspended, c.redeemed_at, c.expires_at, c.created_at, \
                (SELECT COUNT(*) FROM sessions s WHERE s.code_id = c.id AND s.ended_at IS NULL AND s.last_heartbeat > $2) AS live \
         FROM access_codes c WHERE c.event_id = $1 ORDER BY c.created_at, c.code",
    )
    .bind(event_id)
    .bind(now - session_timeout_ms)
    .fetch_all(&mut *conn)
    .await?;
    let mut writer = csv::Writer::from_writer(out);
    let csv_err = |e: csv::Error| StoreError::Io(std::io::Error::other(e));
    writer
        .write_record(["code", "label", "status", "createdAt", "expiresAt"])
        .map_err(csv_err)?;
    for row in &rows {
        let status = CodeStatus::derive(
            row.is_revoked || row.is_suspended,
            row.expires_at,
            row.redeemed_at.is_some(),
            row.live > 0,
            now,
        );
        let (created_at, expires_at) = (format_ms(row.created_at), format_ms(row.expires_at));
        let cells = [
            row.code.as_str(),
            row.label.as_deref().unwrap_or(""),
            status.as_str(),
            &created_at,
            &expires_at,
        ];
        // Labels are typed by people: no cell may become a spreadsheet formula.
        writer
            .write_record(cells.map(safe_cell).iter().map(|c| c.as_bytes()))
            .map_err(csv_err)?;
    }
    writer.flush()?;
    Ok(rows.len() as u64)
}
