//! Commands on a source server.

use std::collections::BTreeMap;

use crate::domain::{
    DataReplicationError, DataReplicationState, Ec2InstanceId, InitiationStepName, InitiationStepStatus,
    LaunchJobId, Millis, ReplicatedDisk, ReplicationType, SourceProperties, Timestamp,
};

/// What RegisterSourceServer knows before an agent reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registration {
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// Replication type.
    pub replication_type: Option<ReplicationType>,
    /// Facts known up front.
    pub source_properties: SourceProperties,
}

/// A launch of a test or cutover instance, with ids drawn by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The launch job.
    pub job_id: LaunchJobId,
    /// The instance launched.
    pub ec2_instance_id: Ec2InstanceId,
}

/// An agent's report on replication.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationReport {
    /// Replication state.
    pub state: DataReplicationState,
    /// Disks with their counters.
    pub replicated_disks: Vec<ReplicatedDisk>,
    /// Lag, once continuous.
    pub lag: Option<Millis>,
    /// Estimated end of initial sync.
    pub eta: Option<Timestamp>,
    /// Initiation steps, when initiating.
    pub initiation_steps: Option<Vec<(InitiationStepName, InitiationStepStatus)>>,
    /// Last error.
    pub error: Option<DataReplicationError>,
    /// New source facts, when they changed.
    pub source_properties: Option<SourceProperties>,
}
