//! How a plan reads to an operator: one line per change, destroys marked `!`, then
//! notes, warnings and errors, then a one-line summary (the line logs and the audit
//! log keep).

use std::fmt;

use super::plan::{Change, Plan};
use crate::format_ms;

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for change in &self.changes {
            match change {
                Change::CreateEvent { row } => writeln!(
                    f,
                    "+ event {}: create \"{}\" ({} to {}, {} h access window{})",
                    row.id,
                    row.title,
                    format_ms(row.starts_at),
                    format_ms(row.ends_at),
                    row.access_window_hours,
                    if row.is_active { "" } else { ", inactive" }
                )?,
                Change::UpdateEvent { row, fields, .. } => {
                    writeln!(f, "~ event {}: update", row.id)?;
                    for c in fields {
                        writeln!(f, "    {}: {:?} -> {:?}", c.field, c.from, c.to)?;
                    }
                }
                Change::AddCodes {
                    event_id,
                    batch,
                    from,
                    to,
                    suspended,
                    ..
                } => writeln!(
                    f,
                    "+ codes {event_id}/{batch}: make {} ({from} -> {to}){}",
                    to - from,
                    if *suspended { ", suspended" } else { "" }
                )?,
                Change::PruneCodes {
                    event_id,
                    batch,
                    revoke,
                    kept_redeemed,
                } => writeln!(
                    f,
                    "- codes {event_id}/{batch}: revoke {revoke} unredeemed{}",
                    if *kept_redeemed > 0 {
                        format!(", keep {kept_redeemed} redeemed")
                    } else {
                        String::new()
                    }
                )?,
                Change::SetBatchSuspended {
                    event_id,
                    batch,
                    suspended,
                } => writeln!(
                    f,
                    "~ codes {event_id}/{batch}: {}",
                    if *suspended {
                        "suspend (active = false)"
                    } else {
                        "resume (active)"
                    }
                )?,
                Change::RetireEvent {
                    event_id, holdings, ..
                } => {
                    if holdings.is_empty() {
                        writeln!(
                            f,
                            "- event {event_id}: removed from the file: deactivate and archive (codes kept; --prune deletes)"
                        )?;
                    } else {
                        writeln!(
                            f,
                            "! DESTROY event {event_id}: removed from the file: deactivate and archive, cutting off {holdings} (needs --allow-retire)"
                        )?;
                    }
                }
                Change::DeleteEvent {
                    event_id,
                    codes,
                    redeemed,
                } => writeln!(
                    f,
                    "! DESTROY event {event_id}: delete with its {codes} codes ({redeemed} redeemed)"
                )?,
            }
        }
        for id in &self.unchanged {
            writeln!(f, "= event {id}: unchanged")?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        for error in self.errors.iter().chain(&self.destroy_refusals) {
            writeln!(f, "error: {error}")?;
        }
        let count = |p: fn(&Change) -> bool| self.changes.iter().filter(|c| p(c)).count();
        write!(
            f,
            "Plan: {} event(s) to create, {} to update, {} to remove; {} code(s) to make, {} to revoke.",
            count(|c| matches!(c, Change::CreateEvent { .. })),
            count(|c| matches!(c, Change::UpdateEvent { .. })),
            count(|c| matches!(c, Change::RetireEvent { .. } | Change::DeleteEvent { .. })),
            self.codes_to_make(),
            self.changes
                .iter()
                .map(|c| if let Change::PruneCodes { revoke, .. } = c {
                    *revoke
                } else {
                    0
                })
                .sum::<u64>()
        )
    }
}
