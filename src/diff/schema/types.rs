//! Sets of JSON instance types, for the `type` rule and for deciding
//! whether a type-specific keyword can matter at all.

use serde_json::Value;

/// A set of JSON Schema instance types. `number` is split into integers
/// and non-integers so that `integer ⊆ number` is plain set inclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeSet(u8);

impl TypeSet {
    pub const NONE: TypeSet = TypeSet(0);
    pub const NULL: TypeSet = TypeSet(1);
    pub const BOOLEAN: TypeSet = TypeSet(2);
    pub const OBJECT: TypeSet = TypeSet(4);
    pub const ARRAY: TypeSet = TypeSet(8);
    pub const INTEGER: TypeSet = TypeSet(16);
    pub const FRACTION: TypeSet = TypeSet(32);
    pub const STRING: TypeSet = TypeSet(64);
    pub const NUMBER: TypeSet = TypeSet(16 | 32);
    pub const ALL: TypeSet = TypeSet(127);

    /// One type name.
    pub fn named(name: &str) -> TypeSet {
        match name {
            "null" => Self::NULL,
            "boolean" => Self::BOOLEAN,
            "object" => Self::OBJECT,
            "array" => Self::ARRAY,
            "integer" => Self::INTEGER,
            "number" => Self::NUMBER,
            "string" => Self::STRING,
            _ => Self::NONE,
        }
    }

    /// The value of a `type` keyword (a name or a list of names).
    pub fn from_type_keyword(v: &Value) -> TypeSet {
        match v {
            Value::String(s) => Self::named(s),
            Value::Array(a) => a
                .iter()
                .filter_map(Value::as_str)
                .fold(Self::NONE, |acc, s| acc.union(Self::named(s))),
            _ => Self::ALL,
        }
    }

    /// The type of one instance.
    pub fn of_value(v: &Value) -> TypeSet {
        match v {
            Value::Null => Self::NULL,
            Value::Bool(_) => Self::BOOLEAN,
            Value::Object(_) => Self::OBJECT,
            Value::Array(_) => Self::ARRAY,
            Value::String(_) => Self::STRING,
            Value::Number(n) => {
                if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                    Self::INTEGER
                } else {
                    Self::FRACTION
                }
            }
        }
    }

    /// The `type` keyword value for this set.
    pub fn to_type_keyword(self) -> Value {
        let mut names = Vec::new();
        for (t, n) in [
            (Self::NULL, "null"),
            (Self::BOOLEAN, "boolean"),
            (Self::OBJECT, "object"),
            (Self::ARRAY, "array"),
            (Self::STRING, "string"),
        ] {
            if t.subset_of(self) {
                names.push(n);
            }
        }
        if Self::NUMBER.subset_of(self) {
            names.push("number");
        } else if Self::INTEGER.subset_of(self) {
            names.push("integer");
        }
        match names.as_slice() {
            [one] => Value::String((*one).into()),
            _ => Value::Array(names.into_iter().map(|n| Value::String(n.into())).collect()),
        }
    }

    pub fn union(self, o: TypeSet) -> TypeSet {
        TypeSet(self.0 | o.0)
    }

    pub fn intersect(self, o: TypeSet) -> TypeSet {
        TypeSet(self.0 & o.0)
    }

    /// Every type of `self` is in `o`.
    pub fn subset_of(self, o: TypeSet) -> bool {
        self.0 & !o.0 == 0
    }

    /// Shares a type with `o`.
    pub fn meets(self, o: TypeSet) -> bool {
        self.0 & o.0 != 0
    }

    /// Readable form: `string`, `integer | null`, `any`.
    pub fn describe(self) -> String {
        if self == Self::ALL {
            return "any".into();
        }
        if self == Self::NONE {
            return "nothing".into();
        }
        let mut names = Vec::new();
        for (t, n) in [
            (Self::NULL, "null"),
            (Self::BOOLEAN, "boolean"),
            (Self::OBJECT, "object"),
            (Self::ARRAY, "array"),
            (Self::STRING, "string"),
        ] {
            if t.subset_of(self) {
                names.push(n);
            }
        }
        if Self::NUMBER.subset_of(self) {
            names.push("number");
        } else if Self::INTEGER.subset_of(self) {
            names.push("integer");
        } else if Self::FRACTION.subset_of(self) {
            names.push("non-integer number");
        }
        names.join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_is_a_number() {
        let int = TypeSet::from_type_keyword(&json!("integer"));
        let num = TypeSet::from_type_keyword(&json!(["number", "null"]));
        assert!(int.subset_of(num));
        assert!(!num.subset_of(int));
        assert_eq!(num.describe(), "null | number");
        assert_eq!(TypeSet::of_value(&json!(2.0)), TypeSet::INTEGER);
    }
}
