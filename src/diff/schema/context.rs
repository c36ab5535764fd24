//! The walk: builds nodes (following `$ref`, merging `allOf`), guards
//! against cycles, runs every rule on each pair of nodes and collects the
//! changes with their verdicts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use statewright_spec::OfflineRegistry;

use super::node::{Doc, Loc, Node, find_anchor, has_ref, is_assertion, join_uri};
use super::rules;
use super::types::TypeSet;
use super::{Change, Severity};
use crate::diff::DiffError;

/// How deep `allOf` members are merged before being kept as members.
const MERGE_DEPTH: usize = 8;
/// Longest `$ref` chain followed.
const MAX_HOPS: usize = 32;

/// A `(backward, forward)` verdict.
pub(crate) type Verdict = (bool, bool);

/// The state of one schema comparison.
pub(crate) struct Cx {
    registry: Option<OfflineRegistry>,
    roots: [Arc<Doc>; 2],
    docs: HashMap<(&'static str, String), Arc<Doc>>,
    pub changes: Vec<Change>,
    flipped: bool,
    probing: u32,
    in_progress: HashSet<(String, String, u8)>,
    memo: HashMap<(String, String, u8), Verdict>,
    frames: Vec<Verdict>,
    next_tag: u64,
    /// Whether `format` is an assertion in A and in B.
    pub formats: [bool; 2],
}

impl Cx {
    /// A comparison of two root documents.
    pub fn new(a: Arc<Doc>, b: Arc<Doc>, registry: Option<OfflineRegistry>) -> Cx {
        Cx {
            registry,
            roots: [a, b],
            docs: HashMap::new(),
            changes: Vec::new(),
            flipped: false,
            probing: 0,
            in_progress: HashSet::new(),
            memo: HashMap::new(),
            frames: Vec::new(),
            next_tag: 1,
            formats: [false, false],
        }
    }

    /// A fresh tag for a node synthesised by a rule.
    pub fn tag(&mut self) -> u64 {
        self.next_tag += 1;
        self.next_tag
    }

    /// Compares two subschemas, recording changes; the verdict counts
    /// towards the enclosing comparison.
    pub fn compare(&mut self, a: (Value, Loc), b: (Value, Loc)) -> Result<Verdict, DiffError> {
        let a = self.node(&a.0, a.1)?;
        let b = self.node(&b.0, b.1)?;
        self.compare_nodes(&a, &b)
    }

    /// [`Cx::compare`] on built nodes.
    pub fn compare_nodes(&mut self, a: &Node, b: &Node) -> Result<Verdict, DiffError> {
        let v = self.walk(a, b)?;
        if let Some(top) = self.frames.last_mut() {
            top.0 &= v.0;
            top.1 &= v.1;
        }
        Ok(v)
    }

    /// Compares `b` against `a`, for `not`: `A ⊆ B` exactly when
    /// `B.not ⊆ A.not`, so the verdict of the swapped comparison is the
    /// verdict for A and B; only the pointers swap back on the way out.
    pub fn compare_flipped(
        &mut self,
        b: (Value, Loc),
        a: (Value, Loc),
    ) -> Result<Verdict, DiffError> {
        self.flipped = !self.flipped;
        let r = (|| {
            let b = self.node(&b.0, b.1)?;
            let a = self.node(&a.0, a.1)?;
            self.walk(&b, &a)
        })();
        self.flipped = !self.flipped;
        let v = r?;
        if let Some(top) = self.frames.last_mut() {
            top.0 &= v.0;
            top.1 &= v.1;
        }
        Ok(v)
    }

    /// The verdict of comparing two nodes, without recording anything.
    pub fn probe(&mut self, a: &Node, b: &Node) -> Result<Verdict, DiffError> {
        let saved = self.changes.len();
        let flipped = std::mem::replace(&mut self.flipped, false);
        self.probing += 1;
        let r = self.walk(a, b);
        self.probing -= 1;
        self.flipped = flipped;
        self.changes.truncate(saved);
        r
    }

