//! Rust names for catalog items: module names for kinds, type names for
//! schema roots and hoisted definitions.

/// `env-config` → `env_config`: the module a kind's versions live in.
pub fn module_name(kind: &str) -> String {
    let mut out: String = kind
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if syn::parse_str::<syn::Ident>(&out).is_err() {
        out.push('_');
    }
    out
}

/// `env-config`, `"hybridcore env config"` → `EnvConfig`,
/// `HybridcoreEnvConfig`: an UpperCamelCase type name. Falls back to
/// `fallback` when `text` has no ASCII letters or digits.
pub fn type_name(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if upper || (prev_lower && c.is_ascii_uppercase()) {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            upper = true;
            prev_lower = false;
        }
    }
    if out.is_empty() {
        return fallback.to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    if matches!(
        out.as_str(),
        "Self" | "Option" | "Result" | "Vec" | "String" | "Box"
    ) {
        out.push_str("Type");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(module_name("env-config"), "env_config");
        assert_eq!(module_name("type"), "type_");
        assert_eq!(type_name("env-config", "X"), "EnvConfig");
        assert_eq!(
            type_name("hybridcore env config", "X"),
            "HybridcoreEnvConfig"
        );
        assert_eq!(type_name("history_entry", "X"), "HistoryEntry");
        assert_eq!(type_name("package.json", "X"), "PackageJson");
        assert_eq!(type_name("3d", "X"), "T3d");
        assert_eq!(type_name("--", "X"), "X");
    }
}
