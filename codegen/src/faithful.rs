//! Models that keep every byte a schema allows.
//!
//! Typify's types lose data in a few systematic ways; each is undone here,
//! either by rewriting the bundled schema before typify sees it
//! ([`prepare`]) or by rewriting the items it generates ([`repair`]):
//!
//! - an object whose schema admits members it does not name gets a
//!   flattened `extra` map that keeps them, in order
//!   (`additionalProperties: {}` where the schema left it open);
//! - a schema `default` is not materialized on load and written on save
//!   (`default` is dropped: the member stays optional);
//! - an `anyOf` is typed as the first alternative that fits (an untagged
//!   enum, as `oneOf`), not as a struct of flattened options that cannot
//!   take a scalar; alternatives that only assert (`required`, `not`, ...)
//!   are dropped, since they do not shape the value;
//! - an object with named members and `patternProperties` keeps the
//!   members that match a pattern in its `extra` map (typify would keep
//!   only the named ones);
//! - `propertyNames` is dropped (keys stay strings), and so is `not`
//!   (typify would type `not: {type: null}` as a value that cannot exist);
//! - struct fields are declared in the schema's property order, so a save
//!   writes them in that order;
//! - an optional array or map is an `Option`, so a `[]` or `{}` that was
//!   written is written back, and one that was absent stays absent;
//! - an optional member whose schema admits `null` is an
//!   `Option<Option<T>>`: absent is `None`, `null` is `Some(None)`;
//! - a JSON `number` is a `serde_json::Number`, which writes back the
//!   number it read (`2` stays `2`, not `2.0`);
//! - doc comments lose bare carriage returns, which `///` cannot carry.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

/// Keywords that only assert: an applicator whose alternatives have
/// nothing else does not shape the value.
const ASSERTIONS: &[&str] = &[
    "required",
    "not",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "description",
    "title",
    "$comment",
    "errorMessage",
    "markdownDescription",
    "deprecated",
    "deprecationMessage",
    "if",
    "then",
    "else",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "pattern",
    "format",
    "multipleOf",
    "uniqueItems",
];

/// Rewrites every definition so typify's types keep what the schema
/// allows (see the module docs).
pub(crate) fn prepare(defs: &mut BTreeMap<String, Value>) {
    for def in defs.values_mut() {
        prepare_node(def);
    }
}

fn prepare_node(node: &mut Value) {
    let Value::Object(map) = node else { return };
    map.remove("default");
    map.remove("propertyNames");
    // A type cannot say "anything but": typify makes `not` a type with no
    // value at all (an enum without variants), so a document that meets
    // the schema could not load. The store still validates it.
    map.remove("not");
    for key in ["anyOf", "oneOf"] {
        if map
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|alts| alts.iter().all(only_asserts))
        {
            map.remove(key);
        }
    }
    if !map.contains_key("oneOf")
        && let Some(any) = map.remove("anyOf")
    {
        map.insert("oneOf".to_owned(), any);
    }
    // Members matching `patternProperties` have no name: typify keeps only
    // the named members (and refuses the rest under `additionalProperties:
    // false`), so a document the schema accepts could not load. They go to
    // the `extra` map instead; the store still validates them.
    if is_object_schema(map)
        && map
            .get("patternProperties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
    {
        map.remove("patternProperties");
        map.insert("additionalProperties".to_owned(), Value::Object(Map::new()));
    }
    if is_object_schema(map)
        && matches!(
            map.get("additionalProperties"),
            None | Some(Value::Bool(true))
        )
        && map.get("unevaluatedProperties") != Some(&Value::Bool(false))
    {
        map.insert("additionalProperties".to_owned(), Value::Object(Map::new()));
    }
    for (key, value) in map.iter_mut() {
        match (key.as_str(), value) {
            ("enum" | "const" | "examples" | "required", _) => {}
            (
                "properties" | "patternProperties" | "dependentSchemas" | "dependencies",
                Value::Object(m),
            ) => m.values_mut().for_each(prepare_node),
            (_, Value::Array(items)) => items.iter_mut().for_each(prepare_node),
            (_, v @ Value::Object(_)) => prepare_node(v),
            _ => {}
        }
    }
}

/// Whether the node describes objects with named members (only those get
/// a struct, and so an `extra` map).
fn is_object_schema(map: &Map<String, Value>) -> bool {
    let typed_object = match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.len() == 1 && ts[0] == "object",
        _ => false,
    };
    map.get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
        && (typed_object || !map.contains_key("type"))
}

