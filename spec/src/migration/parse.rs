//! Reading migration files: `migrations/<kind>/<NNNN>_<name>.yaml` (or
//! `.json`), parsed strictly, checked, and given their inverse. The one
//! reader used by build-time code generation, the runtime and the CLI.

use std::path::{Path, PathBuf};

use super::error::MigrationFileError;
use super::file::{MigrationFile, Op};
use super::inverse::{self, Lossy};
use super::sum::file_hash;
use crate::document::{self, Format, ParseLimits, SourceText};

/// A parsed migration file with its identity, hash and inverse.
#[derive(Debug, Clone)]
pub struct Migration {
    /// The file stem: `0001_add_checkpoints`.
    pub id: String,
    /// The file.
    pub path: PathBuf,
    /// The path relative to the migrations dir: `<kind>/<file>`.
    pub relative: String,
    /// `sha256:<hex>` of the file's bytes.
    pub file_hash: String,
    /// The parsed content.
    pub file: MigrationFile,
    /// The ops a downgrade runs: every op's inverse, in reverse order
    /// (ops without one are skipped and listed in `lossy`).
    pub down: Vec<Op>,
    /// The ops without an inverse (empty when reversible).
    pub lossy: Vec<Lossy>,
}

impl Migration {
    /// Whether a downgrade through this step loses nothing it cannot undo.
    pub fn reversible(&self) -> bool {
        self.lossy.is_empty()
    }

    /// Whether up then down gives every document back exactly.
    pub fn round_trips(&self) -> bool {
        self.reversible() && inverse::round_trips(&self.file.ops)
    }
}

/// All migration files of a project, ordered by kind and number.
#[derive(Debug, Clone, Default)]
pub struct MigrationSet {
    /// The migrations dir.
    pub dir: PathBuf,
    /// The migrations, sorted by `relative`.
    pub migrations: Vec<Migration>,
}

impl MigrationSet {
    /// The migrations of one kind, ascending.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Migration> + 'a {
        self.migrations.iter().filter(move |m| m.file.kind == kind)
    }

    /// The step of `kind` that starts at version `from`.
    pub fn step_from(&self, kind: &str, from: u32) -> Option<&Migration> {
        self.migrations
            .iter()
            .find(|m| m.file.kind == kind && m.file.from == from)
    }

    /// A migration of `kind` by id.
    pub fn by_id(&self, kind: &str, id: &str) -> Option<&Migration> {
        self.migrations
            .iter()
            .find(|m| m.file.kind == kind && m.id == id)
    }
}

/// Loads every migration file under `dir` (a missing dir is an empty set).
pub fn load_dir(dir: &Path) -> Result<MigrationSet, MigrationFileError> {
    let mut migrations = Vec::new();
    for kind_dir in sorted_entries(dir)? {
        if !kind_dir.is_dir() {
            continue;
        }
        for file in sorted_entries(&kind_dir)? {
            if Format::from_path(&file).is_some_and(|f| f != Format::Toml) {
                migrations.push(read_migration(dir, &file)?);
            }
        }
    }
    migrations.sort_by(|a, b| a.relative.cmp(&b.relative));
    check_unique_steps(&migrations)?;
    Ok(MigrationSet {
        dir: dir.to_owned(),
        migrations,
    })
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, MigrationFileError> {
    let io = |source| MigrationFileError::Io {
        path: dir.to_owned(),
        source,
    };
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut out = rd
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    out.sort();
    Ok(out)
}

/// Reads one migration file below the migrations dir `root`.
pub fn read_migration(root: &Path, path: &Path) -> Result<Migration, MigrationFileError> {
    let bytes = std::fs::read(path).map_err(|source| MigrationFileError::Io {
        path: path.to_owned(),
        source,
    })?;
    let relative = path
        .strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    let mut m = parse_migration(path, bytes)?;
    m.relative = relative;
    let dir_kind = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    if dir_kind.as_deref() != Some(m.file.kind.as_str()) {
        return Err(invalid(
            path,
            None,
            format!(
                "`kind: {}` does not match the folder the file is in",
                m.file.kind
            ),
            format!(
                "move the file to migrations/{}/ or correct `kind`",
                m.file.kind
            ),
        ));
    }
    Ok(m)
}

/// Parses a migration file's bytes; `path` names it in errors and gives its
/// id (the file stem) and format (`.json`, otherwise YAML).
pub fn parse_migration(path: &Path, bytes: Vec<u8>) -> Result<Migration, MigrationFileError> {
    let id = check_file_name(path)?;
    let hash = file_hash(&bytes);
    let format = match Format::from_path(path) {
        Some(Format::Json) => Format::Json,
        _ => Format::Yaml,
    };
    let source = document::decode(path, bytes, format).map_err(syntax_from_parse)?;
    document::parse(&source, ParseLimits::default()).map_err(syntax_from_parse)?;
    let file = typed(&source)?;
    check_file(&source, &file)?;
    let (down, lossy) = inverse::invert(&file.ops);
    Ok(Migration {
        id,
        path: path.to_owned(),
        relative: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        file_hash: hash,
        file,
        down,
        lossy,
    })
}

fn check_file_name(path: &Path) -> Result<String, MigrationFileError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ok = stem.len() > 5
        && stem.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && stem.as_bytes()[4] == b'_'
        && stem[5..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        return Ok(stem);
    }
    Err(invalid(
        path,
        None,
        format!("`{stem}` is not a migration file name"),
        "name migration files <NNNN>_<name>.yaml: four digits, `_`, then lower-case letters, digits and `_` (0002_rename_hosts.yaml)".into(),
    ))
}