    fn walk(&mut self, a: &Node, b: &Node) -> Result<Verdict, DiffError> {
        let mode = if self.probing > 0 {
            2
        } else {
            u8::from(self.flipped)
        };
        let key = (a.key(), b.key(), mode);
        if self.in_progress.contains(&key) {
            // A recursive schema meets itself: assume the rest holds
            // (the comparison is coinductive).
            return Ok((true, true));
        }
        if let Some(v) = self.memo.get(&key) {
            return Ok(*v);
        }
        if same(a, b) {
            return Ok((true, true));
        }
        self.in_progress.insert(key.clone());
        self.frames.push((true, true));
        let start = self.changes.len();
        let r = rules::run(self, a, b);
        let mut v = self.frames.pop().unwrap_or((true, true));
        self.in_progress.remove(&key);
        r?;
        if a.is_flat() && b.is_flat() {
            v = self.finite_verdict(a, b, start, v);
        }
        self.memo.insert(key, v);
        Ok(v)
    }

    /// Whether `format` asserts on the node's side.
    fn formats_of(&self, n: &Node) -> bool {
        self.formats[usize::from(n.loc.doc.side == "B")]
    }

    /// Two flat nodes, one admitting finitely many values: a direction
    /// holds exactly when the validator accepts each of those values on
    /// the other side, whatever the keyword-by-keyword rules suspected
    /// (`enum [0, 1]` with `minimum: 1` is `{1}`). The changes the pair
    /// emitted (from `start` on) take the exact verdict.
    fn finite_verdict(&mut self, a: &Node, b: &Node, start: usize, mut v: Verdict) -> Verdict {
        let within = |x: &Node, fx: bool, y: &Node, fy: bool| {
            x.finite(fx)
                .is_some_and(|vals| vals.iter().all(|val| y.accepts(val, fy) == Some(true)))
        };
        let (fa, fb) = (self.formats_of(a), self.formats_of(b));
        if !v.0 && within(a, fa, b, fb) {
            v.0 = true;
            self.changes[start..]
                .iter_mut()
                .for_each(|c| c.backward_compatible = true);
        }
        if !v.1 && within(b, fb, a, fa) {
            v.1 = true;
            self.changes[start..]
                .iter_mut()
                .for_each(|c| c.forward_compatible = true);
        }
        v
    }

    /// Records a change. `backward`/`forward` are in the orientation of the
    /// nodes being compared; inside `not` the pointers swap back to A and B.
    pub fn emit(
        &mut self,
        rule: &'static str,
        pointer_a: Option<String>,
        pointer_b: Option<String>,
        verdict: Verdict,
        message: String,
    ) {
        let (backward, forward) = verdict;
        if let Some(top) = self.frames.last_mut() {
            top.0 &= backward;
            top.1 &= forward;
        }
        let info = rules::info(rule);
        debug_assert!(info.is_some(), "rule {rule} is not registered");
        let compatible = backward && forward;
        let severity = match info {
            Some(i) if compatible => i.compatible,
            Some(i) => i.incompatible,
            None => Severity::Breaking,
        };
        let change = if self.flipped {
            Change {
                rule,
                severity,
                pointer_a: pointer_b,
                pointer_b: pointer_a,
                message: format!("{message} (inside `not`: B's schema → A's)"),
                property: None,
                backward_compatible: backward,
                forward_compatible: forward,
                witness: None,
                possibly_breaking: false,
            }
        } else {
            Change {
                rule,
                severity,
                pointer_a,
                pointer_b,
                message,
                property: None,
                backward_compatible: backward,
                forward_compatible: forward,
                witness: None,
                possibly_breaking: false,
            }
        };
        self.changes.push(change);
    }

    /// Names the property the change just recorded is about.
    pub fn about(&mut self, property: &str) {
        if let Some(c) = self.changes.last_mut() {
            c.property = Some(property.to_owned());
        }
    }

    /// Records a change to a keyword that only constrains instances of
    /// `ty`: a side that admits no such instance is not affected.
    #[allow(clippy::too_many_arguments)]
    pub fn emit_for(
        &mut self,
        ty: TypeSet,
        a: &Node,
        b: &Node,
        rule: &'static str,
        pointers: (Option<String>, Option<String>),
        verdict: Verdict,
        message: String,
    ) {
        let backward = verdict.0 || !a.types().meets(ty);
        let forward = verdict.1 || !b.types().meets(ty);
        self.emit(rule, pointers.0, pointers.1, (backward, forward), message);
    }

    /// `base` with one more `allOf` member merged in (a branch of `anyOf`
    /// or `oneOf` seen together with the keywords beside it).
    pub fn merged(&mut self, base: &Node, member: (Value, Loc)) -> Result<Node, DiffError> {
        let mut n = base.clone();
        n.tag = self.tag();
        self.absorb(&mut n, member.0, member.1, 0)?;
        Ok(n)
    }

