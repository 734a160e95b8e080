//! Listing files: the tokens, client identities and access keys files,
//! one entry a line, read the same way by every face.

use std::path::Path;

/// One entry of a listing file (bearer tokens, certificate identities,
/// access keys): a line that is neither blank nor a `#` comment, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingEntry {
    /// `path:line`, for errors.
    pub at: String,
    /// The line's text.
    pub text: String,
}

/// The entries of the listing file at `path`.
pub fn listing_entries(path: &Path) -> Result<Vec<ListingEntry>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .enumerate()
        .map(|(number, line)| (number, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(number, line)| ListingEntry {
            at: format!("{}:{}", path.display(), number + 1),
            text: line.to_owned(),
        })
        .collect())
}
