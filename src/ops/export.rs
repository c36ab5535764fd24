//! `export`: one portable JSON bundle of a state dir, taken under the
//! lock: every file (documents, audit log, backups and their manifest)
//! with its content and a manifest of paths, sizes and sha256 digests.
//!
//! The bundle is one JSON object (no archive crate, readable with any JSON
//! tool):
//!
//! ```json
//! {
//!   "format": "statewright-export/1",
//!   "tool_version": "0.1.0",
//!   "exported_at": "2026-12-03T07:00:00Z",
//!   "state_dir": "/abs/path/state",
//!   "manifest": [{"path": "audit.log", "role": "audit", "bytes": 812, "sha256": "…"}],
//!   "files": [{"path": "audit.log", "encoding": "utf-8", "content": "…"}]
//! }
//! ```
//!
//! `manifest` and `files` list the same paths in the same (sorted) order.
//! `encoding` is `utf-8` (content is the text) or `hex` (content is the
//! bytes in lower-case hex, for files that are not UTF-8). The lock, the
//! journal and temp files are never exported.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::check::hex;
use crate::ops::{OpsError, Result};
use crate::store::{LockGuard, Store};

/// The bundle format's name and version.
pub const BUNDLE_FORMAT: &str = "statewright-export/1";

/// An exported state dir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The statewright version that wrote it.
    pub tool_version: String,
    /// When (RFC 3339).
    pub exported_at: String,
    /// The state dir exported (absolute).
    pub state_dir: String,
    /// Every file with its size and sha256.
    pub manifest: Vec<ManifestEntry>,
    /// Every file's content, in manifest order.
    pub files: Vec<BundleFile>,
}

/// One file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Path inside the state dir (`/`-separated).
    pub path: String,
    /// `document`, `audit` (the audit log and its rotations),
    /// `backup-manifest` (a backup index), `backup` or `other`.
    pub role: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Lower-case hex sha256 of the bytes.
    pub sha256: String,
}

/// One file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    /// Path inside the state dir.
    pub path: String,
    /// `utf-8` or `hex`.
    pub encoding: String,
    /// The content in that encoding.
    pub content: String,
}

impl BundleFile {
    /// The file's bytes.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        match self.encoding.as_str() {
            "utf-8" => Ok(self.content.clone().into_bytes()),
            "hex" => unhex(&self.content).ok_or_else(|| OpsError::BadBundle {
                message: format!("{}: content is not hex", self.path),
            }),
            other => Err(OpsError::BadBundle {
                message: format!("{}: unknown encoding `{other}`", self.path),
            }),
        }
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn role(path: &str) -> &'static str {
    if path == ".backup/manifest.json" || path.starts_with(".backup/index/") {
        "backup-manifest"
    } else if path.starts_with(".backup/") {
        "backup"
    } else if path.starts_with("audit.log") {
        "audit"
    } else {
        "other"
    }
}

/// Bundles every file of the store's state dir. The caller holds the lock,
/// so no write changes a file half way through.
pub fn export(
    store: &Store,
    catalog: &statewright_spec::Catalog,
    _guard: &LockGuard,
) -> Result<Bundle> {
    let dir = store.dir();
    let mut manifest = Vec::new();
    let mut files = Vec::new();
    for (path, bytes) in store.export_files()? {
        let is_doc = catalog.kind_for(Path::new(&path)).is_some();
        let role = match role(&path) {
            "other" if is_doc => "document",
            r => r,
        };
        manifest.push(ManifestEntry {
            path: path.clone(),
            role: role.to_owned(),
            bytes: bytes.len() as u64,
            sha256: hex(&Sha256::digest(&bytes)),
        });
        let (encoding, content) = match String::from_utf8(bytes) {
            Ok(text) => ("utf-8", text),
            Err(e) => ("hex", hex(e.as_bytes())),
        };
        files.push(BundleFile {
            path,
            encoding: encoding.to_owned(),
            content,
        });
    }
    Ok(Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        exported_at: jiff::Timestamp::now().to_string(),
        state_dir: std::path::absolute(dir)
            .unwrap_or_else(|_| dir.to_owned())
            .display()
            .to_string(),
        manifest,
        files,
    })
}

impl Bundle {
    /// Reads a bundle from its JSON bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Bundle> {
        serde_json::from_slice(bytes).map_err(|e| OpsError::BadBundle {
            message: format!(
                "not a bundle at line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        })
    }

    /// The bundle as pretty JSON, ending in a newline.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Checks that the manifest and the files list the same paths and that
    /// every file's size and sha256 match the manifest.
    pub fn verify(&self) -> Result<()> {
        let bad = |message: String| Err(OpsError::BadBundle { message });
        if self.format != BUNDLE_FORMAT {
            return bad(format!(
                "format `{}`, expected `{BUNDLE_FORMAT}`",
                self.format
            ));
        }
        if self.manifest.len() != self.files.len() {
            return bad(format!(
                "{} manifest entries but {} files",
                self.manifest.len(),
                self.files.len()
            ));
        }
        for (m, f) in self.manifest.iter().zip(&self.files) {
            if m.path != f.path {
                return bad(format!(
                    "manifest lists {} where files has {}",
                    m.path, f.path
                ));
            }
            let bytes = f.bytes()?;
            let sum = hex(&Sha256::digest(&bytes));
            if sum != m.sha256 || bytes.len() as u64 != m.bytes {
                return bad(format!(
                    "{}: content has sha256 {sum} ({} bytes), the manifest records {} ({} bytes)",
                    m.path,
                    bytes.len(),
                    m.sha256,
                    m.bytes
                ));
            }
        }
        Ok(())
    }
}

/// Writes `bundle` to `output` through the store's durable write (temp
/// file, fsync, rename or link, folder fsync). An existing `output` is
/// refused unless `force`; an output inside the state dir `state_dir` is
/// always refused.
pub fn write_bundle(bundle: &Bundle, output: &Path, force: bool, state_dir: &Path) -> Result<()> {
    write_bundle_with(&crate::store::RealFs, bundle, output, force, state_dir)
}

/// [`write_bundle`] on the file system `fs`.
pub fn write_bundle_with(
    fs: &dyn crate::store::Fs,
    bundle: &Bundle,
    output: &Path,
    force: bool,
    state_dir: &Path,
) -> Result<()> {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let parent: PathBuf = abs(output)
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned);
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| abs(p));
    if canon(&parent).starts_with(canon(state_dir)) {
        return Err(OpsError::OutputInState {
            path: output.to_owned(),
            dir: state_dir.to_owned(),
        });
    }
    let exists = || OpsError::OutputExists {
        path: output.to_owned(),
    };
    let bytes = bundle.to_vec();
    if force {
        crate::store::atomic::write_file(fs, output, &bytes, 0o644)?;
    } else if !crate::store::atomic::create_file(fs, output, &bytes, 0o644)? {
        return Err(exists());
    }
    Ok(())
}