fn syntax_from_parse(e: document::ParseError) -> MigrationFileError {
    let at = e.position();
    let (path, message) = match &e {
        document::ParseError::Syntax { path, message, .. } => (path.clone(), message.clone()),
        document::ParseError::InvalidUtf8 { path, .. }
        | document::ParseError::TooLarge { path, .. }
        | document::ParseError::Empty { path } => (path.clone(), e.to_string()),
    };
    MigrationFileError::Syntax {
        path,
        at,
        message,
        help: "correct the YAML/JSON syntax at that place".into(),
    }
}

fn typed(source: &SourceText) -> Result<MigrationFile, MigrationFileError> {
    let (line, column, message) = match source.format {
        Format::Json => match serde_json::from_str(&source.text) {
            Ok(f) => return Ok(f),
            Err(e) => (e.line(), e.column(), e.to_string()),
        },
        _ => match serde_saphyr::from_str::<MigrationFile>(&source.text) {
            Ok(f) => return Ok(f),
            Err(e) => {
                let (l, c) = e
                    .location()
                    .map_or((1, 1), |l| (l.line() as usize, l.column() as usize));
                (
                    l,
                    c,
                    e.to_string().lines().next().unwrap_or_default().to_owned(),
                )
            }
        },
    };
    Err(MigrationFileError::Syntax {
        path: source.path.clone(),
        at: Some(source.position_of(source.offset_of(line, column))),
        message,
        help: "see migrations/migration.schema.json for the keys and ops a migration file has"
            .into(),
    })
}

fn check_file(source: &SourceText, file: &MigrationFile) -> Result<(), MigrationFileError> {
    if file.to != file.from + 1 || file.from == 0 {
        return Err(invalid(
            &source.path,
            crate::locate::locate(source, "/to"),
            format!("a step goes from one version to the next, not {} → {}", file.from, file.to),
            "write one file per version step (`from: N`, `to: N+1`); downgrades are derived from the inverses".into(),
        ));
    }
    check_ops(source, "/ops", &file.ops)
}

fn check_ops(source: &SourceText, at: &str, ops: &[Op]) -> Result<(), MigrationFileError> {
    for (i, op) in ops.iter().enumerate() {
        let here = format!("{at}/{i}/{}", op.name());
        if let Some((field, message, help)) = op_problem(op) {
            let pos = crate::locate::locate(source, &format!("{here}/{field}"))
                .or_else(|| crate::locate::locate(source, &here));
            return Err(invalid(&source.path, pos, message, help.into()));
        }
        if let Op::Each(e) = op {
            check_ops(source, &format!("{here}/ops"), &e.ops)?;
        }
    }
    Ok(())
}

fn op_problem(op: &Op) -> Option<(&'static str, String, &'static str)> {
    let bad_pointer = |field: &'static str, p: &str| {
        (!p.is_empty() && !p.starts_with('/')).then(|| {
            (
                field,
                format!("`{p}` is not a JSON pointer"),
                "write pointers as `/field/sub` (relative to the value the op runs on; \"\" is that value)",
            )
        })
    };
    let empty = |field: &'static str, p: &str| {
        p.is_empty().then(|| {
            (
                field,
                format!("`{}` needs a field, not \"\"", op_name(op)),
                "name the field: `/field`",
            )
        })
    };
    match op {
        Op::Add(o) | Op::SetDefault(o) => bad_pointer("path", &o.path)
            .or_else(|| empty("path", &o.path))
            .or_else(|| o.copy_from.as_deref().and_then(|c| bad_pointer("copy_from", c))),
        Op::Remove(o) => bad_pointer("path", &o.path).or_else(|| empty("path", &o.path)),
        Op::Rename(o) => bad_pointer("path", &o.path)
            .or_else(|| empty("path", &o.path))
            .or_else(|| (o.to.is_empty() || o.to.contains('/')).then(|| ("to", format!("`{}` is not a key name", o.to), "`to` is the new key alone (`hostname`), not a pointer; use `move` to change level"))),
        Op::Copy(o) | Op::Move(o) => bad_pointer("from", &o.from)
            .or_else(|| bad_pointer("to", &o.to))
            .or_else(|| empty("from", &o.from))
            .or_else(|| empty("to", &o.to)),
        Op::Wrap(o) | Op::Head(o) => bad_pointer("path", &o.path),
        Op::Convert(o) => bad_pointer("path", &o.path).or_else(|| convert_problem(o)),
        Op::Hook(o) => bad_pointer("path", &o.path),
        Op::Each(o) => bad_pointer("path", &o.path),
    }
}

