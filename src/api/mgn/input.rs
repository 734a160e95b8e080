//! MGN request bodies: a JSON object read member by member, so that a
//! member of the wrong type is named in ValidationException's `fieldList`.

use serde_json::{Map, Value};

use crate::domain::{DomainError, FieldViolation};

/// A request body's members.
pub(super) struct Input {
    members: Map<String, Value>,
}

/// Why a body is not a JSON object.
pub(super) struct CannotParse(pub String);

impl Input {
    /// `body` as an object; an empty body is `{}` (boto3 sends
    /// InitializeService with none).
    pub(super) fn parse(body: &[u8]) -> Result<Input, CannotParse> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Input {
                members: Map::new(),
            });
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(members)) => Ok(Input { members }),
            Ok(_) => Err(CannotParse("the request body must be a JSON object".into())),
            Err(err) => Err(CannotParse(format!("the request body is not JSON: {err}"))),
        }
    }

    fn present(&self, name: &str) -> Option<&Value> {
        self.members.get(name).filter(|value| !value.is_null())
    }

    /// A string member.
    pub(super) fn string(&self, name: &str) -> Result<Option<&str>, DomainError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(wrong_type(name, "a string")),
        }
    }

    /// A string member the operation requires.
    pub(super) fn required_string(&self, name: &str) -> Result<&str, DomainError> {
        self.string(name)?.ok_or_else(|| missing(name))
    }

    /// A boolean member.
    pub(super) fn bool(&self, name: &str) -> Result<Option<bool>, DomainError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(name, "a boolean")),
        }
    }

    /// An integer member.
    pub(super) fn integer(&self, name: &str) -> Result<Option<i64>, DomainError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(name, "an integer")),
            Some(_) => Err(wrong_type(name, "an integer")),
        }
    }

    /// A list-of-strings member; absent is empty.
    pub(super) fn strings(&self, name: &str) -> Result<Vec<&str>, DomainError> {
        match self.present(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| {
                    item.as_str()
                        .ok_or_else(|| wrong_type(name, "a list of strings"))
                })
                .collect(),
            Some(_) => Err(wrong_type(name, "a list of strings")),
        }
    }

    /// A string-to-string map member; absent is empty.
    pub(super) fn string_map(&self, name: &str) -> Result<Vec<(&str, &str)>, DomainError> {
        match self.present(name) {
            None => Ok(Vec::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|v| (k.as_str(), v))
                        .ok_or_else(|| wrong_type(name, "a map of strings"))
                })
                .collect(),
            Some(_) => Err(wrong_type(name, "a map of strings")),
        }
    }

    /// A structure member.
    pub(super) fn object(&self, name: &str) -> Result<Option<Input>, DomainError> {
        match self.present(name) {
            None => Ok(None),
            Some(Value::Object(members)) => Ok(Some(Input {
                members: members.clone(),
            })),
            Some(_) => Err(wrong_type(name, "a structure")),
        }
    }
}

fn wrong_type(name: &str, expected: &str) -> DomainError {
    DomainError::Validation(vec![FieldViolation {
        field: name.to_owned(),
        description: format!("must be {expected}"),
    }])
}

fn missing(name: &str) -> DomainError {
    DomainError::invalid_field(name, "is required")
}