    /// Builds a node: follows `$ref` chains and merges `allOf` members.
    pub fn node(&mut self, value: &Value, loc: Loc) -> Result<Node, DiffError> {
        self.node_at(value, loc, 0)
    }

    fn node_at(&mut self, value: &Value, loc: Loc, depth: usize) -> Result<Node, DiffError> {
        let (value, loc) = self.deref(value, loc)?;
        let map = match value {
            Value::Bool(b) => return Ok(Node::boolean(b, loc)),
            Value::Object(m) => m,
            // Not a schema: validators treat it as accepting everything.
            _ => return Ok(Node::boolean(true, loc)),
        };
        let mut node = Node::object(loc.clone());
        let mut members = Vec::new();
        for (k, v) in &map {
            match k.as_str() {
                "$ref" => members.push(self.resolve(v, &loc)?),
                "allOf" => {
                    if let Value::Array(items) = v {
                        let at = loc.join("allOf");
                        members.extend(
                            items
                                .iter()
                                .enumerate()
                                .map(|(i, it)| (it.clone(), at.index(i))),
                        );
                    }
                }
                _ => {
                    node.map.insert(k.clone(), v.clone());
                }
            }
        }
        for (v, l) in members {
            self.absorb(&mut node, v, l, depth)?;
        }
        Ok(node)
    }

    /// Merges one `allOf` member into `node` when no keyword conflicts.
    fn absorb(&mut self, node: &mut Node, v: Value, l: Loc, depth: usize) -> Result<(), DiffError> {
        if depth >= MERGE_DEPTH {
            node.all_of.push((v, l));
            return Ok(());
        }
        let member = self.node_at(&v, l.clone(), depth + 1)?;
        if member.boolean == Some(true) {
            return Ok(());
        }
        let same_doc = Arc::ptr_eq(&member.loc.doc, &node.loc.doc);
        let mut member = member;
        combine(node, &mut member);
        self.combine_properties(node, &mut member);
        let conflict = member.boolean.is_some()
            || member
                .map
                .iter()
                .any(|(k, v)| is_assertion(k) && node.map.get(k).is_some_and(|w| w != v));
        if conflict || (!same_doc && member.map.values().any(has_ref)) {
            node.all_of.push((v, l));
            return Ok(());
        }
        for (k, v) in &member.map {
            if !node.map.contains_key(k) {
                node.map.insert(k.clone(), v.clone());
                node.origins.insert(k.clone(), member.loc_of(k));
            }
            for ((key, token), loc) in &member.nested {
                if key == k {
                    node.nested
                        .insert((key.clone(), token.clone()), loc.clone());
                }
            }
        }
        node.all_of.extend(member.all_of);
        Ok(())
    }

    /// Merges two `properties` maps when every shared name has the same
    /// schema (also when one side reaches it through a `$ref`).
    fn combine_properties(&mut self, node: &mut Node, member: &mut Node) {
        let (Some(Value::Object(x)), Some(Value::Object(y))) =
            (node.map.get("properties"), member.map.get("properties"))
        else {
            return;
        };
        if x == y || !Arc::ptr_eq(&node.loc.doc, &member.loc.doc) {
            return;
        }
        let (x, y) = (x.clone(), y.clone());
        let mut union = x.clone();
        let mut from_member = Vec::new();
        for (k, v) in &y {
            match x.get(k) {
                None => {
                    union.insert(k.clone(), v.clone());
                    from_member.push(k.clone());
                }
                Some(w) if w == v => {}
                Some(w) => {
                    let lv = member.loc_of("properties").join(k);
                    let lw = node.loc_of("properties").join(k);
                    match (self.deref(v, lv), self.deref(w, lw)) {
                        (Ok(p), Ok(q)) if p.0 == q.0 => {}
                        _ => return,
                    }
                }
            }
        }
        for k in from_member {
            let loc = member.sub2("properties", &k).map(|s| s.1);
            if let Some(loc) = loc {
                node.nested.insert(("properties".into(), k), loc);
            }
        }
        let v = Value::Object(union);
        node.map.insert("properties".into(), v.clone());
        member.map.insert("properties".into(), v);
    }

