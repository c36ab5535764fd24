//! Schemas typify cannot handle: without the fallback the error names the
//! file and pointer; with it the node becomes `serde_json::Value` and the
//! report says where.

use statewright_codegen::{CodegenError, Generator, Settings};
use statewright_spec::OfflineRegistry;

fn schema_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fallback");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const IF_THEN_ELSE: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "mode": {
      "if": {"type": "string"},
      "then": {"minLength": 1},
      "else": {"type": "integer"}
    }
  }
}"#;

#[test]
fn error_names_file_and_pointer_without_fallback() {
    let path = schema_file("if-then-else.json", IF_THEN_ELSE);
    let schema = serde_json::from_str(IF_THEN_ELSE).unwrap();
    let err = Generator::new(OfflineRegistry::new(), Settings::default())
        .generate(&path, &schema, "Thing")
        .unwrap_err();
    match &err {
        CodegenError::Unsupported {
            path: p, pointer, ..
        } => {
            assert_eq!(p.file_name().unwrap(), "if-then-else.json");
            assert_eq!(pointer, "/properties/mode");
        }
        other => panic!("unexpected error: {other}"),
    }
    assert!(err.to_string().contains("/properties/mode"), "{err}");
}

#[test]
fn fallback_types_the_node_as_value_and_reports_it() {
    let path = schema_file("if-then-else.json", IF_THEN_ELSE);
    let schema = serde_json::from_str(IF_THEN_ELSE).unwrap();
    let settings = Settings {
        value_fallback: true,
        ..Settings::default()
    };
    let generated = Generator::new(OfflineRegistry::new(), settings)
        .generate(&path, &schema, "Thing")
        .unwrap();
    assert_eq!(generated.root_type, "Thing");
    assert_eq!(generated.fallbacks.len(), 1, "{:?}", generated.fallbacks);
    assert_eq!(generated.fallbacks[0].pointer, "/properties/mode");
    assert!(
        generated.code.contains("serde_json :: Value"),
        "{}",
        generated.code
    );
}

#[test]
fn unresolvable_ref_is_an_error_or_a_recorded_fallback() {
    let text =
        r#"{"type": "object", "properties": {"x": {"$ref": "https://nowhere.invalid/s.json"}}}"#;
    let path = schema_file("external.json", text);
    let schema = serde_json::from_str(text).unwrap();
    let err = Generator::new(OfflineRegistry::new(), Settings::default())
        .generate(&path, &schema, "Thing")
        .unwrap_err();
    assert!(matches!(err, CodegenError::Bundle { .. }), "{err}");
    let settings = Settings {
        value_fallback: true,
        ..Settings::default()
    };
    let generated = Generator::new(OfflineRegistry::new(), settings)
        .generate(&path, &schema, "Thing")
        .unwrap();
    assert!(
        generated
            .fallbacks
            .iter()
            .any(|f| f.reason.starts_with("unresolvable $ref")),
        "{:?}",
        generated.fallbacks
    );
}

/// Two property names that become one Rust field name (as in Cargo.toml's
/// schema): the one serde knows by a `rename` gets a name of its own, in
/// the struct and in its `Default` impl, and keeps its JSON name.
const CLASHING_FIELDS: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "name": {"type": "string", "default": "x"},
    "build-dependencies": {"type": "object", "additionalProperties": {"type": "string"}},
    "build_dependencies": {"type": "object", "additionalProperties": {"type": "string"}}
  },
  "additionalProperties": false
}"#;

