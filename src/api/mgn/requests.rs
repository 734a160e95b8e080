//! MGN request bodies as the control plane's request values, under MGN's
//! member names; enums are read by their cloud names. The limits are the
//! request values' own.

use super::input::Input;
use crate::{
    control_plane::requests::{
        all_by_cloud_name, by_cloud_name, ChangeServerLifeCycleState, DescribeSourceServers,
        DescribeSourceServersFields, LaunchServers, PageFields, PageRequest, ServerFilterInput,
    },
    domain::{DomainError, LifeCycleState, ReplicationType, SourceServerId},
};

const PAGE: PageFields = PageFields {
    size: "maxResults",
    token: "nextToken",
};

const SERVER_LISTING: DescribeSourceServersFields = DescribeSourceServersFields {
    ids: "filters.sourceServerIDs",
    life_cycle_states: "filters.lifeCycleStates",
    application_ids: "filters.applicationIDs",
};

/// The member StartTest and StartCutover list their servers in.
const LAUNCHED: &str = "sourceServerIDs";

/// ChangeServerLifeCycleState's target.
const TARGET: &str = "lifeCycle.state";

/// The operation's `sourceServerID`.
pub(super) fn server_id(input: &Input) -> Result<SourceServerId, DomainError> {
    SourceServerId::parse("sourceServerID", input.required_string("sourceServerID")?)
}

/// DescribeSourceServers: `filters` (absent: everything), `maxResults`
/// (absent: the default) and `nextToken`.
pub(super) fn describe_source_servers(input: &Input) -> Result<DescribeSourceServers, DomainError> {
    let page = PageRequest::new(
        PAGE,
        input.integer(PAGE.size)?,
        input.string(PAGE.token)?.unwrap_or_default(),
    )?;
    let filters = input.object("filters")?;
    let filters = match &filters {
        None => ServerFilterInput::default(),
        Some(filters) => ServerFilterInput {
            ids: filters.strings("sourceServerIDs")?,
            is_archived: filters.bool("isArchived")?,
            replication_types: all_by_cloud_name(
                "filters.replicationTypes",
                &filters.strings("replicationTypes")?,
                ReplicationType::ALL,
            )?,
            life_cycle_states: all_by_cloud_name(
                SERVER_LISTING.life_cycle_states,
                &filters.strings("lifeCycleStates")?,
                LifeCycleState::ALL,
            )?,
            application_ids: filters.strings("applicationIDs")?,
        },
    };
    DescribeSourceServers::new(&SERVER_LISTING, filters, page)
}

/// StartTest's or StartCutover's `sourceServerIDs`.
pub(super) fn launch(input: &Input) -> Result<LaunchServers, DomainError> {
    LaunchServers::new(LAUNCHED, &input.strings(LAUNCHED)?)
}

/// ChangeServerLifeCycleState: `sourceServerID` and `lifeCycle.state`.
pub(super) fn change_life_cycle_state(
    input: &Input,
) -> Result<ChangeServerLifeCycleState, DomainError> {
    let id = server_id(input)?;
    let life = input
        .object("lifeCycle")?
        .ok_or_else(|| DomainError::invalid_field("lifeCycle", "is required"))?;
    let target = by_cloud_name(
        TARGET,
        life.required_string("state")?,
        ChangeServerLifeCycleState::TARGETS,
    )?;
    ChangeServerLifeCycleState::new(TARGET, id, target)
}
