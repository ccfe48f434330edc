//! Computing and describing what an apply would do.

use std::collections::HashMap;

use sqlx::AnyConnection;
use streamgate_core::config::EventConfig;
use streamgate_core::{Config, EventId};

use super::guard::{self, Holdings};
use crate::events::{self, EventRow, ManagedBy};
use crate::{Store, StoreError, format_ms, now_ms, to_ms};

/// What a plan may include beyond creates and updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Delete removed events and revoke surplus codes (`--prune`).
    pub prune: bool,
    /// Retire removed events even when they still have redeemed codes or viewers
    /// (`--allow-retire`); without it such a retire is refused (the destroy guard).
    pub allow_retire: bool,
}

/// One field of an event that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The config key.
    pub field: &'static str,
    /// Current value, as shown to operators.
    pub from: String,
    /// Desired value.
    pub to: String,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new config event.
    CreateEvent {
        /// The row to insert.
        row: EventRow,
    },
    /// A config event whose definition changed.
    UpdateEvent {
        /// The row as it will be.
        row: EventRow,
        /// What differs.
        fields: Vec<FieldChange>,
        /// Whether it was active before (to log deactivation / reactivation).
        was_active: bool,
    },
    /// New codes for a batch that is new or whose count grew.
    AddCodes {
        /// Event id.
        event_id: String,
        /// Batch label.
        batch: String,
        /// Codes in the batch now.
        from: u64,
        /// Codes wanted.
        to: u64,
        /// Made suspended (`active = false`).
        suspended: bool,
        /// Fixed expiry of the new codes, Unix ms.
        expires_at: i64,
    },
    /// Revoke and detach surplus unredeemed codes of a batch whose count went down (`--prune`).
    PruneCodes {
        /// Event id.
        event_id: String,
        /// Batch label.
        batch: String,
        /// How many codes to revoke.
        revoke: u64,
        /// Redeemed codes above the count that stay untouched.
        kept_redeemed: u64,
    },
    /// A batch's `active` flag changed.
    SetBatchSuspended {
        /// Event id.
        event_id: String,
        /// Batch label.
        batch: String,
        /// New state.
        suspended: bool,
    },
    /// An event gone from the file: deactivated and archived, codes kept.
    RetireEvent {
        /// Event id.
        event_id: String,
        /// Whether it was active (then the edges are told).
        was_active: bool,
        /// Redeemed codes and viewers it still has (a destroy when not empty).
        holdings: Holdings,
    },
    /// An event gone from the file, deleted with its codes (`--prune`).
    DeleteEvent {
        /// Event id.
        event_id: String,
        /// Codes deleted with it.
        codes: u64,
        /// Of which redeemed.
        redeemed: u64,
    },
}

/// What an apply would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Steps, in the order they run.
    pub changes: Vec<Change>,
    /// Config events already as declared.
    pub unchanged: Vec<String>,
    /// Things worth knowing that need no change.
    pub notes: Vec<String>,
    /// Things the operator should look at before applying (renamed or removed batches,
    /// codes that expire before their event ends); they do not stop an apply.
    pub warnings: Vec<String>,
    /// Why the plan cannot be applied; an apply refuses when this is not empty.
    pub errors: Vec<String>,
    /// Retires the destroy guard refuses (see [`super::guard`]); an apply refuses
    /// when this is not empty. Kept apart from `errors` so that a process starting up
    /// can keep serving with the database as it is instead of refusing to start.
    pub destroy_refusals: Vec<String>,
}

impl Plan {
    /// Whether applying would change nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether an apply would refuse this plan.
    pub fn is_refused(&self) -> bool {
        !self.errors.is_empty() || !self.destroy_refusals.is_empty()
    }

    /// Codes an apply would make.
    pub fn codes_to_make(&self) -> u64 {
        self.changes
            .iter()
            .map(|c| match c {
                Change::AddCodes { from, to, .. } => to - from,
                _ => 0,
            })
            .sum()
    }
}

/// Current state of one config batch.
#[derive(Debug, Clone, Copy, Default)]
struct BatchState {
    total: u64,
    unredeemed: u64,
    suspended: u64,
}

/// Plans on a pool connection.
pub async fn plan(
    store: &Store,
    config: &Config,
    options: PlanOptions,
) -> Result<Plan, StoreError> {
    let mut conn = store.pool().acquire().await?;
    plan_in(&mut conn, config, options).await
}