/// An alternative of `anyOf`/`oneOf` that only asserts.
fn only_asserts(alt: &Value) -> bool {
    match alt {
        Value::Object(m) => m.keys().all(|k| ASSERTIONS.contains(&k.as_str())),
        Value::Bool(_) => false,
        _ => false,
    }
}

/// One `properties` object of the schema: its members in order, which are
/// required and which admit `null`.
#[derive(Debug)]
struct Shape {
    order: Vec<String>,
    required: HashSet<String>,
    nullable: HashSet<String>,
}

/// Every `properties` object of the bundled schema.
fn shapes(defs: &BTreeMap<String, Value>) -> Vec<Shape> {
    fn walk(node: &Value, defs: &BTreeMap<String, Value>, out: &mut Vec<Shape>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    let required = map
                        .get("required")
                        .and_then(Value::as_array)
                        .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned))
                        .into_iter()
                        .flatten()
                        .collect();
                    let nullable = props
                        .iter()
                        .filter(|(_, s)| admits_null(s, defs, 0))
                        .map(|(k, _)| k.clone())
                        .collect();
                    out.push(Shape {
                        // Typify leaves out members whose schema is `false`.
                        order: props
                            .iter()
                            .filter(|(_, s)| **s != Value::Bool(false))
                            .map(|(k, _)| k.clone())
                            .collect(),
                        required,
                        nullable,
                    });
                }
                for (k, v) in map {
                    if !matches!(k.as_str(), "enum" | "const" | "examples" | "default") {
                        walk(v, defs, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, defs, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for def in defs.values() {
        walk(def, defs, &mut out);
    }
    out
}

/// Whether `null` is a value the schema (as typify sees it) admits.
fn admits_null(schema: &Value, defs: &BTreeMap<String, Value>, depth: usize) -> bool {
    let Value::Object(m) = schema else {
        return schema == &Value::Bool(true);
    };
    if depth > 16 {
        return false;
    }
    if m.is_empty() {
        return true;
    }
    let type_null = match m.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
        _ => false,
    };
    let in_enum = m
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|e| e.contains(&Value::Null));
    let alternatives = ["oneOf", "anyOf"].iter().any(|k| {
        m.get(*k)
            .and_then(Value::as_array)
            .is_some_and(|alts| alts.iter().any(|a| admits_null(a, defs, depth + 1)))
    });
    let by_ref = m
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/definitions/"))
        .and_then(|name| defs.get(name))
        .is_some_and(|d| admits_null(d, defs, depth + 1));
    type_null || in_enum || m.get("const") == Some(&Value::Null) || alternatives || by_ref
}

/// The name of the helper that reads a member as present (`Some`), even
/// when it is `null`.
const PRESENT: &str = "__statewright_present";

/// Rewrites typify's items so they keep what the schema allows (see the
/// module docs); `defs` is the schema they were generated from.
pub(crate) fn repair(items: &mut Vec<syn::Item>, defs: &BTreeMap<String, Value>) {
    let shapes = shapes(defs);
    let mut needs_present = false;
    for item in items.iter_mut() {
        if let syn::Item::Struct(s) = item
            && let syn::Fields::Named(fields) = &mut s.fields
        {
            let shape = shape_of(fields, &shapes);
            let mut list: Vec<syn::Field> = fields.named.iter().cloned().collect();
            if let Some(shape) = shape {
                order_fields(&mut list, shape);
            }
            for f in &mut list {
                needs_present |= repair_field(f, shape);
            }
            fields.named = list.into_iter().collect();
        }
    }
    for item in items.iter_mut() {
        syn::visit_mut::VisitMut::visit_item_mut(&mut Numbers, item);
    }
    drop_unmet_derives(items);
    items.retain(|i| !from_one_tuple(i));
    if needs_present {
        let ident = syn::Ident::new(PRESENT, proc_macro2::Span::call_site());
        items.push(syn::parse_quote! {
            /// Reads a member that is there as `Some`, even when it is `null`
            /// (`Some(None)`); an absent member stays `None` (serde's
            /// `default`).
            fn #ident<'de, D, T>(
                deserializer: D,
            ) -> ::std::result::Result<::std::option::Option<::std::option::Option<T>>, D::Error>
            where
                D: ::serde::Deserializer<'de>,
                T: ::serde::Deserialize<'de>,
            {
                <::std::option::Option<T> as ::serde::Deserialize>::deserialize(deserializer)
                    .map(::std::option::Option::Some)
            }
        });
    }
}

/// The JSON name of a field: its `rename`, else its identifier; `None` for
/// a flattened field.
fn json_name(f: &syn::Field) -> Option<String> {
    let mut rename = None;
    for a in f.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("flatten") {
                rename = Some(None);
            } else if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                if rename.is_none() {
                    rename = Some(Some(lit.value()));
                }
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    match rename {
        Some(r) => r,
        None => f.ident.as_ref().map(|i| {
            let s = i.to_string();
            s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
        }),
    }
}

