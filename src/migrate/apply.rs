//! Applying a plan in memory: run each step (interpreted or compiled), set
//! the version, and record each step in the document's `history`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use statewright_spec::migration::{Lossy, MigrationSet};
use statewright_spec::pointer;

use super::error::MigrateError;
use super::interp::{Hooks, run_ops};
use super::plan::{Direction, Plan, PlannedStep};
use super::prim::OpFailure;

/// One applied step, as recorded in a document's `history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The migration id (`0001_add_checkpoints`).
    pub migration: String,
    /// The version before the step.
    pub from: u32,
    /// The version after the step.
    pub to: u32,
    /// `sha256:<hex>` of the migration file as applied.
    pub file_hash: String,
    /// When the step was applied (RFC 3339).
    pub applied_at: String,
}

/// Runs one planned step on a document: the interpreter, or compiled code.
pub trait StepRunner {
    /// Applies `step` to `v`.
    fn run(&self, step: &PlannedStep<'_>, v: &mut Value) -> Result<(), MigrateError>;
}

/// The interpreter over parsed ops, with the application's hooks.
#[derive(Debug, Clone, Copy)]
pub struct Interpreter<'h> {
    /// The hooks `hook` ops call.
    pub hooks: &'h Hooks,
}

impl StepRunner for Interpreter<'_> {
    fn run(&self, step: &PlannedStep<'_>, v: &mut Value) -> Result<(), MigrateError> {
        run_ops(step.ops(), v, self.hooks).map_err(|f| op_error(step, f))
    }
}

/// The error for an op that failed during `step`.
pub fn op_error(step: &PlannedStep<'_>, f: OpFailure) -> MigrateError {
    MigrateError::Op {
        file: step.migration.relative.clone(),
        migration: step.migration.id.clone(),
        from: step.from(),
        to: step.to(),
        op_pointer: if f.pointer.is_empty() {
            "/".into()
        } else {
            f.pointer
        },
        message: f.message,
    }
}

/// The current time in RFC 3339, for `applied_at`.
pub fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}

/// Applies `plan` to `value` with the interpreter, stamping `applied_at`
/// with the current time. Returns the new value (version set, history
/// appended) and the history entries added.
pub fn apply_in_memory(
    plan: &Plan<'_>,
    value: Value,
    hooks: &Hooks,
) -> Result<(Value, Vec<HistoryEntry>), MigrateError> {
    apply_with(plan, value, &Interpreter { hooks }, &now())
}

/// Applies `plan` to `value` with `runner`, stamping `applied_at`.
pub fn apply_with(
    plan: &Plan<'_>,
    value: Value,
    runner: &dyn StepRunner,
    applied_at: &str,
) -> Result<(Value, Vec<HistoryEntry>), MigrateError> {
    apply_inner(plan, value, runner, applied_at, None)
}

/// What each step of a plan loses, in the plan's order.
pub type StepLosses = Vec<Vec<Lossy>>;

/// Applies `plan` like [`apply_with`] and also returns, for each step,
/// the values its downgrade loses (see [`value_losses`]; always empty for
/// an upgrade).
pub fn apply_reporting_losses(
    plan: &Plan<'_>,
    value: Value,
    runner: &dyn StepRunner,
    applied_at: &str,
) -> Result<(Value, Vec<HistoryEntry>, StepLosses), MigrateError> {
    let mut losses = Vec::with_capacity(plan.steps.len());
    let (value, entries) = apply_inner(plan, value, runner, applied_at, Some(&mut losses))?;
    Ok((value, entries, losses))
}

fn apply_inner(
    plan: &Plan<'_>,
    mut value: Value,
    runner: &dyn StepRunner,
    applied_at: &str,
    mut losses: Option<&mut StepLosses>,
) -> Result<(Value, Vec<HistoryEntry>), MigrateError> {
    let mut entries = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let before = match (&losses, step.direction) {
            (Some(_), Direction::Down) => Some(value.clone()),
            _ => None,
        };
        runner.run(step, &mut value)?;
        if let Some(losses) = losses.as_deref_mut() {
            losses.push(match &before {
                Some(before) => value_losses(step, before, &value, runner)?,
                None => Vec::new(),
            });
        }
        set_version(&mut value, &plan.fields.version, step.to());
        entries.push(HistoryEntry {
            migration: step.migration.id.clone(),
            from: step.from(),
            to: step.to(),
            file_hash: step.migration.file_hash.clone(),
            applied_at: applied_at.to_owned(),
        });
    }
    append_history(&mut value, &plan.fields.history, &entries);
    Ok((value, entries))
}

