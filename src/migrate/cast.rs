//! Type conversions of `convert` ops with `cast`: string ↔ integer,
//! number and boolean. Values already of the target type, and `null`, stay.

use serde_json::Value;

use super::prim::{OpFailure, get_mut, type_name};
use statewright_spec::migration::ScalarType;

/// Converts the value at `at` from type `from` to type `to`.
pub fn cast(v: &mut Value, at: &[&str], from: ScalarType, to: ScalarType) -> Result<(), OpFailure> {
    let Some(x) = get_mut(v, at) else {
        return Ok(());
    };
    if x.is_null() || is(x, to) {
        return Ok(());
    }
    if !is(x, from) {
        return Err(OpFailure::at(
            at,
            format!("cannot convert {}: expected {from:?}", type_name(x)),
        ));
    }
    *x =
        convert(x, to).ok_or_else(|| OpFailure::at(at, format!("cannot convert {x} to {to:?}")))?;
    Ok(())
}

fn is(v: &Value, t: ScalarType) -> bool {
    match t {
        ScalarType::String => v.is_string(),
        ScalarType::Integer => v.is_i64() || v.is_u64(),
        ScalarType::Number => v.is_number(),
        ScalarType::Boolean => v.is_boolean(),
    }
}

fn convert(v: &Value, to: ScalarType) -> Option<Value> {
    match (v, to) {
        (Value::String(s), ScalarType::Integer) => s.trim().parse::<i64>().ok().map(Value::from),
        (Value::String(s), ScalarType::Number) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
        (Value::String(s), ScalarType::Boolean) => match s.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        (Value::Number(n), ScalarType::String) => Some(Value::String(n.to_string())),
        (Value::Bool(b), ScalarType::String) => Some(Value::String(b.to_string())),
        (Value::Number(n), ScalarType::Integer) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0)
            .map(|f| Value::from(f as i64)),
        (Value::Number(n), ScalarType::Number) => Some(Value::Number(n.clone())),
        _ => None,
    }
}