/// Plans on the given connection (the apply transaction's, so that what is planned is
/// exactly what is applied).
pub async fn plan_in(
    conn: &mut AnyConnection,
    config: &Config,
    options: PlanOptions,
) -> Result<Plan, StoreError> {
    let prune = options.prune;
    let current: HashMap<String, EventRow> = events::list(conn)
        .await?
        .into_iter()
        .map(|e| (e.id.to_string(), e))
        .collect();
    let batches = batch_states(conn).await?;
    let mut plan = Plan::default();
    let now = now_ms();

    for desired in &config.events {
        let id = desired.id.as_str();
        let target = desired_row(desired, now);
        let mut changed = false;
        match current.get(id) {
            Some(existing) if existing.managed_by == ManagedBy::Api => {
                plan.errors.push(format!(
                    "event `{id}` already exists and is managed through the admin API; rename the event in streamgate.toml or delete the API event"
                ));
                continue;
            }
            Some(existing) => {
                let fields = diff(existing, &target);
                if !fields.is_empty() {
                    if target.ends_at != existing.ends_at {
                        expiry_warning(conn, &target, &mut plan).await?;
                    }
                    let row = EventRow {
                        created_at: existing.created_at,
                        ..target.clone()
                    };
                    plan.changes.push(Change::UpdateEvent {
                        row,
                        fields,
                        was_active: existing.is_active,
                    });
                    changed = true;
                }
            }
            None => {
                plan.changes.push(Change::CreateEvent {
                    row: target.clone(),
                });
                changed = true;
            }
        }
        for batch in &desired.codes {
            let state = batches
                .get(&(id.to_owned(), batch.label.clone()))
                .copied()
                .unwrap_or_default();
            let want = u64::from(batch.count);
            let suspended = batch.active == Some(false);
            let as_declared = if suspended {
                state.suspended == state.total
            } else {
                state.suspended == 0
            };
            if !as_declared {
                plan.changes.push(Change::SetBatchSuspended {
                    event_id: id.to_owned(),
                    batch: batch.label.clone(),
                    suspended,
                });
                changed = true;
            }
            if want > state.total {
                plan.changes.push(Change::AddCodes {
                    event_id: id.to_owned(),
                    batch: batch.label.clone(),
                    from: state.total,
                    to: want,
                    suspended,
                    expires_at: target.code_expiry(),
                });
                changed = true;
            } else if want < state.total {
                let surplus = state.total - want;
                let removable = surplus.min(state.unredeemed);
                let kept_redeemed = surplus - removable;
                if removable == 0 {
                    plan.notes.push(format!(
                        "batch `{id}/{}`: {} codes for a count of {want}; the {surplus} above it are redeemed and are kept",
                        batch.label, state.total
                    ));
                } else if prune {
                    plan.changes.push(Change::PruneCodes {
                        event_id: id.to_owned(),
                        batch: batch.label.clone(),
                        revoke: removable,
                        kept_redeemed,
                    });
                    changed = true;
                } else {
                    plan.errors.push(format!(
                        "batch `{id}/{}`: count lowered from {} to {want}; rerun with --prune to revoke {removable} unredeemed code{}",
                        batch.label,
                        state.total,
                        if removable == 1 { "" } else { "s" }
                    ));
                }
            }
        }
        batch_warnings(id, desired, &batches, &mut plan);
        if !changed {
            plan.unchanged.push(id.to_owned());
        }
    }

    let declared: std::collections::HashSet<&str> =
        config.events.iter().map(|e| e.id.as_str()).collect();
    let mut removed: Vec<&EventRow> = current
        .values()
        .filter(|e| e.managed_by == ManagedBy::Config && !declared.contains(e.id.as_str()))
        .collect();
    removed.sort_by(|a, b| a.id.cmp(&b.id));
    let timeout_ms = i64::from(config.platform.session_timeout_seconds) * 1000;
    let mut guarded = Vec::new();
    for event in removed {
        if prune {
            let (codes, redeemed) = code_counts(conn, event.id.as_str()).await?;
            plan.changes.push(Change::DeleteEvent {
                event_id: event.id.to_string(),
                codes,
                redeemed,
            });
        } else if event.is_active || !event.is_archived {
            let holdings = guard::holdings(conn, event.id.as_str(), now, timeout_ms).await?;
            if !holdings.is_empty() && !options.allow_retire {
                guarded.push((event.id.to_string(), holdings));
            }
            plan.changes.push(Change::RetireEvent {
                event_id: event.id.to_string(),
                was_active: event.is_active,
                holdings,
            });
        }
    }
    if !guarded.is_empty() {
        plan.destroy_refusals.push(guard::refusal(&guarded));
    }
    Ok(plan)
}

/// Warns about batches of a declared event that the file no longer names: their codes
/// are kept and keep working (removal is not deletion), but nothing manages them any
/// more, and a new batch beside a vanished one looks like a rename that makes new
/// codes while the sold ones stay valid.
fn batch_warnings(
    id: &str,
    desired: &EventConfig,
    batches: &HashMap<(String, String), BatchState>,
    plan: &mut Plan,
) {
    let declared: std::collections::HashSet<&str> =
        desired.codes.iter().map(|b| b.label.as_str()).collect();
    let mut gone: Vec<(&str, BatchState)> = batches
        .iter()
        .filter(|((event, label), _)| event == id && !declared.contains(label.as_str()))
        .map(|((_, label), state)| (label.as_str(), *state))
        .collect();
    gone.sort_by(|a, b| a.0.cmp(b.0));
    let new: Vec<&str> = desired
        .codes
        .iter()
        .filter(|b| !batches.contains_key(&(id.to_owned(), b.label.clone())))
        .map(|b| b.label.as_str())
        .collect();
    for (label, state) in gone {
        let redeemed = state.total - state.unredeemed;
        let mut warning = format!(
            "batch `{id}/{label}` is no longer in the file: its {} codes ({redeemed} redeemed) are kept and keep working, but the file no longer manages them (put the batch back to manage them; revoke them in the console to stop them)",
            state.total
        );
        if !new.is_empty() {
            warning.push_str(&format!(
                "; if `{}` is a rename of it, the rename makes new codes and leaves these valid: keep the old label instead",
                new.join("`, `")
            ));
        }
        plan.warnings.push(warning);
    }
}

