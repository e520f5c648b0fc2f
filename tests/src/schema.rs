//! A JSON Schema (draft 2020-12) validator for the subset vtysh's schemas
//! use (vtysh/schemas/): `type` (one or several), `properties`,
//! `required`, `additionalProperties` (bool or schema), `items`, `enum`,
//! `const`, `minimum`, `maximum`, `minItems`, `anyOf`, `oneOf`, and `$ref`
//! to `#/$defs/NAME`; `$schema`, `$id`, `$defs`, `title`, `description`,
//! `$comment` and `format` are annotations. A keyword outside this set is
//! an error, so a schema never silently relies on something unchecked.
//!
//! The full `jsonschema` crate would bring HTTP resolution, regex engines
//! and format validators the tests do not need; this is the part they do.

use serde_json::Value;

const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "title",
    "description",
    "$comment",
    "format",
];

/// Validates `doc` against `schema` (whose `$defs` resolve `$ref`s).
/// Returns every violation, each with the JSON pointer of the value.
pub fn validate(schema: &Value, doc: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    check(schema, schema, doc, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    let actual = type_name(v);
    actual == t || (t == "number" && actual == "integer")
}

fn check(root: &Value, schema: &Value, doc: &Value, at: &str, errors: &mut Vec<String>) {
    let obj = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            errors.push(format!("{at}: no value is allowed here"));
            return;
        }
        Value::Object(o) => o,
        _ => {
            errors.push(format!("{at}: the schema is not an object"));
            return;
        }
    };
    for (k, s) in obj {
        match k.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => match s
                .as_str()
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| root.get("$defs").and_then(|d| d.get(name)))
            {
                Some(target) => check(root, target, doc, at, errors),
                None => errors.push(format!("{at}: unresolved $ref {s}")),
            },
            "type" => {
                let ok = match s {
                    Value::String(t) => is_type(doc, t),
                    Value::Array(ts) => {
                        ts.iter().filter_map(Value::as_str).any(|t| is_type(doc, t))
                    }
                    _ => false,
                };
                if !ok {
                    errors.push(format!("{at}: {} is not of type {s}", type_name(doc)));
                }
            }
            "properties" => {
                if let (Some(props), Some(o)) = (s.as_object(), doc.as_object()) {
                    for (name, sub) in props {
                        if let Some(v) = o.get(name) {
                            check(root, sub, v, &format!("{at}/{name}"), errors);
                        }
                    }
                }
            }
            "required" => {
                if let (Some(req), Some(o)) = (s.as_array(), doc.as_object()) {
                    for r in req.iter().filter_map(Value::as_str) {
                        if !o.contains_key(r) {
                            errors.push(format!("{at}: required key `{r}` is missing"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(o) = doc.as_object() {
                    let known = obj.get("properties").and_then(Value::as_object);
                    for (name, v) in o {
                        if known.is_some_and(|p| p.contains_key(name)) {
                            continue;
                        }
                        match s {
                            Value::Bool(false) => {
                                errors.push(format!("{at}: key `{name}` is not in the schema"))
                            }
                            _ => check(root, s, v, &format!("{at}/{name}"), errors),
                        }
                    }
                }
            }
            "items" => {
                if let Some(a) = doc.as_array() {
                    for (i, v) in a.iter().enumerate() {
                        check(root, s, v, &format!("{at}/{i}"), errors);
                    }
                }
            }
            "minItems" => {
                if let (Some(n), Some(a)) = (s.as_u64(), doc.as_array()) {
                    if (a.len() as u64) < n {
                        errors.push(format!("{at}: {} items, fewer than {n}", a.len()));
                    }
                }
            }
            "enum" => {
                if !s.as_array().is_some_and(|e| e.contains(doc)) {
                    errors.push(format!("{at}: {doc} is not one of {s}"));
                }
            }
            "const" => {
                if s != doc {
                    errors.push(format!("{at}: {doc} is not {s}"));
                }
            }
            "minimum" | "maximum" => {
                if let (Some(limit), Some(v)) = (s.as_f64(), doc.as_f64()) {
                    if (k == "minimum" && v < limit) || (k == "maximum" && v > limit) {
                        errors.push(format!("{at}: {v} is beyond the {k} {limit}"));
                    }
                }
            }
            "anyOf" | "oneOf" => {
                let Some(alts) = s.as_array() else {
                    errors.push(format!("{at}: {k} is not an array"));
                    continue;
                };
                let passing = alts
                    .iter()
                    .filter(|alt| {
                        let mut e = Vec::new();
                        check(root, alt, doc, at, &mut e);
                        e.is_empty()
                    })
                    .count();
                let ok = if k == "anyOf" {
                    passing > 0
                } else {
                    passing == 1
                };
                if !ok {
                    errors.push(format!(
                        "{at}: {passing} of the {k} alternatives hold for {doc}"
                    ));
                }
            }
            other => errors.push(format!("{at}: schema keyword `{other}` is not supported")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_subset_accepts_and_rejects() {
        let s = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["a", "list"],
            "additionalProperties": false,
            "properties": {
                "a": {"type": "integer", "minimum": 0},
                "b": {"type": ["string", "null"]},
                "state": {"enum": ["up", "down"]},
                "list": {"type": "array", "items": {"$ref": "#/$defs/item"}},
                "any": {"anyOf": [{"type": "string"}, {"type": "integer"}]}
            },
            "$defs": {"item": {"type": "object", "required": ["x"], "properties": {"x": {"type": "number"}}}}
        });
        assert!(validate(
            &s,
            &json!({"a": 1, "b": null, "list": [{"x": 1.5}], "any": 3})
        )
        .is_ok());
        let e = validate(
            &s,
            &json!({"a": -1, "b": 2, "state": "sideways", "list": [{"y": 1}], "any": [], "c": 1}),
        )
        .unwrap_err();
        for want in [
            "/a: -1 is beyond the minimum",
            "/b: integer is not of type",
            "/state: \"sideways\" is not one of",
            "/list/0: required key `x` is missing",
            "/any: 0 of the anyOf",
            ": key `c` is not in the schema",
        ] {
            assert!(e.iter().any(|x| x.contains(want)), "{want:?} not in {e:#?}");
        }
        assert!(
            validate(&json!({"pattern": "x"}), &json!("x")).unwrap_err()[0]
                .contains("not supported")
        );
        assert!(validate(&json!({"$ref": "#/$defs/none"}), &json!(1)).is_err());
    }
}