    /// Follows `$ref`s that have nothing but annotations beside them.
    fn deref(&mut self, value: &Value, loc: Loc) -> Result<(Value, Loc), DiffError> {
        let (mut value, mut loc) = (value.clone(), loc);
        let start = loc.clone();
        for _ in 0..MAX_HOPS {
            let Some(r) = value.get("$ref") else {
                return Ok((value, loc));
            };
            let pure = value
                .as_object()
                .is_some_and(|m| m.keys().all(|k| k == "$ref" || !is_assertion(k)));
            if !pure {
                return Ok((value, loc));
            }
            (value, loc) = self.resolve(&r.clone(), &loc)?;
        }
        Err(DiffError::RefCycle {
            side: start.doc.side,
            pointer: start.shown().unwrap_or_default(),
        })
    }

    /// The schema a `$ref` names.
    fn resolve(&mut self, reference: &Value, loc: &Loc) -> Result<(Value, Loc), DiffError> {
        let side = loc.doc.side;
        let err = |reason: String| DiffError::UnresolvableRef {
            side,
            pointer: loc.join("$ref").shown().unwrap_or_default(),
            reference: reference.to_string(),
            reason,
        };
        let r = reference
            .as_str()
            .ok_or_else(|| err("not a string".into()))?;
        let (base, fragment) = r.split_once('#').unwrap_or((r, ""));
        let doc = if base.is_empty() {
            loc.doc.clone()
        } else {
            let uri = join_uri(loc.doc.uri.as_deref(), base).ok_or_else(|| {
                err("a relative reference needs a base URI: give the schema an `$id`, or pass SchemaDiffOptions::with_bases".into())
            })?;
            self.load(side, &uri).map_err(err)?
        };
        let ptr = if fragment.is_empty() {
            String::new()
        } else if fragment.starts_with('/') {
            percent_decode(fragment)
        } else {
            find_anchor(&doc.root, fragment)
                .ok_or_else(|| err(format!("no subschema has the anchor `{fragment}`")))?
        };
        let v = doc
            .root
            .pointer(&ptr)
            .cloned()
            .ok_or_else(|| err(format!("nothing at `{ptr}`")))?;
        Ok((
            v,
            Loc {
                doc,
                ptr,
                absent: false,
            },
        ))
    }

    fn load(&mut self, side: &'static str, uri: &str) -> Result<Arc<Doc>, String> {
        let uri = uri.split('#').next().unwrap_or(uri).to_owned();
        let own = if side == "A" {
            &self.roots[0]
        } else {
            &self.roots[1]
        };
        if own.uri.as_deref() == Some(uri.as_str()) {
            return Ok(own.clone());
        }
        if let Some(d) = self.docs.get(&(side, uri.clone())) {
            return Ok(d.clone());
        }
        let registry = self
            .registry
            .as_ref()
            .ok_or("no offline registry was given (SchemaDiffOptions::with_registry)")?;
        let root = registry.load(&uri).map_err(|e| e.to_string())?;
        let doc = Arc::new(Doc {
            root,
            uri: Some(uri.clone()),
            external: true,
            side,
        });
        self.docs.insert((side, uri), doc.clone());
        Ok(doc)
    }
}

/// Keywords whose conjunction is again one keyword are combined before
/// merging, so they do not block it: `type` (intersection) and `required`
/// (union). The member's copy is replaced by the combined value.
fn combine(node: &mut Node, member: &mut Node) {
    if let (Some(x), Some(y)) = (node.map.get("type"), member.map.get("type"))
        && x != y
    {
        let both = TypeSet::from_type_keyword(x).intersect(TypeSet::from_type_keyword(y));
        let v = both.to_type_keyword();
        node.map.insert("type".into(), v.clone());
        member.map.insert("type".into(), v);
    }
    if let (Some(Value::Array(x)), Some(Value::Array(y))) =
        (node.map.get("required"), member.map.get("required"))
        && x != y
    {
        let mut all = x.clone();
        all.extend(y.iter().filter(|v| !x.contains(v)).cloned());
        let v = Value::Array(all);
        node.map.insert("required".into(), v.clone());
        member.map.insert("required".into(), v);
    }
}

/// Identical nodes whose references (if any) resolve in the same place.
fn same(a: &Node, b: &Node) -> bool {
    if a.boolean != b.boolean || a.map != b.map || a.all_of.len() != b.all_of.len() {
        return false;
    }
    if !a.all_of.iter().zip(&b.all_of).all(|(x, y)| x.0 == y.0) {
        return false;
    }
    let refs = a.map.values().any(has_ref) || a.all_of.iter().any(|m| has_ref(&m.0));
    !refs || a.loc.doc.root == b.loc.doc.root
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(n) => {
                out.push(n);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
