//! DescribeReplicationJobs: SMC's filters and a page of jobs, paged by
//! token (gRPC) or by number (SMC).

use super::{id_list, NumberedPageRequest, PageRequest};
use crate::{
    domain::{BusinessStatus, DomainError, ReplicationJobId, ReplicationJobStatus, SourceServerId},
    store::ReplicationJobFilter,
};

/// The most ids a job filter lists, of jobs and of source servers alike
/// (SMC's).
const MAX_IDS: usize = 200;

/// What a wire calls the fields of a job filter that have limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobFilterFields {
    /// The job ids filter.
    pub job_ids: &'static str,
    /// The source server ids filter.
    pub source_ids: &'static str,
}

/// A job filter as a wire read it; empty lists filter nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilterInput<'a> {
    /// Only these jobs, unparsed.
    pub job_ids: Vec<&'a str>,
    /// Only jobs of these source servers, unparsed.
    pub source_ids: Vec<&'a str>,
    /// Only these statuses.
    pub statuses: Vec<ReplicationJobStatus>,
    /// Only these business statuses.
    pub business_statuses: Vec<BusinessStatus>,
}

impl JobFilterInput<'_> {
    /// The filter, at most [`DescribeReplicationJobs::MAX_IDS`] ids of
    /// either kind, each well-formed; refusals name the wire's `fields`.
    fn validate(self, fields: &JobFilterFields) -> Result<ReplicationJobFilter, DomainError> {
        Ok(ReplicationJobFilter {
            ids: id_list(
                fields.job_ids,
                &self.job_ids,
                MAX_IDS,
                ReplicationJobId::parse,
            )?,
            source_ids: id_list(
                fields.source_ids,
                &self.source_ids,
                MAX_IDS,
                SourceServerId::parse,
            )?,
            statuses: self.statuses,
            business_statuses: self.business_statuses,
        })
    }
}

/// DescribeReplicationJobs paged by token: which jobs, and which page.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeReplicationJobs {
    filter: ReplicationJobFilter,
    page: PageRequest,
}

impl DescribeReplicationJobs {
    /// The most ids a filter lists, of jobs and of source servers alike.
    pub const MAX_IDS: usize = MAX_IDS;

    /// The jobs `filter` selects, `page` of them; refusals name the wire's
    /// `fields`.
    pub fn new(
        fields: &JobFilterFields,
        filter: JobFilterInput<'_>,
        page: PageRequest,
    ) -> Result<Self, DomainError> {
        Ok(DescribeReplicationJobs {
            filter: filter.validate(fields)?,
            page,
        })
    }

    /// The filter, as the store applies it.
    pub fn filter(&self) -> &ReplicationJobFilter {
        &self.filter
    }

    /// Which page.
    pub fn page(&self) -> &PageRequest {
        &self.page
    }
}

/// DescribeReplicationJobs paged by number, as SMC pages it, with the
/// filters only SMC's model has.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribeReplicationJobsByNumber {
    filter: ReplicationJobFilter,
    name: Option<String>,
    on_unkept_attributes: bool,
    page: NumberedPageRequest,
}

impl DescribeReplicationJobsByNumber {
    /// The jobs `filter` selects that are named `name` (when given), page
    /// `page` of them. `on_unkept_attributes` tells that the request also
    /// filters on what jobs here do not keep (a target instance, tags), so
    /// that nothing matches. Refusals name the wire's `fields`.
    pub fn new(
        fields: &JobFilterFields,
        filter: JobFilterInput<'_>,
        name: Option<&str>,
        on_unkept_attributes: bool,
        page: NumberedPageRequest,
    ) -> Result<Self, DomainError> {
        Ok(DescribeReplicationJobsByNumber {
            filter: filter.validate(fields)?,
            name: name.map(str::to_owned),
            on_unkept_attributes,
            page,
        })
    }

    /// The filter, as the store applies it.
    pub fn filter(&self) -> &ReplicationJobFilter {
        &self.filter
    }

    /// Only jobs of this name, when given.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether the request filters on what jobs do not keep, so that
    /// nothing matches.
    pub fn on_unkept_attributes(&self) -> bool {
        self.on_unkept_attributes
    }

    /// Which page.
    pub fn page(&self) -> NumberedPageRequest {
        self.page
    }
}
