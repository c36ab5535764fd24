//! A crash-simulating file system for the store's [`Fs`] interface.
//!
//! It keeps, per file, the bytes written and the bytes fsynced, and per
//! folder, the entries as seen and as last fsynced plus the operations
//! since. A crash can be set to strike before the N-th mutating operation;
//! from then on every operation fails. [`SimFs::after_crash`] builds the
//! disk a reboot would find, with unsynced data kept, dropped or torn and
//! unsynced folder operations kept, dropped or half kept.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use statewright::store::fs::{Fs, FsFile, FsLock, Meta};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    Keep,
    Drop,
    Torn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dirs {
    Keep,
    Drop,
    Half,
}

pub const MODES: [(Data, Dirs); 9] = [
    (Data::Keep, Dirs::Keep),
    (Data::Keep, Dirs::Drop),
    (Data::Keep, Dirs::Half),
    (Data::Drop, Dirs::Keep),
    (Data::Drop, Dirs::Drop),
    (Data::Drop, Dirs::Half),
    (Data::Torn, Dirs::Keep),
    (Data::Torn, Dirs::Drop),
    (Data::Torn, Dirs::Half),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    File(usize),
    Dir,
}

#[derive(Clone, Debug)]
enum Op {
    Set(String, Entry),
    Remove(String),
    Rename(String, String),
}

#[derive(Clone, Debug, Default)]
struct Dir {
    cur: BTreeMap<String, Entry>,
    durable: BTreeMap<String, Entry>,
    pending: Vec<Op>,
}

#[derive(Clone, Debug, Default)]
struct Inode {
    data: Vec<u8>,
    synced: usize,
    mode: u32,
}

#[derive(Clone, Debug, Default)]
pub struct State {
    dirs: BTreeMap<PathBuf, Dir>,
    inodes: Vec<Inode>,
    ops: usize,
    crash_at: Option<usize>,
    crashed: bool,
    /// Fail the n-th fsync (file or folder) with EIO, once.
    fail_sync_at: Option<usize>,
    syncs: usize,
    locks: HashMap<PathBuf, (bool, Vec<u8>)>,
}

#[derive(Clone, Debug)]
pub struct SimFs(Arc<Mutex<State>>);

fn eio() -> io::Error {
    io::Error::from_raw_os_error(libc::EIO)
}

fn split(p: &Path) -> (PathBuf, String) {
    (
        p.parent().unwrap().to_owned(),
        p.file_name().unwrap().to_string_lossy().into_owned(),
    )
}

impl State {
    fn step(&mut self) -> io::Result<()> {
        if self.crashed {
            return Err(eio());
        }
        if self.crash_at == Some(self.ops) {
            self.crashed = true;
            return Err(eio());
        }
        self.ops += 1;
        Ok(())
    }

