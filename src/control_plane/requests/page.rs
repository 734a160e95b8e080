//! Which page of a listing a request asks for: by token (gRPC, MGN) or by
//! number (SMC).

use std::ops::RangeInclusive;

use crate::domain::DomainError;

/// What a wire calls the fields of a token-paged listing's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageFields {
    /// The page size (`max_results`, `maxResults`).
    pub size: &'static str,
    /// The token of the previous page (`next_token`, `nextToken`).
    pub token: &'static str,
}

/// One page of a listing paged by tokens: its size, and the token of the
/// page it follows (empty for the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    size: usize,
    token: String,
    token_field: &'static str,
}

impl PageRequest {
    /// The page size when the request gives none.
    pub const DEFAULT_SIZE: usize = 1000;
    /// The largest page size.
    pub const MAX_SIZE: usize = 1000;
    /// The longest token: MGN's model bounds `nextToken` so, and no token
    /// this service issues comes near it, so a longer one is refused before
    /// any work.
    pub const MAX_TOKEN_CHARS: usize = 2048;

    /// A page of `size` items (`None`: the default) after the page `token`
    /// ended. Refusals name the wire's `fields`.
    pub fn new(fields: PageFields, size: Option<i64>, token: &str) -> Result<Self, DomainError> {
        let size = match size {
            None => Self::DEFAULT_SIZE,
            Some(n) => count(within(fields.size, n, 1..=Self::MAX_SIZE as i64)?),
        };
        if token.chars().count() > Self::MAX_TOKEN_CHARS {
            return Err(DomainError::invalid_field(
                fields.token,
                format!("must be at most {} characters", Self::MAX_TOKEN_CHARS),
            ));
        }
        Ok(PageRequest {
            size,
            token: token.to_owned(),
            token_field: fields.token,
        })
    }

    /// How many items the page holds at most.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The token of the page this one follows; empty for the first page.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The wire's name of the token, for a refusal of the token itself
    /// (forged, or issued for another query), which only the use case can
    /// tell.
    pub fn token_field(&self) -> &'static str {
        self.token_field
    }
}

/// What a wire calls the fields of a numbered listing's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberedPageFields {
    /// The page number, from 1 (`PageNumber`).
    pub number: &'static str,
    /// The page size (`PageSize`).
    pub size: &'static str,
}

/// One page of a listing paged by number (SMC's): page `number`, from 1,
/// of `size` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberedPageRequest {
    number: usize,
    size: usize,
}

impl NumberedPageRequest {
    /// The page size when the request gives none (SMC's).
    pub const DEFAULT_SIZE: usize = 10;
    /// The largest page size (SMC's).
    pub const MAX_SIZE: usize = 50;
    /// The largest page number: SMC's is an `Integer`.
    pub const MAX_NUMBER: usize = u32::MAX as usize;

    /// Page `number` (`None`: the first) of `size` items (`None`: the
    /// default). Refusals name the wire's `fields`.
    pub fn new(
        fields: NumberedPageFields,
        number: Option<i64>,
        size: Option<i64>,
    ) -> Result<Self, DomainError> {
        let number = match number {
            None => 1,
            Some(n) => count(within(fields.number, n, 1..=Self::MAX_NUMBER as i64)?),
        };
        let size = match size {
            None => Self::DEFAULT_SIZE,
            Some(n) => count(within(fields.size, n, 1..=Self::MAX_SIZE as i64)?),
        };
        Ok(NumberedPageRequest { number, size })
    }

    /// The page number, from 1.
    pub fn number(&self) -> usize {
        self.number
    }

    /// How many items a page holds.
    pub fn size(&self) -> usize {
        self.size
    }
}

/// A count already checked to be positive and small.
fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// `value` of `field` when it lies in `range`; every wire's integers
/// arrive as `i64`, so one check covers negative and oversized numbers
/// alike.
fn within(field: &str, value: i64, range: RangeInclusive<i64>) -> Result<i64, DomainError> {
    match range.contains(&value) {
        true => Ok(value),
        false => Err(DomainError::invalid_field(
            field,
            format!("must be {} to {}, got {value}", range.start(), range.end()),
        )),
    }
}