#[test]
fn fields_that_would_clash_get_names_of_their_own() {
    let path = schema_file("clashing-fields.json", CLASHING_FIELDS);
    let schema = serde_json::from_str(CLASHING_FIELDS).unwrap();
    let generated = Generator::new(OfflineRegistry::new(), Settings::default())
        .generate(&path, &schema, "Thing")
        .unwrap();
    assert!(generated.fallbacks.is_empty(), "{:?}", generated.fallbacks);
    let file = syn::parse_file(&generated.code).unwrap();
    let code = prettyplease::unparse(&file);
    let thing = file
        .items
        .iter()
        .find_map(|i| match i {
            syn::Item::Struct(s) if s.ident == "Thing" => Some(s),
            _ => None,
        })
        .unwrap();
    let fields: Vec<String> = thing
        .fields
        .iter()
        .map(|f| f.ident.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        ["name", "build_dependencies_2", "build_dependencies"],
        "{code}"
    );
    let renamed =
        quote::ToTokens::to_token_stream(&thing.fields.iter().nth(1).unwrap().attrs[0]).to_string();
    assert!(
        renamed.contains("rename = \"build-dependencies\""),
        "{renamed}"
    );
    // Schema defaults are not materialized, so `Default` is derived (an
    // impl written out would have to name both fields).
    let default = code
        .split("impl ::std::default::Default for Thing")
        .nth(1)
        .unwrap_or("");
    assert!(
        thing.attrs.iter().any(|a| {
            a.path().is_ident("derive")
                && quote::ToTokens::to_token_stream(a)
                    .to_string()
                    .contains("Default")
        }) || (default.contains("build_dependencies_2:")
            && default.contains("build_dependencies:")),
        "{code}"
    );
}

/// A definition called `default` would hide the `Default` trait the
/// generated impls call unqualified (`Default::default()`).
const DEFAULT_DEF: &str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "name": {"type": "string", "default": "x"},
    "flags": {"type": "array", "items": {"$ref": "#/$defs/default"}}
  },
  "$defs": {"default": {"type": "object", "properties": {"on": {"type": "boolean"}}}}
}"##;

#[test]
fn a_definition_named_like_a_prelude_item_is_renamed() {
    let path = schema_file("default-def.json", DEFAULT_DEF);
    let schema = serde_json::from_str(DEFAULT_DEF).unwrap();
    let generated = Generator::new(OfflineRegistry::new(), Settings::default())
        .generate(&path, &schema, "Thing")
        .unwrap();
    let file = syn::parse_file(&generated.code).unwrap();
    let types: Vec<String> = file
        .items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            _ => None,
        })
        .collect();
    assert!(types.contains(&"Default2".to_owned()), "{types:?}");
    assert!(!types.contains(&"Default".to_owned()), "{types:?}");
}

/// A conditional on an object with properties of its own: the object stays
/// typed without the conditional, unless it is closed and a branch names a
/// property it does not (the type would refuse valid documents).
fn conditional(closed: bool) -> String {
    format!(
        r#"{{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {{"kind": {{"type": "string"}}, "size": {{"type": "integer"}}}},
  "additionalProperties": {},
  "if": {{"properties": {{"kind": {{"const": "big"}}}}}},
  "then": {{"properties": {{"extra": {{"type": "string"}}}}, "required": ["extra"]}}
}}"#,
        !closed
    )
}

#[test]
fn a_conditional_is_left_out_of_the_type_when_that_only_loosens_it() {
    let settings = Settings {
        value_fallback: true,
        ..Settings::default()
    };
    let open = conditional(false);
    let path = schema_file("conditional-open.json", &open);
    let generated = Generator::new(OfflineRegistry::new(), settings.clone())
        .generate(&path, &serde_json::from_str(&open).unwrap(), "Thing")
        .unwrap();
    assert_eq!(generated.fallbacks.len(), 1, "{:?}", generated.fallbacks);
    let f = &generated.fallbacks[0];
    assert!(f.conditions_only && f.pointer.is_empty(), "{f:?}");
    assert!(f.reason.contains("if/then/else"), "{f:?}");
    let code = prettyplease::unparse(&syn::parse_file(&generated.code).unwrap());
    assert!(code.contains("pub struct Thing {"), "{code}");
    assert!(
        code.contains("pub size: ::std::option::Option<i64>"),
        "{code}"
    );

    let closed = conditional(true);
    let path = schema_file("conditional-closed.json", &closed);
    let generated = Generator::new(OfflineRegistry::new(), settings)
        .generate(&path, &serde_json::from_str(&closed).unwrap(), "Thing")
        .unwrap();
    assert!(
        generated.fallbacks.iter().all(|f| !f.conditions_only),
        "{:?}",
        generated.fallbacks
    );
    let code = prettyplease::unparse(&syn::parse_file(&generated.code).unwrap());
    assert!(!code.contains("pub size:"), "{code}");
}