    fn dir(&mut self, p: &Path) -> io::Result<&mut Dir> {
        self.dirs
            .get_mut(p)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    fn lookup(&self, p: &Path) -> Option<Entry> {
        let (d, n) = split(p);
        self.dirs.get(&d)?.cur.get(&n).copied()
    }

    fn apply(d: &mut BTreeMap<String, Entry>, op: &Op) {
        match op {
            Op::Set(n, e) => {
                d.insert(n.clone(), *e);
            }
            Op::Remove(n) => {
                d.remove(n);
            }
            Op::Rename(a, b) => {
                if let Some(e) = d.remove(a) {
                    d.insert(b.clone(), e);
                }
            }
        }
    }

    fn op(&mut self, dir: &Path, op: Op) -> io::Result<()> {
        let d = self.dir(dir)?;
        Self::apply(&mut d.cur, &op);
        d.pending.push(op);
        Ok(())
    }

    fn sync_point(&mut self) -> io::Result<()> {
        self.syncs += 1;
        if self.fail_sync_at == Some(self.syncs) {
            self.fail_sync_at = None;
            return Err(eio());
        }
        Ok(())
    }
}

impl SimFs {
    /// An empty disk with the folder `root`.
    pub fn new(root: &Path) -> SimFs {
        let mut s = State::default();
        s.dirs.insert(root.to_owned(), Dir::default());
        SimFs(Arc::new(Mutex::new(s)))
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn crash_at(&self, n: usize) {
        let mut s = self.st();
        s.crash_at = Some(n);
    }

    pub fn fail_sync_at(&self, n: usize) {
        self.st().fail_sync_at = Some(n);
    }

    pub fn syncs(&self) -> usize {
        self.st().syncs
    }

    pub fn ops(&self) -> usize {
        self.st().ops
    }

    pub fn crashed(&self) -> bool {
        self.st().crashed
    }

    /// The disk as everything is durable now (a clean shutdown).
    pub fn settled(&self) -> SimFs {
        self.after_crash(Data::Keep, Dirs::Keep)
    }

    /// The disk a reboot finds after a crash now.
    pub fn after_crash(&self, data: Data, dirs: Dirs) -> SimFs {
        let s = self.st();
        let mut n = State::default();
        for (p, d) in &s.dirs {
            let mut durable = d.durable.clone();
            let keep = match dirs {
                Dirs::Keep => d.pending.len(),
                Dirs::Drop => 0,
                Dirs::Half => d.pending.len() / 2,
            };
            for op in &d.pending[..keep] {
                State::apply(&mut durable, op);
            }
            n.dirs.insert(
                p.clone(),
                Dir {
                    cur: durable.clone(),
                    durable,
                    pending: Vec::new(),
                },
            );
        }
        n.inodes = s
            .inodes
            .iter()
            .map(|i| {
                let len = match data {
                    Data::Keep => i.data.len(),
                    Data::Drop => i.synced,
                    Data::Torn => i.synced + (i.data.len() - i.synced) / 2,
                };
                Inode {
                    data: i.data[..len].to_vec(),
                    synced: len,
                    mode: i.mode,
                }
            })
            .collect();
        // Folders whose entry was lost are gone with their content.
        let paths: Vec<PathBuf> = n.dirs.keys().cloned().collect();
        let root = paths.iter().min_by_key(|p| p.components().count()).cloned();
        for p in paths {
            if Some(&p) == root.as_ref() {
                continue;
            }
            if n.lookup(&p) != Some(Entry::Dir) {
                n.dirs.remove(&p);
            }
        }
        SimFs(Arc::new(Mutex::new(n)))
    }

    /// Writes a file directly, durable (test setup and corruption).
    pub fn put(&self, p: &Path, bytes: &[u8]) {
        let mut s = self.st();
        let id = s.inodes.len();
        s.inodes.push(Inode {
            data: bytes.to_vec(),
            synced: bytes.len(),
            mode: 0o644,
        });
        let (d, n) = split(p);
        let dir = s.dir(&d).unwrap();
        dir.cur.insert(n.clone(), Entry::File(id));
        dir.durable.insert(n, Entry::File(id));
    }

    /// Reads a file directly (ignores crashes).
    pub fn get(&self, p: &Path) -> Option<Vec<u8>> {
        let s = self.st();
        match s.lookup(p)? {
            Entry::File(id) => Some(s.inodes[id].data.clone()),
            Entry::Dir => None,
        }
    }

    pub fn names(&self, dir: &Path) -> Vec<String> {
        let s = self.st();
        s.dirs
            .get(dir)
            .map(|d| d.cur.keys().cloned().collect())
            .unwrap_or_default()
    }
}

struct SimFile {
    fs: SimFs,
    id: usize,
}

impl FsFile for SimFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let mut s = self.fs.st();
        s.step()?;
        s.inodes[self.id].data.extend_from_slice(buf);
        Ok(())
    }
    fn sync(&mut self) -> io::Result<()> {
        let mut s = self.fs.st();
        s.step()?;
        s.sync_point()?;
        let len = s.inodes[self.id].data.len();
        s.inodes[self.id].synced = len;
        Ok(())
    }
}

struct SimLock {
    fs: SimFs,
    path: PathBuf,
}

impl FsLock for SimLock {
    fn try_lock(&self) -> io::Result<bool> {
        let mut s = self.fs.st();
        let e = s.locks.entry(self.path.clone()).or_default();
        if e.0 {
            return Ok(false);
        }
        e.0 = true;
        Ok(true)
    }
    fn unlock(&self) -> io::Result<()> {
        self.fs.st().locks.entry(self.path.clone()).or_default().0 = false;
        Ok(())
    }
    fn set_content(&self, bytes: &[u8]) -> io::Result<()> {
        self.fs.st().locks.entry(self.path.clone()).or_default().1 = bytes.to_vec();
        Ok(())
    }
    fn content(&self) -> io::Result<Vec<u8>> {
        Ok(self
            .fs
            .st()
            .locks
            .entry(self.path.clone())
            .or_default()
            .1
            .clone())
    }
}