fn op_name(op: &Op) -> &'static str {
    op.name()
}

fn convert_problem(o: &super::file::ConvertOp) -> Option<(&'static str, String, &'static str)> {
    let has_map = !o.map.is_empty();
    match (has_map, o.cast.is_some()) {
        (true, true) => Some((
            "cast",
            "`convert` has both `map` and `cast`".into(),
            "use one `convert` op per conversion",
        )),
        (false, false) => Some((
            "map",
            "`convert` needs `map` or `cast`".into(),
            "add `map: [{from: old, to: new}]` or `cast: {from: string, to: integer}`",
        )),
        _ => None,
    }
}

fn invalid(
    path: &Path,
    at: Option<document::Position>,
    message: String,
    help: String,
) -> MigrationFileError {
    MigrationFileError::Invalid {
        path: path.to_owned(),
        at,
        message,
        help,
    }
}

fn check_unique_steps(migrations: &[Migration]) -> Result<(), MigrationFileError> {
    for (i, m) in migrations.iter().enumerate() {
        if let Some(other) = migrations[..i]
            .iter()
            .find(|o| o.file.kind == m.file.kind && o.file.from == m.file.from)
        {
            return Err(invalid(
                &m.path,
                None,
                format!(
                    "a second step {} → {} for kind `{}` (also in {})",
                    m.file.from, m.file.to, m.file.kind, other.relative
                ),
                "keep one file per version step; merge the two".into(),
            ));
        }
    }
    Ok(())
}

/// Parses migration text (YAML or JSON) for tests and tools; `name` is the
/// file name it would have.
pub fn parse_str(name: &str, text: &str) -> Result<Migration, MigrationFileError> {
    parse_migration(Path::new(name), text.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const MAMFAST: &str = "kind: mamfast-processed\nfrom: 1\nto: 2\ndescription: d\nops:\n  - each:\n      path: /processed\n      ops:\n        - add: {path: /checkpoints, default: {}}\n  - remove: {path: /x, default: null}\n";

    #[test]
    fn parses_yaml_with_nested_each() {
        let m = parse_str("0001_a.yaml", MAMFAST).unwrap();
        assert_eq!(m.id, "0001_a");
        assert!(m.reversible(), "{:?}", m.lossy);
        assert!(m.file_hash.starts_with("sha256:"));
        match &m.file.ops[1] {
            Op::Remove(r) => assert_eq!(r.default, Some(Value::Null)),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn unknown_op_names_line_and_fix() {
        let text = MAMFAST.replace("- add:", "- ad:");
        let e = parse_str("0001_a.yaml", &text).unwrap_err().to_string();
        assert!(e.starts_with("0001_a.yaml:9:"), "{e}");
        assert!(e.contains("migration.schema.json"), "{e}");
    }

    #[test]
    fn bad_pointer_is_located() {
        let text = MAMFAST.replace("path: /checkpoints", "path: checkpoints");
        let e = parse_str("0001_a.yaml", &text).unwrap_err().to_string();
        assert!(e.contains("`checkpoints` is not a JSON pointer"), "{e}");
        assert!(e.starts_with("0001_a.yaml:9:"), "{e}");
    }

    #[test]
    fn versions_and_names_are_checked() {
        let e = parse_str("0001_a.yaml", &MAMFAST.replace("to: 2", "to: 3")).unwrap_err();
        assert!(e.to_string().contains("1 → 3"), "{e}");
        let e = parse_str("1_A.yaml", MAMFAST).unwrap_err();
        assert!(e.to_string().contains("<NNNN>_<name>.yaml"), "{e}");
    }

    #[test]
    fn json_is_accepted() {
        let text = r#"{"kind": "k", "from": 1, "to": 2, "description": "d", "ops": [{"wrap": {"path": "/a"}}]}"#;
        let m = parse_str("0001_a.json", text).unwrap();
        assert_eq!(m.file.ops[0].name(), "wrap");
    }
}
