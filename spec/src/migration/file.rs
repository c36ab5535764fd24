//! The migration file format: one step from version `from` to `to` of a
//! kind, as a list of declarative ops (after Cambria's lenses).
//!
//! Every op's pointers are relative to the value the op runs on: the whole
//! document at the top level, each entry inside an `each` block. `""` is
//! that value itself.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One migration file: `migrations/<kind>/<NNNN>_<name>.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "statewright migration file")]
pub struct MigrationFile {
    /// The document kind this step migrates (a `[kinds.<name>]` of statewright.toml).
    pub kind: String,
    /// The schema version the step starts from.
    pub from: u32,
    /// The schema version the step produces (`from + 1`).
    pub to: u32,
    /// What the step does and why, for people reading the history.
    pub description: String,
    /// The ops, applied in order.
    pub ops: Vec<Op>,
}

/// One declarative op. Each op has an inverse (declared or derived) or
/// makes its step lossy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Adds a new field when missing (existing values are kept; missing
    /// parent objects are created). Inverse: `remove`, then the parent
    /// objects it created when they are empty.
    Add(FillOp),
    /// Fills a field the old version already allowed, when missing.
    /// Inverse: nothing to undo (the old version accepts the value).
    SetDefault(FillOp),
    /// Removes a field. Inverse: `add` with `default`, when one is given;
    /// otherwise the step is lossy (`if_empty`: an empty container, nothing
    /// to undo).
    Remove(RemoveOp),
    /// Renames a field within its object; refused when the new name
    /// already holds a value. Inverse: the rename back.
    Rename(RenameOp),
    /// Copies a value to another pointer; refused when the target already
    /// holds a value. Inverse: `remove` of the copy, then the parent
    /// objects it created when they are empty.
    Copy(FromToOp),
    /// Moves a value to another pointer, at any nesting level (hoist,
    /// plunge); refused when the target already holds a value, unless the
    /// target holds the value moved (a hoist replaces its container).
    /// Inverse: the move back, then the parent objects it created when
    /// they are empty.
    Move(FromToOp),
    /// Turns a scalar into a one-item array. Inverse: `head`.
    Wrap(PathOp),
    /// Turns an array into its first item (empty: removed). Inverse: `wrap`.
    Head(PathOp),
    /// Maps values (`map`) or converts their type (`cast`).
    Convert(ConvertOp),
    /// Calls a named Rust function registered by the application.
    Hook(HookOp),
    /// Runs ops on every entry of a map or every item of an array.
    Each(EachOp),
}

/// `add` / `set_default`: fill a field when it is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FillOp {
    /// Pointer of the field to fill.
    pub path: String,
    /// The value to fill in (default `null`); the fallback when `copy_from`
    /// names a missing field.
    #[serde(default)]
    pub default: Value,
    /// Pointer of a field whose value is copied instead of `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_from: Option<String>,
}

/// `remove`: delete a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveOp {
    /// Pointer of the field to remove.
    pub path: String,
    /// The value a downgrade puts back (makes the op reversible). May be `null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub default: Option<Value>,
    /// Remove the value only when it is an empty object or array: how a
    /// downgrade takes away a container its upgrade created (the derived
    /// inverse of a `move` or `copy` into a new object).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub if_empty: bool,
}

/// `rename`: give a field a new name in the same object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameOp {
    /// Pointer of the field to rename.
    pub path: String,
    /// The new key (a name, not a pointer).
    pub to: String,
}

/// `copy` / `move`: from one pointer to another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FromToOp {
    /// Pointer of the source value.
    pub from: String,
    /// Pointer of the destination (missing parent objects are created).
    pub to: String,
}

/// `wrap` / `head`: an op on one pointer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathOp {
    /// Pointer of the value (`""`: the current value itself).
    pub path: String,
}

/// `convert`: a value mapping or a type conversion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertOp {
    /// Pointer of the value to convert (`""`: the current value itself).
    pub path: String,
    /// Value mapping, applied to equal values; other values are kept
    /// (or replaced by `otherwise`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub map: Vec<Mapping>,
    /// The mapping a downgrade applies. Derived by swapping `map` when each
    /// `to` is distinct and there is no `otherwise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse: Option<Vec<Mapping>>,
    /// Replaces values `map` does not name (makes the op lossy unless
    /// `reverse` is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otherwise: Option<Value>,
    /// A type conversion instead of a mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cast: Option<Cast>,
}

/// One pair of a value mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The old value.
    pub from: Value,
    /// The new value.
    pub to: Value,
}

/// A type conversion between JSON scalar types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cast {
    /// The type values have before.
    pub from: ScalarType,
    /// The type values have after.
    pub to: ScalarType,
}

/// JSON scalar types a `cast` converts between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScalarType {
    /// A string (`"8080"`).
    String,
    /// An integer (`8080`).
    Integer,
    /// Any number (`0.5`).
    Number,
    /// `true` or `false` (strings `"true"`/`"false"`).
    Boolean,
}

/// `hook`: a named Rust function, the escape hatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HookOp {
    /// The name the application registered the function under.
    pub name: String,
    /// Pointer of the value the hook receives (`""`: the current value).
    #[serde(default)]
    pub path: String,
    /// The registered function that undoes it; without one the step is lossy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inverse: Option<String>,
}

/// `each`: ops over every entry of a map or item of an array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EachOp {
    /// Pointer of the map or array (missing: nothing to do).
    pub path: String,
    /// Ops run on each entry; their pointers are relative to the entry.
    pub ops: Vec<Op>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Op {
    /// The op's name as written in files (`add`, `each`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Add(_) => "add",
            Op::SetDefault(_) => "set_default",
            Op::Remove(_) => "remove",
            Op::Rename(_) => "rename",
            Op::Copy(_) => "copy",
            Op::Move(_) => "move",
            Op::Wrap(_) => "wrap",
            Op::Head(_) => "head",
            Op::Convert(_) => "convert",
            Op::Hook(_) => "hook",
            Op::Each(_) => "each",
        }
    }

    /// The pointer the op is about (for messages).
    pub fn target(&self) -> &str {
        match self {
            Op::Add(o) | Op::SetDefault(o) => &o.path,
            Op::Remove(o) => &o.path,
            Op::Rename(o) => &o.path,
            Op::Copy(o) | Op::Move(o) => &o.from,
            Op::Wrap(o) | Op::Head(o) => &o.path,
            Op::Convert(o) => &o.path,
            Op::Hook(o) => &o.path,
            Op::Each(o) => &o.path,
        }
    }
}
