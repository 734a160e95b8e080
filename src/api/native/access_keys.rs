//! Access keys of the clouds' native protocols: the keys file maps each
//! access key id to its secret and the account it acts for, like the
//! tokens file does for gRPC bearer tokens. Signatures are HMACs keyed by
//! the secret, so the file holds secrets, not digests: keep it readable by
//! `cutoverd` alone (a group- or world-readable file is refused).

use std::{collections::HashMap, path::Path};

use crate::{control_plane::Caller, domain::AccountId};

/// One access key: its secret and the account it acts for.
#[derive(Clone)]
pub struct AccessKey {
    /// The secret access key, the HMAC key of every signature.
    pub secret: String,
    /// The account a call signed with this key acts for.
    pub caller: Caller,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("secret", &"<redacted>")
            .field("caller", &self.caller)
            .finish()
    }
}

/// Who may sign native-protocol requests.
#[derive(Debug, Clone)]
pub enum Signers {
    /// No keys file (loopback development): any well-formed signature, with
    /// any key, acts as the built-in account, as gRPC does without tokens.
    BuiltIn(Caller),
    /// The keys of the keys file, by access key id.
    Keys(HashMap<String, AccessKey>),
}

impl Signers {
    /// The keys of `path`: lines of `ACCESS_KEY_ID SECRET ACCOUNT_ID`;
    /// blank lines and `#` comments are skipped.
    pub fn from_file(path: &Path) -> Result<Signers, String> {
        refuse_shared_file(path)?;
        let mut keys = HashMap::new();
        for entry in crate::api::listing_file::listing_entries(path)? {
            let at = || entry.at.clone();
            let mut parts = entry.text.split_whitespace();
            let (Some(id), Some(secret), Some(account), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(format!(
                    "{}: expected `ACCESS_KEY_ID SECRET ACCOUNT_ID`",
                    at()
                ));
            };
            let account_id =
                AccountId::parse("account", account).map_err(|e| format!("{}: {e}", at()))?;
            let key = AccessKey {
                secret: secret.to_owned(),
                caller: Caller { account_id },
            };
            if keys.insert(id.to_owned(), key).is_some() {
                return Err(format!("{}: access key {id} is listed twice", at()));
            }
        }
        Ok(Signers::Keys(keys))
    }
}

/// Secrets must not be readable by other users of the machine.
#[cfg(unix)]
fn refuse_shared_file(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("reading {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} holds secret keys but is readable by others (mode {:o}): chmod 600 it",
            path.display(),
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_shared_file(_: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str, mode: u32) -> tempfile::NamedTempFile {
        use std::os::unix::fs::PermissionsExt;
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write");
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
        file
    }

    #[test]
    fn reads_keys_and_skips_comments() {
        let file = write(
            "# keys\n\nAKID1 secret1 111122223333\nAKID2 s2 444455556666\n",
            0o600,
        );
        let Ok(Signers::Keys(keys)) = Signers::from_file(file.path()) else {
            panic!("keys expected");
        };
        assert_eq!(keys.len(), 2);
        assert_eq!(keys["AKID1"].secret, "secret1");
        assert_eq!(keys["AKID2"].caller.account_id.as_str(), "444455556666");
    }

    #[test]
    fn refuses_bad_lines_duplicates_and_shared_files() {
        for (text, mode, expected) in [
            ("AKID secret\n", 0o600, "expected `ACCESS_KEY_ID"),
            ("AKID secret 12\n", 0o600, ":1:"),
            (
                "A s 111122223333\nA t 111122223333\n",
                0o600,
                "listed twice",
            ),
            ("A s 111122223333\n", 0o644, "readable by others"),
        ] {
            let file = write(text, mode);
            let err = Signers::from_file(file.path()).expect_err(text);
            assert!(err.contains(expected), "{err} should say {expected}");
        }
    }
}
