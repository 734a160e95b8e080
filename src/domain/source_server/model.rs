//! The source server resource as MGN models it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{
    AccountId, Ec2InstanceId, FollowUpTask, LaunchJobId, Millis, SourceServerId, Timestamp,
};

macro_rules! cloud_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The cloud's name of this value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl $crate::domain::CloudEnum for $name {
            fn values() -> &'static [Self] {
                $name::ALL
            }

            fn cloud_name(self) -> &'static str {
                self.as_str()
            }
        }
    };
}
pub(crate) use cloud_enum;

/// An enum whose values the clouds name in text (`READY_FOR_TEST`,
/// `InError`): every enum [`cloud_enum!`] declares. Lets one parser read
/// any of them by name, so the wires that send text cannot each keep a
/// list of names that drifts from the enum.
pub trait CloudEnum: Copy + Eq + 'static {
    /// Every value, in declaration order.
    fn values() -> &'static [Self];

    /// The cloud's name of this value.
    fn cloud_name(self) -> &'static str;

    /// The value the cloud names `name` (exactly, case included).
    fn from_cloud_name(name: &str) -> Option<Self> {
        Self::values()
            .iter()
            .copied()
            .find(|value| value.cloud_name() == name)
    }
}

cloud_enum!(
    /// MGN's lifecycle states.
    LifeCycleState {
        /// Discovered, not yet replicating.
        Discovered => "DISCOVERED",
        /// Registered; no agent has reported yet.
        PendingInstallation => "PENDING_INSTALLATION",
        /// Agent reporting; first full sync not done.
        NotReady => "NOT_READY",
        /// Replication continuous; a test may be launched.
        ReadyForTest => "READY_FOR_TEST",
        /// Test instance launched.
        Testing => "TESTING",
        /// Cutover may be launched.
        ReadyForCutover => "READY_FOR_CUTOVER",
        /// Cutover instance launched, awaiting finalisation.
        CuttingOver => "CUTTING_OVER",
        /// Cutover finalised.
        Cutover => "CUTOVER",
        /// Disconnected from the service.
        Disconnected => "DISCONNECTED",
        /// Replication stopped.
        Stopped => "STOPPED",
    }
);

cloud_enum!(
    /// MGN's data replication states.
    DataReplicationState {
        /// Not replicating.
        Stopped => "STOPPED",
        /// Setting up replication.
        Initiating => "INITIATING",
        /// First full copy in progress.
        InitialSync => "INITIAL_SYNC",
        /// Writes queued faster than replicated.
        Backlog => "BACKLOG",
        /// Taking a snapshot.
        CreatingSnapshot => "CREATING_SNAPSHOT",
        /// Continuous replication.
        Continuous => "CONTINUOUS",
        /// Paused.
        Paused => "PAUSED",
        /// Rescanning disks.
        Rescan => "RESCAN",
        /// Agent silent.
        Stalled => "STALLED",
        /// Disconnected.
        Disconnected => "DISCONNECTED",
        /// Snapshot shipping pending.
        PendingSnapshotShipping => "PENDING_SNAPSHOT_SHIPPING",
        /// Shipping a snapshot.
        ShippingSnapshot => "SHIPPING_SNAPSHOT",
    }
);

cloud_enum!(
    /// How a server is replicated.
    ReplicationType {
        /// An agent on the source.
        AgentBased => "AGENT_BASED",
        /// Agentless snapshot shipping.
        SnapshotShipping => "SNAPSHOT_SHIPPING",
    }
);

cloud_enum!(
    /// SMC's derived view of a source server.
    SourceState {
        /// Reachable and replicating.
        Available => "Available",
        /// Available with a Running job.
        InUse => "InUse",
        /// Otherwise.
        Unavailable => "Unavailable",
    }
);

cloud_enum!(
    /// MGN's replication initiation steps.
    InitiationStepName {
        /// Waiting to start.
        Wait => "WAIT",
        /// Creating the security group.
        CreateSecurityGroup => "CREATE_SECURITY_GROUP",
        /// Launching the replication server.
        LaunchReplicationServer => "LAUNCH_REPLICATION_SERVER",
        /// Booting the replication server.
        BootReplicationServer => "BOOT_REPLICATION_SERVER",
        /// Authenticating the agent.
        AuthenticateWithService => "AUTHENTICATE_WITH_SERVICE",
        /// Downloading software.
        DownloadReplicationSoftware => "DOWNLOAD_REPLICATION_SOFTWARE",
        /// Creating staging disks.
        CreateStagingDisks => "CREATE_STAGING_DISKS",
        /// Attaching staging disks.
        AttachStagingDisks => "ATTACH_STAGING_DISKS",
        /// Pairing server and agent.
        PairReplicationServerWithAgent => "PAIR_REPLICATION_SERVER_WITH_AGENT",
        /// Connecting the agent.
        ConnectAgentToReplicationServer => "CONNECT_AGENT_TO_REPLICATION_SERVER",
        /// Starting the transfer.
        StartDataTransfer => "START_DATA_TRANSFER",
    }
);

cloud_enum!(
    /// Status of an initiation step.
    InitiationStepStatus {
        /// Not started.
        NotStarted => "NOT_STARTED",
        /// In progress.
        InProgress => "IN_PROGRESS",
        /// Done.
        Succeeded => "SUCCEEDED",
        /// Failed.
        Failed => "FAILED",
        /// Skipped.
        Skipped => "SKIPPED",
    }
);