/// Warns when a new end time leaves existing codes expiring before the event ends: a
/// code's expiry is fixed when it is made (SPEC section 2), so moving the schedule does
/// not move it.
async fn expiry_warning(
    conn: &mut AnyConnection,
    target: &EventRow,
    plan: &mut Plan,
) -> Result<(), StoreError> {
    let (n, first): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*) AS n, MIN(expires_at) AS first FROM access_codes \
         WHERE event_id = $1 AND is_revoked = 0 AND expires_at < $2",
    )
    .bind(target.id.as_str())
    .bind(target.ends_at)
    .fetch_one(&mut *conn)
    .await?;
    if n > 0 {
        plan.warnings.push(format!(
            "event `{}` now ends at {}, but {n} of its existing codes expire before that (the first at {}): a code's expiry is fixed when it is made; issue new codes for the new schedule",
            target.id,
            format_ms(target.ends_at),
            format_ms(first.unwrap_or(target.ends_at))
        ));
    }
    Ok(())
}

fn desired_row(e: &EventConfig, now: i64) -> EventRow {
    EventRow {
        id: EventId::from(e.id.as_str()),
        title: e.title.clone(),
        description: e.description.clone(),
        stream_url: e.stream_url.as_ref().map(ToString::to_string),
        playlist: e.playlist.as_str().to_owned(),
        poster_url: e.poster_url.as_ref().map(ToString::to_string),
        starts_at: to_ms(e.starts_at.get()),
        ends_at: to_ms(e.ends_at.get()),
        access_window_hours: i64::from(e.access_window_hours),
        is_active: e.active,
        is_archived: e.archived,
        managed_by: ManagedBy::Config,
        created_at: now,
        updated_at: now,
    }
}

fn diff(old: &EventRow, new: &EventRow) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut field = |name: &'static str, a: String, b: String| {
        if a != b {
            out.push(FieldChange {
                field: name,
                from: a,
                to: b,
            });
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unset)".to_owned());
    field("title", old.title.clone(), new.title.clone());
    field(
        "description",
        old.description.clone(),
        new.description.clone(),
    );
    field("stream_url", opt(&old.stream_url), opt(&new.stream_url));
    field("playlist", old.playlist.clone(), new.playlist.clone());
    field("poster_url", opt(&old.poster_url), opt(&new.poster_url));
    field(
        "starts_at",
        format_ms(old.starts_at),
        format_ms(new.starts_at),
    );
    field("ends_at", format_ms(old.ends_at), format_ms(new.ends_at));
    field(
        "access_window_hours",
        old.access_window_hours.to_string(),
        new.access_window_hours.to_string(),
    );
    field(
        "active",
        old.is_active.to_string(),
        new.is_active.to_string(),
    );
    field(
        "archived",
        old.is_archived.to_string(),
        new.is_archived.to_string(),
    );
    out
}

async fn batch_states(
    conn: &mut AnyConnection,
) -> Result<HashMap<(String, String), BatchState>, StoreError> {
    let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT c.event_id, c.batch, COUNT(*) AS total, \
                CAST(SUM(CASE WHEN c.redeemed_at IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unredeemed, \
                CAST(SUM(c.is_suspended) AS BIGINT) AS suspended \
         FROM access_codes c JOIN events e ON e.id = c.event_id \
         WHERE c.batch IS NOT NULL AND e.managed_by = 'config' \
         GROUP BY c.event_id, c.batch",
    )
    .fetch_all(&mut *conn)
    .await?;
    let count = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(rows
        .into_iter()
        .map(|(event_id, batch, total, unredeemed, suspended)| {
            let state = BatchState {
                total: count(total),
                unredeemed: count(unredeemed),
                suspended: count(suspended),
            };
            ((event_id, batch), state)
        })
        .collect())
}

async fn code_counts(conn: &mut AnyConnection, event_id: &str) -> Result<(u64, u64), StoreError> {
    let (total, redeemed): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*) AS total, CAST(COALESCE(SUM(CASE WHEN redeemed_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) AS redeemed \
         FROM access_codes WHERE event_id = $1",
    )
    .bind(event_id)
    .fetch_one(&mut *conn)
    .await?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok((n(total), n(redeemed)))
}
