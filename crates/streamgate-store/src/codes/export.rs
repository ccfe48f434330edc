//! The CSV export of an event's codes.

use std::io::Write;

use sqlx::{AnyConnection, Row};
use streamgate_core::csv::safe_cell;

use super::status::CodeStatus;
use crate::{StoreError, format_ms, now_ms};

/// Writes an event's codes as CSV: `code,label,status,createdAt,expiresAt`.
/// Every cell passes through [`safe_cell`], so a label cannot become a spreadsheet formula.
/// `session_timeout_ms` decides which sessions still count as live.
pub async fn export_csv(
    conn: &mut AnyConnection,
    event_id: &str,
    session_timeout_ms: i64,
    out: impl Write,
) -> Result<u64, StoreError> {
    if crate::events::get(conn, event_id).await?.is_none() {
        return Err(StoreError::EventNotFound(event_id.to_owned()));
    }
    let now = now_ms();
    let rows = sqlx::query(
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
        let revoked = row.try_get::<i64, _>("is_revoked")? != 0
            || row.try_get::<i64, _>("is_suspended")? != 0;
        let redeemed = row.try_get::<Option<i64>, _>("redeemed_at")?.is_some();
        let live = row.try_get::<i64, _>("live")? > 0;
        let expires_at: i64 = row.try_get("expires_at")?;
        let status = CodeStatus::derive(revoked, expires_at, redeemed, live, now);
        let code: String = row.try_get("code")?;
        let label: Option<String> = row.try_get("label")?;
        let created_at: i64 = row.try_get("created_at")?;
        let (created_at, expires_at) = (format_ms(created_at), format_ms(expires_at));
        let cells = [
            code.as_str(),
            label.as_deref().unwrap_or(""),
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
