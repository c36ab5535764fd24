//! Which `patternProperties` entries a property name can match together.
//!
//! Each pattern becomes a DFA (searching, as JSON Schema does); a
//! breadth-first walk of their product lists every *signature* — the set
//! of patterns one name matches — some name realizes. Two patterns
//! overlap exactly when a signature holds both. When a pattern is not a
//! regular expression the automaton crate reads, or the product grows too
//! large, there is no answer and callers fall back to "cannot decide".

use std::collections::{BTreeSet, HashSet, VecDeque};

use regex_automata::dfa::{Automaton, dense};
use regex_automata::util::primitives::StateID;
use regex_automata::{Anchored, Input, MatchKind};

/// Product states explored before giving up.
const MAX_STATES: usize = 20_000;

/// One realizable signature: the indices of the patterns a name matches.
pub(crate) type Signature = BTreeSet<usize>;

/// Every signature some string realizes (the empty one included when a
/// string matches no pattern), or `None` when undecidable here.
pub(crate) fn signatures(patterns: &[&str]) -> Option<Vec<Signature>> {
    let dfas: Vec<dense::DFA<Vec<u32>>> = patterns
        .iter()
        .map(|p| {
            dense::Builder::new()
                .configure(
                    dense::Config::new()
                        .match_kind(MatchKind::All)
                        .start_kind(regex_automata::dfa::StartKind::Unanchored),
                )
                .build(p)
                .ok()
        })
        .collect::<Option<_>>()?;
    let input = Input::new("").anchored(Anchored::No);
    let start: Vec<StateID> = dfas
        .iter()
        .map(|d| d.start_state_forward(&input).ok())
        .collect::<Option<_>>()?;
    let reps = representatives(&dfas);
    let n = dfas.len();
    let mut seen: HashSet<(Vec<StateID>, Vec<bool>)> = HashSet::new();
    let mut queue = VecDeque::new();
    let mut out: BTreeSet<Signature> = BTreeSet::new();
    let first = (start, vec![false; n]);
    seen.insert(first.clone());
    queue.push_back(first);
    while let Some((states, matched)) = queue.pop_front() {
        let sig: Signature = (0..n)
            .filter(|&i| matched[i] || dfas[i].is_match_state(dfas[i].next_eoi_state(states[i])))
            .collect();
        out.insert(sig);
        for &byte in &reps {
            let next: Vec<StateID> = (0..n)
                .map(|i| dfas[i].next_state(states[i], byte))
                .collect();
            if (0..n).any(|i| dfas[i].is_quit_state(next[i])) {
                return None;
            }
            let m: Vec<bool> = (0..n)
                .map(|i| matched[i] || dfas[i].is_match_state(next[i]))
                .collect();
            let key = (next, m);
            if seen.insert(key.clone()) {
                if seen.len() > MAX_STATES {
                    return None;
                }
                queue.push_back(key);
            }
        }
    }
    Some(out.into_iter().collect())
}

/// One byte per class of bytes every DFA treats alike.
fn representatives(dfas: &[dense::DFA<Vec<u32>>]) -> Vec<u8> {
    let mut seen = HashSet::new();
    let mut reps = Vec::new();
    for b in 0..=255u8 {
        let class: Vec<u8> = dfas.iter().map(|d| d.byte_classes().get(b)).collect();
        if seen.insert(class) {
            reps.push(b);
        }
    }
    reps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sigs(p: &[&str]) -> Vec<Vec<usize>> {
        signatures(p)
            .expect("decidable")
            .into_iter()
            .map(|s| s.into_iter().collect())
            .collect()
    }

    #[test]
    fn overlapping_and_disjoint_patterns() {
        // "x" matches both; "xa" only the first; "ax" only the second.
        assert_eq!(
            sigs(&["^x", "x$"]),
            vec![vec![], vec![0], vec![0, 1], vec![1]]
        );
        // No name starts with both S_ and I_.
        assert!(!sigs(&["^S_", "^I_"]).contains(&vec![0, 1]));
        // Every name matching ^ab also matches ^a.
        assert!(!sigs(&["^ab", "^a"]).contains(&vec![0]));
    }

    #[test]
    fn lookaround_is_undecidable_here() {
        assert!(signatures(&["^(?!x)"]).is_none());
    }
}
