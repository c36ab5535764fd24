//! Planning: the chain of steps (up or down) that takes a document of a
//! kind from its version to the target version.

use statewright_spec::migration::{Lossy, Migration, MigrationSet, Op};
use statewright_spec::{Catalog, EnvelopeFields};

use super::error::MigrateError;

/// Which way a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// `from` → `to`: the file's ops.
    Up,
    /// `to` → `from`: the ops' inverses.
    Down,
}

/// One step of a plan.
#[derive(Debug, Clone, Copy)]
pub struct PlannedStep<'a> {
    /// The migration file.
    pub migration: &'a Migration,
    /// Which way it runs.
    pub direction: Direction,
}

impl<'a> PlannedStep<'a> {
    /// The ops this step runs.
    pub fn ops(&self) -> &'a [Op] {
        match self.direction {
            Direction::Up => &self.migration.file.ops,
            Direction::Down => &self.migration.down,
        }
    }

    /// The version before the step.
    pub fn from(&self) -> u32 {
        match self.direction {
            Direction::Up => self.migration.file.from,
            Direction::Down => self.migration.file.to,
        }
    }

    /// The version after the step.
    pub fn to(&self) -> u32 {
        match self.direction {
            Direction::Up => self.migration.file.to,
            Direction::Down => self.migration.file.from,
        }
    }

    /// What this step loses (only downgrades lose anything).
    pub fn lossy(&self) -> &'a [Lossy] {
        match self.direction {
            Direction::Up => &[],
            Direction::Down => &self.migration.lossy,
        }
    }
}

/// The steps that take a document of `kind` from `from` to `to`.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The kind.
    pub kind: String,
    /// Where the kind's envelope fields live.
    pub fields: EnvelopeFields,
    /// The document's version.
    pub from: u32,
    /// The target version.
    pub to: u32,
    /// The steps, in order (empty when already there).
    pub steps: Vec<PlannedStep<'a>>,
}

impl Plan<'_> {
    /// Every loss a downgrade through this plan causes, by migration id.
    pub fn losses(&self) -> Vec<(String, Lossy)> {
        self.steps
            .iter()
            .flat_map(|s| {
                s.lossy()
                    .iter()
                    .map(|l| (s.migration.id.clone(), l.clone()))
            })
            .collect()
    }

    /// Refuses a lossy plan unless `allow_lossy`.
    pub fn ensure_allowed(&self, allow_lossy: bool) -> Result<(), MigrateError> {
        let lost = self.losses();
        if lost.is_empty() || allow_lossy {
            return Ok(());
        }
        Err(MigrateError::LossyDowngrade {
            kind: self.kind.clone(),
            from: self.from,
            to: self.to,
            lost,
        })
    }
}

/// Plans the chain for a document of `kind` at version `from` to reach `to`.
/// Refuses documents newer than the catalog knows, targets it does not
/// have, and chains with a gap.
pub fn plan<'a>(
    catalog: &Catalog,
    migrations: &'a MigrationSet,
    kind: &str,
    from: u32,
    to: u32,
) -> Result<Plan<'a>, MigrateError> {
    let k = catalog
        .kind(kind)
        .ok_or_else(|| MigrateError::UnknownKind { kind: kind.into() })?;
    let latest = k.latest().version;
    if from > latest {
        return Err(MigrateError::NewerThanKnown {
            kind: kind.into(),
            version: from,
            latest,
        });
    }
    if to > latest || to == 0 {
        return Err(MigrateError::UnknownTarget {
            kind: kind.into(),
            to,
            latest,
        });
    }
    Ok(Plan {
        kind: kind.into(),
        fields: k.spec.fields.clone(),
        from,
        to,
        steps: chain(migrations, kind, from, to)?,
    })
}

fn chain<'a>(
    migrations: &'a MigrationSet,
    kind: &str,
    from: u32,
    to: u32,
) -> Result<Vec<PlannedStep<'a>>, MigrateError> {
    let (lo, hi, direction) = if from <= to {
        (from, to, Direction::Up)
    } else {
        (to, from, Direction::Down)
    };
    let mut steps = (lo..hi)
        .map(|v| {
            migrations
                .step_from(kind, v)
                .map(|migration| PlannedStep {
                    migration,
                    direction,
                })
                .ok_or_else(|| MigrateError::Gap {
                    kind: kind.into(),
                    from: v,
                    to: v + 1,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if direction == Direction::Down {
        steps.reverse();
    }
    Ok(steps)
}
