//! Identifiers, validated on the way in and generated from a caller-supplied
//! random source (the domain has no randomness of its own).

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::DomainError;

const ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER_ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const HEX: &[u8] = b"0123456789abcdef";

/// The text of an identifier kept inline: ids are copied into every index
/// of the read model, and a heap string per copy cost both memory and an
/// allocation per clone. Holds only the ASCII bytes `parse` accepted.
fn text(bytes: &[u8]) -> &str {
    // Only validated ASCII is ever stored, so this never falls back.
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// A table of which bytes `alphabet` holds: ids are checked on every
/// request, and a scan of the alphabet per byte showed in profiles.
const fn membership(alphabet: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = true;
        i += 1;
    }
    table
}

fn well_formed(value: &str, prefix: &str, alphabet: &[bool; 256], len: usize) -> bool {
    value
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == len && rest.bytes().all(|b| alphabet[usize::from(b)]))
}

/// `value`'s bytes as an array, when it has exactly `N` of them.
fn inline<const N: usize>(value: &str) -> Option<[u8; N]> {
    value.as_bytes().try_into().ok()
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $alphabet:expr, $len:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name([u8; $prefix.len() + $len]);

        impl $name {
            /// Parses `value`, naming `field` in the validation error.
            pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
                match inline(value) {
                    Some(bytes) if well_formed(value, $prefix, &const { membership($alphabet) }, $len) => {
                        Ok(Self(bytes))
                    }
                    _ => Err(DomainError::invalid_field(
                        field,
                        format!(concat!("must be ", $what, ", got {:?}"), value),
                    )),
                }
            }

            /// A fresh identifier drawn from `rng`.
            pub fn generate(rng: &mut impl Rng) -> Self {
                let mut bytes = [0u8; $prefix.len() + $len];
                let (prefix, rest) = bytes.split_at_mut($prefix.len());
                prefix.copy_from_slice($prefix.as_bytes());
                for byte in rest {
                    *byte = $alphabet[rng.gen_range(0..$alphabet.len())];
                }
                Self(bytes)
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                text(&self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(value: String) -> Result<Self, DomainError> {
                Self::parse(stringify!($name), &value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.as_str().to_owned()
            }
        }
    };
}

identifier!(
    /// A source server: `s-` + 17 of `[0-9a-zA-Z]`.
    SourceServerId, "s-", ALNUM, 17, "`s-` followed by 17 letters or digits"
);
identifier!(
    /// A replication job: `j-` + 20 of `[0-9a-z]`.
    ReplicationJobId, "j-", LOWER_ALNUM, 20, "`j-` followed by 20 lowercase letters or digits"
);
identifier!(
    /// A launch job of a test or cutover: `mgnjob-` + 17 of `[0-9a-zA-Z]`.
    LaunchJobId, "mgnjob-", ALNUM, 17, "`mgnjob-` followed by 17 letters or digits"
);
identifier!(
    /// A launched EC2 instance: `i-` + 17 hex digits.
    Ec2InstanceId, "i-", HEX, 17, "`i-` followed by 17 hex digits"
);
identifier!(
    /// A follow-up task: `task-` + 20 of `[0-9a-z]`.
    FollowUpTaskId, "task-", LOWER_ALNUM, 20, "`task-` followed by 20 lowercase letters or digits"
);

/// An account: 12 decimal digits.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId([u8; 12]);

impl AccountId {
    /// Parses a 12-digit account id, naming `field` in the validation error.
    pub fn parse(field: &str, value: &str) -> Result<Self, DomainError> {
        match inline(value) {
            Some(bytes) if value.bytes().all(|b| b.is_ascii_digit()) => Ok(Self(bytes)),
            _ => Err(DomainError::invalid_field(
                field,
                format!("must be 12 digits, got {value:?}"),
            )),
        }
    }

    /// The account id as text.
    pub fn as_str(&self) -> &str {
        text(&self.0)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({:?})", self.as_str())
    }
}

impl TryFrom<String> for AccountId {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, DomainError> {
        Self::parse("account_id", &value)
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn generated_ids_parse_back() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..100 {
            let s = SourceServerId::generate(&mut rng);
            assert_eq!(SourceServerId::parse("f", s.as_str()).unwrap(), s);
            let j = ReplicationJobId::generate(&mut rng);
            assert_eq!(ReplicationJobId::parse("f", j.as_str()).unwrap(), j);
            let l = LaunchJobId::generate(&mut rng);
            assert_eq!(l.as_str().len(), 24);
        }
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "s-",
            "s-123",
            "s-0123456789abcdefgh",
            "x-0123456789abcdefg",
            "s-0123456789abcdef!",
        ] {
            assert!(SourceServerId::parse("f", bad).is_err(), "{bad}");
        }
        assert!(SourceServerId::parse("f", "s-0123456789abcdefG").is_ok());
        assert!(ReplicationJobId::parse("f", "j-0123456789abcdefghiJ").is_err());
        assert!(AccountId::parse("f", "12345678901").is_err());
        assert!(AccountId::parse("f", "123456789012").is_ok());
    }
}
