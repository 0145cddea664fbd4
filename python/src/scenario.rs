//! Scenario dicts: a Python mapping becomes the TOML text a scenario file would hold, one
//! line per value, so a parse error's line names the key at fault.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// A TOML value from a Python value; `key` (the dotted path) names it in errors.
pub fn to_toml(v: &Bound<'_, PyAny>, key: &str) -> Result<toml::Value, String> {
    // bool before int: Python's bool is an int.
    if v.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(
            v.extract::<bool>().map_err(|e| e.to_string())?,
        ));
    }
    if v.is_instance_of::<PyInt>() {
        return v
            .extract::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("{key}: {v} is out of range for a TOML integer"));
    }
    if v.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(
            v.extract::<f64>().map_err(|e| e.to_string())?,
        ));
    }
    if v.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(
            v.extract::<String>().map_err(|e| e.to_string())?,
        ));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut t = toml::Table::new();
        for (k, x) in d.iter() {
            let k: String = k.extract().map_err(|_| {
                format!(
                    "{key}: the keys of a table must be strings, got {}",
                    type_name(&k)
                )
            })?;
            let path = if key.is_empty() {
                k.clone()
            } else {
                format!("{key}.{k}")
            };
            t.insert(k, to_toml(&x, &path)?);
        }
        return Ok(toml::Value::Table(t));
    }
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        let mut a = vec![];
        for (i, x) in v.try_iter().map_err(|e| e.to_string())?.enumerate() {
            let x = x.map_err(|e| e.to_string())?;
            a.push(to_toml(&x, &format!("{key}[{i}]"))?);
        }
        return Ok(toml::Value::Array(a));
    }
    // A pathlib.Path (any os.PathLike) is its string.
    if v.hasattr("__fspath__").unwrap_or(false) {
        if let Ok(s) = v
            .call_method0("__fspath__")
            .and_then(|s| s.extract::<String>())
        {
            return Ok(toml::Value::String(s));
        }
    }
    if v.is_none() {
        return Err(format!(
            "{key}: None is not a scenario value; leave the key out for its default"
        ));
    }
    Err(format!(
        "{key}: expected a bool, int, float, str, list or dict, got {}",
        type_name(v)
    ))
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A key as TOML writes it: bare when it can be, else quoted.
fn key_text(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_owned()
    } else {
        toml::Value::String(k.to_owned()).to_string()
    }
}

/// The table as TOML text, one `dotted.key = value` line per value (tables in arrays and
/// empty tables inline), and the dotted key of every line.
pub fn flat_text(t: &toml::Table) -> (String, Vec<String>) {
    fn walk(
        t: &toml::Table,
        prefix: &[String],
        shown: &str,
        text: &mut String,
        keys: &mut Vec<String>,
    ) {
        for (k, v) in t {
            let mut p = prefix.to_vec();
            p.push(key_text(k));
            let shown_key = if shown.is_empty() {
                k.clone()
            } else {
                format!("{shown}.{k}")
            };
            match v {
                toml::Value::Table(inner) if !inner.is_empty() => {
                    walk(inner, &p, &shown_key, text, keys)
                }
                _ => {
                    text.push_str(&p.join("."));
                    text.push_str(" = ");
                    text.push_str(&v.to_string());
                    text.push('\n');
                    keys.push(shown_key);
                }
            }
        }
    }
    let (mut text, mut keys) = (String::new(), vec![]);
    walk(t, &[], "", &mut text, &mut keys);
    (text, keys)
}

/// The message of a scenario error, with a parse error's `line L, column C` replaced by the
/// key on that line of [`flat_text`]'s text.
pub fn name_key(e: &faasim_experiments::ScenarioError, keys: &[String]) -> String {
    use faasim_experiments::ScenarioError;
    if let ScenarioError::Parse {
        path,
        location,
        message,
    } = e
    {
        let line = location
            .strip_prefix("line ")
            .and_then(|r| r.split(',').next())
            .and_then(|n| n.trim().parse::<usize>().ok());
        let key = line.and_then(|l| keys.get(l.wrapping_sub(1)));
        // A table-level error (a missing or unknown field) is reported at the table's
        // first line: its message names the field, the key would mislead.
        let table_level =
            message.starts_with("missing field") || message.starts_with("unknown field");
        if let (Some(k), false) = (key, table_level) {
            return format!("{}: {k}: {message}", path.display());
        }
        if location.starts_with("line ") {
            return format!("{}: {message}", path.display());
        }
    }
    e.to_string()
}
