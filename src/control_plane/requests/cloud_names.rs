//! The one reader of enums a wire sends as text (MGN's `lifeCycleStates`,
//! SMC's `Status`): by the names `cloud_enum!` declares with each value,
//! so no wire keeps a list of names of its own.

use crate::domain::{CloudEnum, DomainError};

/// `name` as one of `allowed`, by its cloud name (exact, case included);
/// a refusal on `field` lists what is allowed.
pub fn by_cloud_name<E: CloudEnum>(
    field: &str,
    name: &str,
    allowed: &[E],
) -> Result<E, DomainError> {
    E::from_cloud_name(name)
        .filter(|value| allowed.contains(value))
        .ok_or_else(|| not_one_of(field, &format!("{name:?}"), allowed))
}

/// Every name of `names` as one of `allowed`, in order; the first that is
/// none is the refusal.
pub fn all_by_cloud_name<E: CloudEnum>(
    field: &str,
    names: &[&str],
    allowed: &[E],
) -> Result<Vec<E>, DomainError> {
    names
        .iter()
        .map(|name| by_cloud_name(field, name, allowed))
        .collect()
}

/// `value` when it is one of `allowed`: for a value a wire decoded without
/// its names (gRPC's numbers), held to the same choices.
pub(super) fn one_of<E: CloudEnum>(field: &str, value: E, allowed: &[E]) -> Result<E, DomainError> {
    match allowed.contains(&value) {
        true => Ok(value),
        false => Err(not_one_of(field, value.cloud_name(), allowed)),
    }
}

fn not_one_of<E: CloudEnum>(field: &str, shown: &str, allowed: &[E]) -> DomainError {
    let names: Vec<&str> = allowed.iter().map(|value| value.cloud_name()).collect();
    DomainError::invalid_field(field, format!("{shown} is not one of {}", names.join(", ")))
}
