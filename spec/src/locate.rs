//! Finding where a JSON pointer points in a document's text, so that every
//! finding can say `file:line:col`. Only used on error paths: documents are
//! parsed once by [`crate::document`]; this re-scans the text.

use crate::document::{DEPTH_CEILING, Format, Position, SourceText, position_of};
use crate::pointer;

/// The position of the value at `pointer` in `source`, if it can be found.
pub fn locate(source: &SourceText, pointer: &str) -> Option<Position> {
    let offset = match source.format {
        Format::Json => json_offset(&source.text, &pointer::tokens(pointer))?,
        Format::Yaml => yaml_offset(&source.text, &pointer::tokens(pointer))?,
        Format::Toml => toml_offset(&source.text, &pointer::tokens(pointer))?,
    };
    Some(position_of(&source.text, offset))
}

/// The pointer of the innermost JSON value whose text contains `offset`.
pub fn json_pointer_at(text: &str, offset: usize) -> Option<String> {
    let mut s = Scanner::new(text);
    let mut best = None;
    s.skip_ws();
    s.value(&mut String::new(), &mut |p, start, end| {
        if best.is_none() && start <= offset && offset <= end {
            best = Some(p.to_owned());
        }
    });
    best
}

fn json_offset(text: &str, tokens: &[String]) -> Option<usize> {
    let mut s = Scanner::new(text);
    s.skip_ws();
    for t in tokens {
        match s.peek()? {
            b'{' => {
                s.i += 1;
                loop {
                    s.skip_ws();
                    if s.peek()? != b'"' {
                        return None;
                    }
                    let key = s.string()?;
                    s.skip_ws();
                    s.eat(b':')?;
                    s.skip_ws();
                    if &key == t {
                        break;
                    }
                    s.skip_value()?;
                    s.skip_ws();
                    s.eat(b',')?;
                }
            }
            b'[' => {
                s.i += 1;
                let n: usize = t.parse().ok()?;
                for _ in 0..n {
                    s.skip_ws();
                    s.skip_value()?;
                    s.skip_ws();
                    s.eat(b',')?;
                }
                s.skip_ws();
            }
            _ => return None,
        }
    }
    Some(s.i)
}