/// What the downgrade `step` loses on this very document: every value of
/// `before` that upgrading `after` again through the same migration does
/// not give back (an added field that no longer holds its default, array
/// items beyond the first that `head` drops, a copy edited since). Ops
/// whose inverse is structurally lossy are reported by the plan already;
/// this catches losses that depend on the values. Empty for an upgrade.
pub fn value_losses(
    step: &PlannedStep<'_>,
    before: &Value,
    after: &Value,
    runner: &dyn StepRunner,
) -> Result<Vec<Lossy>, MigrateError> {
    if step.direction == Direction::Up {
        return Ok(Vec::new());
    }
    let mut back = after.clone();
    let up = PlannedStep {
        migration: step.migration,
        direction: Direction::Up,
    };
    runner.run(&up, &mut back)?;
    let mut lost = Vec::new();
    missing_from(before, &back, &mut String::new(), &mut lost);
    Ok(lost
        .into_iter()
        .map(|(pointer, v)| Lossy {
            op: "downgrade",
            lost: format!(
                "the value {}, which upgrading again through `{}` does not give back",
                short(v),
                step.migration.id
            ),
            pointer,
        })
        .collect())
}

/// Collects, with their pointers, the values of `before` that `back` does
/// not hold: a member it lacks or holds differently, the items beyond the
/// ones `back` keeps when those are a non-empty prefix, else the whole
/// array.
fn missing_from<'v>(
    before: &'v Value,
    back: &Value,
    at: &mut String,
    lost: &mut Vec<(String, &'v Value)>,
) {
    if before == back {
        return;
    }
    let len = at.len();
    match (before, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                at.push('/');
                at.push_str(&pointer::escape_token(k));
                match b.get(k) {
                    Some(w) => missing_from(v, w, at, lost),
                    None => lost.push((at.clone(), v)),
                }
                at.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                at.push_str(&format!("/{i}"));
                missing_from(v, w, at, lost);
                at.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b))
            if !b.is_empty() && a.len() > b.len() && a.starts_with(b) =>
        {
            for (i, v) in a.iter().enumerate().skip(b.len()) {
                lost.push((format!("{at}/{i}"), v));
            }
        }
        _ => lost.push((at.clone(), before)),
    }
}

/// `v` as compact JSON, cut to about 60 characters.
fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// Writes `version` at `pointer`, as a string when the field holds one.
pub fn set_version(value: &mut Value, pointer: &str, version: u32) {
    let new = match value.pointer(pointer) {
        Some(Value::String(_)) => Value::String(version.to_string()),
        _ => Value::from(version),
    };
    pointer::set(value, pointer, new);
}

/// Appends `entries` to the history array at `pointer` (created when
/// missing).
pub fn append_history(value: &mut Value, pointer: &str, entries: &[HistoryEntry]) {
    if entries.is_empty() {
        return;
    }
    let new = entries
        .iter()
        .map(|e| serde_json::to_value(e).expect("plain struct"));
    match value.pointer_mut(pointer) {
        Some(Value::Array(a)) => a.extend(new),
        _ => {
            pointer::set(value, pointer, Value::Array(new.collect()));
        }
    }
}

/// Refuses a document whose recorded history names a migration of `kind`
/// that is missing or whose file hash differs now.
pub fn check_provenance(
    kind: &str,
    value: &Value,
    history_pointer: &str,
    migrations: &MigrationSet,
) -> Result<(), MigrateError> {
    let Some(Value::Array(history)) = value.pointer(history_pointer) else {
        return Ok(());
    };
    for entry in history {
        let (Some(id), Some(recorded)) = (
            entry.get("migration").and_then(Value::as_str),
            entry.get("file_hash").and_then(Value::as_str),
        ) else {
            continue;
        };
        let current = match migrations.by_id(kind, id) {
            Some(m) if m.file_hash == recorded => continue,
            Some(m) => format!("the file's hash is now {}", m.file_hash),
            None => "no such migration file exists now".into(),
        };
        return Err(MigrateError::Provenance {
            kind: kind.into(),
            migration: id.into(),
            recorded: recorded.into(),
            current,
        });
    }
    Ok(())
}
