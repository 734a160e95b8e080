//! DescribeSourceServers: MGN's filters and a page of servers.

use super::{at_most, id_list, PageRequest};
use crate::{
    domain::{DomainError, LifeCycleState, ReplicationType, SourceServerId},
    store::SourceServerFilter,
};

/// What a wire calls the fields of DescribeSourceServers that have limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescribeSourceServersFields {
    /// The source server ids filter.
    pub ids: &'static str,
    /// The lifecycle states filter.
    pub life_cycle_states: &'static str,
    /// The application ids filter.
    pub application_ids: &'static str,
}

/// DescribeSourceServers' filters as a wire read them; absent lists are
/// empty (no filter).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerFilterInput<'a> {
    /// Only these ids, unparsed.
    pub ids: Vec<&'a str>,
    /// Only archived or unarchived servers.
    pub is_archived: Option<bool>,
    /// Only these replication types.
    pub replication_types: Vec<ReplicationType>,
    /// Only these lifecycle states.
    pub life_cycle_states: Vec<LifeCycleState>,
    /// Only servers of these applications (MGN's; gRPC has none).
    pub application_ids: Vec<&'a str>,
}

/// DescribeSourceServers: which servers, and which page of them.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeSourceServers {
    filter: SourceServerFilter,
    names_applications: bool,
    page: PageRequest,
}

impl DescribeSourceServers {
    /// The most ids a filter lists (MGN's).
    pub const MAX_IDS: usize = 200;
    /// The most lifecycle states a filter lists (MGN's).
    pub const MAX_LIFE_CYCLE_STATES: usize = 10;
    /// The most application ids a filter lists (MGN's).
    pub const MAX_APPLICATION_IDS: usize = 200;

    /// The servers `filters` selects, `page` of them. Refusals name the
    /// wire's `fields`.
    pub fn new(
        fields: &DescribeSourceServersFields,
        filters: ServerFilterInput<'_>,
        page: PageRequest,
    ) -> Result<Self, DomainError> {
        at_most(
            fields.life_cycle_states,
            filters.life_cycle_states.len(),
            Self::MAX_LIFE_CYCLE_STATES,
        )?;
        at_most(
            fields.application_ids,
            filters.application_ids.len(),
            Self::MAX_APPLICATION_IDS,
        )?;
        let filter = SourceServerFilter {
            ids: id_list(
                fields.ids,
                &filters.ids,
                Self::MAX_IDS,
                SourceServerId::parse,
            )?,
            is_archived: filters.is_archived,
            replication_types: filters.replication_types,
            life_cycle_states: filters.life_cycle_states,
        };
        Ok(DescribeSourceServers {
            filter,
            names_applications: !filters.application_ids.is_empty(),
            page,
        })
    }

    /// The filter, as the store applies it.
    pub fn filter(&self) -> &SourceServerFilter {
        &self.filter
    }

    /// Whether the filter names applications: no server belongs to one
    /// here, so then nothing matches.
    pub fn names_applications(&self) -> bool {
        self.names_applications
    }

    /// Which page.
    pub fn page(&self) -> &PageRequest {
        &self.page
    }
}