cloud_enum!(
    /// First boot of a launched instance.
    FirstBoot {
        /// Not booted yet.
        Waiting => "WAITING",
        /// Booted.
        Succeeded => "SUCCEEDED",
        /// Unknown.
        Unknown => "UNKNOWN",
        /// Stopped.
        Stopped => "STOPPED",
    }
);

/// A source server (MGN `SourceServer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceServer {
    /// Owning account.
    pub account_id: AccountId,
    /// `s-` id.
    pub id: SourceServerId,
    /// Archived by MarkAsArchived.
    pub is_archived: bool,
    /// User tags.
    pub tags: BTreeMap<String, String>,
    /// Replication type.
    pub replication_type: ReplicationType,
    /// Last launched test or cutover instance.
    pub launched_instance: Option<LaunchedInstance>,
    /// Source facts.
    pub source_properties: SourceProperties,
    /// Replication state and progress.
    pub data_replication_info: DataReplicationInfo,
    /// Lifecycle state and milestones.
    pub life_cycle: LifeCycle,
    /// Durable follow-up tasks recorded by FinalizeCutover.
    pub follow_up_tasks: Vec<FollowUpTask>,
}

/// A launched test or cutover instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchedInstance {
    /// The EC2 instance.
    pub ec2_instance_id: Ec2InstanceId,
    /// The launch job.
    pub job_id: LaunchJobId,
    /// First-boot state.
    pub first_boot: FirstBoot,
}

/// Facts about the source machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceProperties {
    /// Processors: (cores, model name).
    pub cpus: Vec<Cpu>,
    /// Disks: (device, bytes).
    pub disks: Vec<SourceDisk>,
    /// Host name.
    pub hostname: String,
    /// Fully qualified domain name.
    pub fqdn: String,
    /// VMware UUID.
    pub vm_ware_uuid: String,
    /// EC2 instance id of the source, if on AWS.
    pub aws_instance_id: String,
    /// VMware path.
    pub vm_path: String,
    /// Network interfaces.
    pub network_interfaces: Vec<NetworkInterface>,
    /// Operating system.
    pub os: String,
    /// Memory in bytes.
    pub ram_bytes: i64,
    /// Suggested target instance type.
    pub recommended_instance_type: String,
    /// When the facts were last reported.
    pub last_updated: Option<Timestamp>,
}

/// One processor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cpu {
    /// Cores.
    pub cores: i64,
    /// Model name.
    pub model_name: String,
}

/// One source disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceDisk {
    /// Device name.
    pub device_name: String,
    /// Size in bytes.
    pub bytes: i64,
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkInterface {
    /// MAC address.
    pub mac_address: String,
    /// IP addresses.
    pub ips: Vec<String>,
    /// Primary interface.
    pub is_primary: bool,
}

/// Replication state and progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataReplicationInfo {
    /// Replication state.
    pub state: DataReplicationState,
    /// Lag; `None` (null) until continuous and after cutover.
    pub lag: Option<Millis>,
    /// Estimated end of initial sync; `None` when not syncing.
    pub eta: Option<Timestamp>,
    /// Last consistent snapshot.
    pub last_snapshot: Option<Timestamp>,
    /// Replicated disks (at most 60).
    pub replicated_disks: Vec<ReplicatedDisk>,
    /// Initiation progress.
    pub initiation: Option<DataReplicationInitiation>,
    /// Last error.
    pub error: Option<DataReplicationError>,
}

/// One replicated disk's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicatedDisk {
    /// Device name.
    pub device_name: String,
    /// Bytes to replicate.
    pub total_storage_bytes: i64,
    /// Bytes replicated.
    pub replicated_storage_bytes: i64,
    /// Bytes rescanned.
    pub rescanned_storage_bytes: i64,
    /// Bytes backlogged.
    pub backlogged_storage_bytes: i64,
}

/// Initiation progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataReplicationInitiation {
    /// When it started.
    pub start: Timestamp,
    /// Next attempt after a failure.
    pub next_attempt: Option<Timestamp>,
    /// Steps in order.
    pub steps: Vec<(InitiationStepName, InitiationStepStatus)>,
}

/// A replication error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataReplicationError {
    /// MGN error code.
    pub error: String,
    /// Raw text.
    pub raw_error: String,
}

/// Lifecycle state and milestones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifeCycle {
    /// Current state.
    pub state: LifeCycleState,
    /// When added to the service.
    pub added_to_service: Timestamp,
    /// First replicated byte.
    pub first_byte: Option<Timestamp>,
    /// Time spent replicating.
    pub elapsed_replication: Option<Millis>,
    /// Agent last seen.
    pub last_seen_by_service: Option<Timestamp>,
    /// Last test milestones.
    pub last_test: Option<LastAction>,
    /// Last cutover milestones.
    pub last_cutover: Option<LastAction>,
}

/// Milestones of a test or cutover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastAction {
    /// Launch time.
    pub initiated: Timestamp,
    /// Launch job.
    pub job_id: LaunchJobId,
    /// Revert time.
    pub reverted: Option<Timestamp>,
    /// Finalisation time.
    pub finalized: Option<Timestamp>,
}
