//! Accounts: tokens files and bearer tokens on requests.

use std::path::{Path, PathBuf};

use sha2::Digest;
use tempfile::TempDir;
use tonic::Request;

/// The hex SHA-256 of a token, as a tokens file lists it (computed here,
/// independently of the service's own code).
pub fn token_digest(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// Writes `dir/tokens` granting each `(token, account)`, after a comment
/// and a blank line; returns its path.
pub fn write_tokens(dir: &Path, tokens: &[(&str, &str)]) -> PathBuf {
    let path = dir.join("tokens");
    let mut text = String::from("# test tokens\n\n");
    for (token, account) in tokens {
        text.push_str(&format!("{} {account}\n", token_digest(token)));
    }
    std::fs::write(&path, text).expect("write tokens file");
    path
}

/// A tokens file in a temporary directory of its own, removed on drop.
pub struct TokensFile {
    _dir: TempDir,
    path: String,
}

impl TokensFile {
    /// A file granting each `(token, account)`.
    pub fn new(tokens: &[(&str, &str)]) -> TokensFile {
        let dir = TempDir::new().expect("temp dir");
        let path = write_tokens(dir.path(), tokens)
            .to_str()
            .expect("utf-8 path")
            .to_owned();
        TokensFile { _dir: dir, path }
    }

    /// Its path, for `--tokens-file`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// `message` as a request authenticated by `token`.
pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}
