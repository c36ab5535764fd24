//! Path patterns that map files in a state directory to document kinds.
//!
//! A pattern is matched against a `/`-separated path relative to the state
//! directory. `*` matches any run of characters inside one segment, `?` one
//! character, and a whole segment `**` matches any number of segments.

/// Returns whether `path` (relative, `/`-separated) matches `pattern`.
pub fn matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let segs: Vec<&str> = path.split('/').collect();
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|i| match_segments(rest, &segs[i..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => {
                match_segment(p.as_bytes(), s.as_bytes()) && match_segments(rest, srest)
            }
            None => false,
        },
    }
}

fn match_segment(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| match_segment(rest, &s[i..])),
        Some((b'?', rest)) => !s.is_empty() && match_segment(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && match_segment(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn segments_and_stars() {
        assert!(matches("config/*.json", "config/dev.json"));
        assert!(!matches("config/*.json", "config/a/dev.json"));
        assert!(!matches("config/*.json", "config/dev.yaml"));
        assert!(matches("**/state.yaml", ".checklist/state.yaml"));
        assert!(matches("**/state.yaml", "state.yaml"));
        assert!(matches("sources.json", "sources.json"));
        assert!(matches("v?.json", "v1.json"));
    }
}