impl Fs for SimFs {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FsFile>> {
        let mut s = self.st();
        s.step()?;
        if s.lookup(path).is_some() {
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        let id = s.inodes.len();
        s.inodes.push(Inode {
            data: Vec::new(),
            synced: 0,
            mode,
        });
        let (d, n) = split(path);
        s.op(&d, Op::Set(n, Entry::File(id)))?;
        Ok(Box::new(SimFile {
            fs: self.clone(),
            id,
        }))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let mut s = self.st();
        s.step()?;
        let id = match s.lookup(path) {
            Some(Entry::File(id)) => id,
            Some(Entry::Dir) => return Err(io::Error::from_raw_os_error(libc::EISDIR)),
            None => {
                let id = s.inodes.len();
                s.inodes.push(Inode {
                    mode: 0o644,
                    ..Inode::default()
                });
                let (d, n) = split(path);
                s.op(&d, Op::Set(n, Entry::File(id)))?;
                id
            }
        };
        Ok(Box::new(SimFile {
            fs: self.clone(),
            id,
        }))
    }

    fn open_lock(&self, path: &Path) -> io::Result<Box<dyn FsLock>> {
        if self.st().crashed {
            return Err(eio());
        }
        Ok(Box::new(SimLock {
            fs: self.clone(),
            path: path.to_owned(),
        }))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let s = self.st();
        if s.crashed {
            return Err(eio());
        }
        match s.lookup(path) {
            Some(Entry::File(id)) => Ok(s.inodes[id].data.clone()),
            Some(Entry::Dir) => Err(io::Error::from_raw_os_error(libc::EISDIR)),
            None => Err(io::Error::from_raw_os_error(libc::ENOENT)),
        }
    }

    fn meta(&self, path: &Path) -> io::Result<Option<Meta>> {
        let s = self.st();
        if s.crashed {
            return Err(eio());
        }
        if s.dirs.contains_key(path) && s.lookup(path).is_none() {
            // The root folder.
            return Ok(Some(Meta {
                is_file: false,
                is_dir: true,
                is_symlink: false,
                mode: 0o755,
                len: 0,
                special: None,
            }));
        }
        Ok(s.lookup(path).map(|e| match e {
            Entry::File(id) => Meta {
                is_file: true,
                is_dir: false,
                is_symlink: false,
                mode: s.inodes[id].mode,
                len: s.inodes[id].data.len() as u64,
                special: None,
            },
            Entry::Dir => Meta {
                is_file: false,
                is_dir: true,
                is_symlink: false,
                mode: 0o755,
                len: 0,
                special: None,
            },
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.step()?;
        let (fd, fname) = split(from);
        let (td, tname) = split(to);
        let e = s
            .lookup(from)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        if fd == td {
            s.op(&fd, Op::Rename(fname, tname))
        } else {
            s.op(&td, Op::Set(tname, e))?;
            s.op(&fd, Op::Remove(fname))
        }
    }

    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.step()?;
        if s.lookup(to).is_some() {
            return Err(io::Error::from_raw_os_error(libc::EEXIST));
        }
        let e = s
            .lookup(from)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
        let (td, tname) = split(to);
        s.op(&td, Op::Set(tname, e))
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.step()?;
        if s.lookup(path).is_none() {
            return Err(io::Error::from_raw_os_error(libc::ENOENT));
        }
        let (d, n) = split(path);
        s.op(&d, Op::Remove(n))
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.step()?;
        s.sync_point()?;
        let d = s.dir(dir)?;
        d.durable = d.cur.clone();
        d.pending.clear();
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.st();
        if s.crashed {
            return Err(eio());
        }
        Ok(s.dirs
            .get(dir)
            .map(|d| d.cur.keys().cloned().collect())
            .unwrap_or_default())
    }

    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.st();
        s.step()?;
        if s.dirs.contains_key(dir) {
            return Ok(());
        }
        let (p, n) = split(dir);
        s.op(&p, Op::Set(n, Entry::Dir))?;
        s.dirs.insert(dir.to_owned(), Dir::default());
        Ok(())
    }
}