/// The `properties` object a struct was generated from: the first whose
/// members are exactly the struct's named fields.
fn shape_of<'s>(fields: &syn::FieldsNamed, shapes: &'s [Shape]) -> Option<&'s Shape> {
    let names: HashSet<String> = fields.named.iter().filter_map(json_name).collect();
    if names.is_empty() {
        return None;
    }
    shapes.iter().find(|s| {
        names
            .iter()
            .all(|n| s.order.contains(n) || s.required.contains(n))
            && s.order.iter().all(|n| names.contains(n))
    })
}

/// Declares the fields in the schema's order (flattened fields last, as
/// typify put them).
fn order_fields(list: &mut [syn::Field], shape: &Shape) {
    let rank: HashMap<&str, usize> = shape
        .order
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    list.sort_by_key(|f| match json_name(f) {
        Some(n) => rank.get(n.as_str()).copied().unwrap_or(usize::MAX - 1),
        None => usize::MAX,
    });
}

/// Makes an optional array or map an `Option`, and an optional member that
/// admits `null` an `Option<Option<T>>`. Returns whether the field now
/// uses the [`PRESENT`] helper.
fn repair_field(f: &mut syn::Field, shape: Option<&Shape>) -> bool {
    let Some(skip) = skip_if(f) else { return false };
    if skip.ends_with("::is_empty") {
        let ty = f.ty.clone();
        f.ty = syn::parse_quote!(::std::option::Option<#ty>);
        set_serde(
            f,
            quote::quote!(
                default,
                skip_serializing_if = "::std::option::Option::is_none"
            ),
        );
        return false;
    }
    let nullable = shape
        .zip(json_name(f))
        .is_some_and(|(s, n)| s.nullable.contains(&n) && !s.required.contains(&n));
    if skip.ends_with("Option::is_none") && nullable && is_option(&f.ty) {
        let ty = f.ty.clone();
        f.ty = syn::parse_quote!(::std::option::Option<#ty>);
        set_serde(
            f,
            quote::quote!(default, deserialize_with = #PRESENT, skip_serializing_if = "::std::option::Option::is_none"),
        );
        return true;
    }
    false
}

fn is_option(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    p.path.segments.last().is_some_and(|s| s.ident == "Option")
}

/// The field's `skip_serializing_if` function, if any.
fn skip_if(f: &syn::Field) -> Option<String> {
    let mut out = None;
    for a in f.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = a.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip_serializing_if") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                out = Some(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    out
}

/// Replaces the `default`, `skip_serializing_if` and `deserialize_with`
/// options of the field's serde attributes with `options` (keeping
/// `rename`).
fn set_serde(f: &mut syn::Field, options: proc_macro2::TokenStream) {
    let rename = f.attrs.iter().find_map(|a| {
        let mut r = None;
        if a.path().is_ident("serde") {
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let lit: syn::LitStr = meta.value()?.parse()?;
                    r = Some(lit);
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
        }
        r
    });
    f.attrs.retain(|a| !a.path().is_ident("serde"));
    let attr: syn::Attribute = match rename {
        Some(r) => syn::parse_quote!(#[serde(rename = #r, #options)]),
        None => syn::parse_quote!(#[serde(#options)]),
    };
    f.attrs.push(attr);
}

/// Whether `item` is typify's `impl From<(T,)> for E`, which hands the
/// variant holding `(T,)` a `T` and does not compile; a convenience only.
fn from_one_tuple(item: &syn::Item) -> bool {
    let syn::Item::Impl(imp) = item else {
        return false;
    };
    let Some((_, path, _)) = &imp.trait_ else {
        return false;
    };
    let Some(last) = path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    last.ident == "From"
        && matches!(
            args.args.first(),
            Some(syn::GenericArgument::Type(syn::Type::Tuple(t))) if t.elems.len() == 1
        )
}

/// Derives `serde_json::Number` does not have (`Copy`, `PartialOrd`,
/// `Ord`), taken off every type that holds one, directly or through
/// another such type.
fn drop_unmet_derives(items: &mut [syn::Item]) {
    use quote::ToTokens;
    const UNMET: [&str; 3] = ["Copy", "PartialOrd", "Ord"];
    let mut tainted: HashSet<String> = HashSet::from(["Number".to_owned()]);
    loop {
        let before = tainted.len();
        for item in items.iter_mut() {
            let words: HashSet<String> = item
                .to_token_stream()
                .to_string()
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .map(str::to_owned)
                .collect();
            let (ident, attrs) = match item {
                syn::Item::Struct(s) => (s.ident.to_string(), &mut s.attrs),
                syn::Item::Enum(e) => (e.ident.to_string(), &mut e.attrs),
                _ => continue,
            };
            if tainted.contains(&ident) || !tainted.iter().any(|t| words.contains(t)) {
                continue;
            }
            tainted.insert(ident);
            for a in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
                let Ok(paths) = a.parse_args_with(
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                ) else {
                    continue;
                };
                let kept: Vec<&syn::Path> = paths
                    .iter()
                    .filter(|p| {
                        !p.segments
                            .last()
                            .is_some_and(|s| UNMET.contains(&s.ident.to_string().as_str()))
                    })
                    .collect();
                *a = syn::parse_quote!(#[derive(#(#kept),*)]);
            }
        }
        if tainted.len() == before {
            return;
        }
    }
}

/// `e` without the invisible groups and parentheses around it.
fn ungrouped(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Group(g) => ungrouped(&g.expr),
        syn::Expr::Paren(p) => ungrouped(&p.expr),
        _ => e,
    }
}

/// `f64`/`f32` → `serde_json::Number`; doc strings without bare `\r`.
struct Numbers;

impl syn::visit_mut::VisitMut for Numbers {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::Path(p) = ty
            && p.qself.is_none()
            && (p.path.is_ident("f64") || p.path.is_ident("f32"))
        {
            *ty = syn::parse_quote!(::serde_json::Number);
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }

    /// A float enum's check (`[2_f64, 3_f64].contains(&value)`) compares
    /// the number's value now that `value` is a `Number`.
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        syn::visit_mut::visit_expr_method_call_mut(self, call);
        let floats = matches!(ungrouped(&call.receiver), syn::Expr::Array(a) if a.elems.iter().any(|e| {
            match ungrouped(e) {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Float(_), .. }) => true,
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) => i.suffix().starts_with('f'),
                _ => false,
            }
        }));
        if call.method == "contains"
            && floats
            && call.args.len() == 1
            && let syn::Expr::Reference(r) = ungrouped(&call.args[0])
        {
            let inner = r.expr.clone();
            call.args[0] = syn::parse_quote!(&#inner.as_f64().unwrap_or(f64::NAN));
        }
    }

    fn visit_attribute_mut(&mut self, a: &mut syn::Attribute) {
        if a.path().is_ident("doc")
            && let syn::Meta::NameValue(nv) = &mut a.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            && s.value().contains('\r')
        {
            let text = s.value().replace("\r\n", "\n").replace('\r', "\n");
            nv.value = syn::parse_quote!(#text);
        }
    }
}

#[cfg(test)]
mod number_enum_tests {
    #[test]
    fn a_float_enum_check_compares_the_numbers_value() {
        let tokens: proc_macro2::TokenStream = quote::quote! {
            impl X { fn f(value: f64) -> bool { ![2_f64, 3_f64].contains(&value) } }
        };
        let mut file: syn::File = syn::parse2(tokens).unwrap();
        for item in file.items.iter_mut() {
            syn::visit_mut::VisitMut::visit_item_mut(&mut super::Numbers, item);
        }
        let code = quote::ToTokens::to_token_stream(&file).to_string();
        assert!(code.contains("as_f64"), "{code}");
    }
}

#[cfg(test)]
mod prepare_tests {
    use serde_json::json;

    #[test]
    fn members_matching_a_pattern_go_to_the_extra_map() {
        let mut defs = std::collections::BTreeMap::new();
        defs.insert(
            "Root".to_owned(),
            json!({
                "type": "object",
                "properties": {"title": {"type": "string"}},
                "patternProperties": {"^_": {}},
                "additionalProperties": false
            }),
        );
        super::prepare(&mut defs);
        let root = &defs["Root"];
        assert!(root.get("patternProperties").is_none(), "{root}");
        assert_eq!(root["additionalProperties"], json!({}), "{root}");
    }

    #[test]
    fn not_is_dropped_wherever_it_is() {
        let mut defs = std::collections::BTreeMap::new();
        defs.insert(
            "Root".to_owned(),
            json!({
                "type": "object",
                "properties": {"config": {"type": "object", "additionalProperties": {"not": {"type": "null"}}}},
                "not": {"required": ["x"]}
            }),
        );
        super::prepare(&mut defs);
        let root = &defs["Root"];
        assert!(root.get("not").is_none(), "{root}");
        assert_eq!(
            root["properties"]["config"]["additionalProperties"],
            json!({}),
            "{root}"
        );
    }
}