/// A scanner of JSON text (already known to parse): positions of values
/// and members, for [`crate::splice`] too.
pub(crate) struct Scanner<'a> {
    b: &'a [u8],
    /// The offset scanned to.
    pub(crate) i: usize,
    /// Containers open around the current value: the scanner gives up
    /// past [`DEPTH_CEILING`] instead of recursing without bound.
    depth: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner {
            b: text.as_bytes(),
            i: 0,
            depth: 0,
        }
    }
    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    pub(crate) fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }
    pub(crate) fn string(&mut self) -> Option<String> {
        let start = self.i;
        self.eat(b'"')?;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => {
                    let raw = std::str::from_utf8(&self.b[start..self.i]).ok()?;
                    return serde_json::from_str(raw).ok();
                }
                _ => {}
            }
        }
        None
    }
    /// Skips one value without decoding it: strings by their quotes,
    /// containers by their brackets (the text is known to parse; a text
    /// that does not gives `None` or a wrong end, never a panic).
    pub(crate) fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.i += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.i += 1;
                }
                b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' if depth > 0 => self.i += 1,
                _ if depth > 0 => {
                    let rest = &self.b[self.i..];
                    let n = rest
                        .iter()
                        .position(|c| {
                            matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                        })
                        .unwrap_or(rest.len());
                    self.i += n.max(1);
                }
                _ => {
                    let start = self.i;
                    while matches!(self.peek(), Some(c) if !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    {
                        self.i += 1;
                    }
                    return (self.i > start).then_some(());
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
    /// Skips a string at `"`.
    fn skip_string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
    }
    /// Scans one value, reporting `(pointer, start, end)` for it and every
    /// value inside it.
    fn value(
        &mut self,
        path: &mut String,
        report: &mut dyn FnMut(&str, usize, usize),
    ) -> Option<()> {
        let start = self.i;
        if self.depth >= DEPTH_CEILING {
            return None;
        }
        self.depth += 1;
        let r = self.container_or_scalar(path, report);
        self.depth -= 1;
        r?;
        report(path, start, self.i);
        Some(())
    }

    fn container_or_scalar(
        &mut self,
        path: &mut String,
        report: &mut dyn FnMut(&str, usize, usize),
    ) -> Option<()> {
        let start = self.i;
        match self.peek()? {
            b'{' => {
                self.i += 1;
                self.skip_ws();
                if self.peek()? == b'}' {
                    self.i += 1;
                } else {
                    loop {
                        self.skip_ws();
                        let key = self.string()?;
                        self.skip_ws();
                        self.eat(b':')?;
                        self.skip_ws();
                        let len = path.len();
                        path.push('/');
                        path.push_str(&pointer::escape_token(&key));
                        let r = self.value(path, report);
                        path.truncate(len);
                        r?;
                        self.skip_ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            b'[' => {
                self.i += 1;
                self.skip_ws();
                if self.peek()? == b']' {
                    self.i += 1;
                } else {
                    let mut n = 0usize;
                    loop {
                        self.skip_ws();
                        let len = path.len();
                        path.push('/');
                        path.push_str(&n.to_string());
                        let r = self.value(path, report);
                        path.truncate(len);
                        r?;
                        n += 1;
                        self.skip_ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
            }
            b'"' => {
                self.string()?;
            }
            _ => {
                while matches!(self.peek(), Some(c) if !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                {
                    self.i += 1;
                }
                if self.i == start {
                    return None;
                }
            }
        }
        Some(())
    }
}

/// Block-style YAML: follows `key:` lines and `- ` items by indentation.
/// Flow collections are located at their start.
fn yaml_offset(text: &str, tokens: &[String]) -> Option<usize> {
    let mut lines = Vec::new();
    let mut off = 0;
    for l in text.split_inclusive('\n') {
        let body = l.trim_end_matches(['\n', '\r']);
        let t = body.trim_start();
        if !(t.is_empty() || t.starts_with('#') || t == "---") {
            lines.push((off, body));
        }
        off += l.len();
    }
    let lead = |l: &str| l.len() - l.trim_start_matches(' ').len();
    // The node's first line (index into `lines`) and the column its content starts at.
    let (mut line, mut col) = (0, lead(lines.first()?.1));
    for t in tokens {
        let (l0, c0) = (line, col);
        let mut found = None;
        let mut item = 0usize;
        for (j, &(_, l)) in lines.iter().enumerate().skip(l0) {
            let here = if j == l0 { c0 } else { lead(l) };
            if j > l0 && here < c0 {
                break;
            }
            if here != c0 || l.len() <= here {
                continue;
            }
            let rest = &l[here..];
            if let Ok(n) = t.parse::<usize>() {
                if let Some(stripped) = rest.strip_prefix('-') {
                    if item == n {
                        let after = stripped.trim_start();
                        found = Some((j, l.len() - after.len()));
                        break;
                    }
                    item += 1;
                }
                continue;
            }
            if j > l0 && rest.starts_with("- ") {
                break;
            }
            let Some((k, v)) = rest.split_once(':') else {
                continue;
            };
            if k.trim().trim_matches(['"', '\'']) != t {
                continue;
            }
            let v = v.split(" #").next().unwrap_or("").trim();
            if v.is_empty() {
                let next = j + 1;
                found = Some((next, lead(lines.get(next)?.1)));
            } else {
                let vcol = here
                    + k.len()
                    + 1
                    + (rest[k.len() + 1..].len() - rest[k.len() + 1..].trim_start().len());
                found = Some((j, vcol));
            }
            break;
        }
        (line, col) = found?;
    }
    Some(lines[line].0 + col)
}

/// TOML: finds `key =` lines and `[table]` headers for the last token.
fn toml_offset(text: &str, tokens: &[String]) -> Option<usize> {
    let Some(last) = tokens.last() else {
        return Some(0);
    };
    let mut offset = 0;
    for l in text.split_inclusive('\n') {
        let t = l.trim_start();
        if let Some((k, _)) = t.split_once('=')
            && k.trim().trim_matches('"') == last
        {
            return Some(offset + (l.len() - t.len()));
        }
        if t.starts_with('[')
            && t.trim_end().trim_matches(['[', ']']).rsplit('.').next() == Some(last)
        {
            return Some(offset + (l.len() - t.len()));
        }
        offset += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, format: Format, p: &str) -> Option<(usize, usize)> {
        let s = SourceText {
            path: "x".into(),
            text: text.into(),
            format,
        };
        locate(&s, p).map(|p| (p.line, p.column))
    }

    #[test]
    fn json_pointers() {
        let t = "{\n  \"a\": {\"b\": [10, {\"c~/\": true}]},\n  \"d\": 1\n}";
        assert_eq!(at(t, Format::Json, ""), Some((1, 1)));
        assert_eq!(at(t, Format::Json, "/d"), Some((3, 8)));
        assert_eq!(at(t, Format::Json, "/a/b/1/c~0~1"), Some((2, 27)));
        assert_eq!(at(t, Format::Json, "/zz"), None);
        assert_eq!(json_pointer_at(t, 27).as_deref(), Some("/a/b/1"));
    }

    #[test]
    fn yaml_pointers() {
        let t = "# c\nschemaVersion: 1\nactiveInstance:\n  id: abc\n  status: active\ncompletedSteps:\n  - stepId: one\n    result: success\n  - stepId: two\n    result: failure\n";
        assert_eq!(at(t, Format::Yaml, "/schemaVersion"), Some((2, 16)));
        assert_eq!(at(t, Format::Yaml, "/activeInstance/status"), Some((5, 11)));
        assert_eq!(
            at(t, Format::Yaml, "/completedSteps/1/result"),
            Some((10, 13))
        );
        assert_eq!(at(t, Format::Yaml, "/completedSteps/1"), Some((9, 5)));
    }
}
