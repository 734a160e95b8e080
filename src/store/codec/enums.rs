//! Domain enums as the storage enums' numbers, and back.
//!
//! Each mapping is two exhaustive matches, so adding a value to a domain
//! enum or to its storage enum fails to compile until both sides have it.

use crate::domain::{
    BusinessStatus, DataReplicationState, EventType, FirstBoot, FollowUpTaskKind,
    InitiationStepName, InitiationStepStatus, LifeCycleState, ReplicationJobStatus,
    ReplicationType, RunPurpose, RunType, SourceState,
};
use crate::pb::storage::v1 as pb;
use crate::store::StoreError;

use super::corrupt;

/// A domain enum stored as a protobuf enum number.
pub(super) trait StoredEnum: Sized + Copy {
    /// The storage enum's name, for error messages.
    const NAME: &'static str;

    /// The storage number of this value (never the unspecified 0).
    fn to_stored(self) -> i32;

    /// The value stored as `number`; `None` for 0 and unknown numbers.
    fn from_stored(number: i32) -> Option<Self>;
}

/// The value stored as `number` in `field`, or corruption naming both.
pub(super) fn enum_value<E: StoredEnum>(number: i32, field: &str) -> Result<E, StoreError> {
    E::from_stored(number).ok_or_else(|| {
        corrupt(
            field,
            format_args!("{number} is not a stored {} value", E::NAME),
        )
    })
}

/// Like [`enum_value`] for an `optional` enum field: absent stays `None`.
pub(super) fn optional_enum_value<E: StoredEnum>(
    number: Option<i32>,
    field: &str,
) -> Result<Option<E>, StoreError> {
    number.map(|n| enum_value(n, field)).transpose()
}

macro_rules! stored_enum {
    ($name:ident { $($variant:ident),+ $(,)? }) => {
        impl StoredEnum for $name {
            const NAME: &'static str = stringify!($name);

            fn to_stored(self) -> i32 {
                match self {
                    $($name::$variant => pb::$name::$variant as i32,)+
                }
            }

            fn from_stored(number: i32) -> Option<Self> {
                match pb::$name::try_from(number) {
                    $(Ok(pb::$name::$variant) => Some($name::$variant),)+
                    Ok(pb::$name::Unspecified) | Err(_) => None,
                }
            }
        }
    };
}

stored_enum!(LifeCycleState {
    Discovered,
    PendingInstallation,
    NotReady,
    ReadyForTest,
    Testing,
    ReadyForCutover,
    CuttingOver,
    Cutover,
    Disconnected,
    Stopped,
});

stored_enum!(DataReplicationState {
    Stopped,
    Initiating,
    InitialSync,
    Backlog,
    CreatingSnapshot,
    Continuous,
    Paused,
    Rescan,
    Stalled,
    Disconnected,
    PendingSnapshotShipping,
    ShippingSnapshot,
});

stored_enum!(ReplicationType {
    AgentBased,
    SnapshotShipping,
});

stored_enum!(InitiationStepName {
    Wait,
    CreateSecurityGroup,
    LaunchReplicationServer,
    BootReplicationServer,
    AuthenticateWithService,
    DownloadReplicationSoftware,
    CreateStagingDisks,
    AttachStagingDisks,
    PairReplicationServerWithAgent,
    ConnectAgentToReplicationServer,
    StartDataTransfer,
});

stored_enum!(InitiationStepStatus {
    NotStarted,
    InProgress,
    Succeeded,
    Failed,
    Skipped,
});

stored_enum!(FirstBoot {
    Waiting,
    Succeeded,
    Unknown,
    Stopped,
});

stored_enum!(FollowUpTaskKind {
    AgentUninstall,
    ReplicationResourcesTeardown,
});

stored_enum!(ReplicationJobStatus {
    Ready,
    Running,
    Stopped,
    InError,
    Finished,
    Waiting,
    Expired,
    Deleting,
});

stored_enum!(BusinessStatus {
    Preparing,
    Syncing,
    Processing,
    Cleaning,
});

stored_enum!(RunType { Manual, Schedule });

stored_enum!(RunPurpose {
    Replication,
    FinalSync,
    Release,
});

stored_enum!(SourceState {
    Available,
    InUse,
    Unavailable,
});

stored_enum!(EventType {
    SourceServerRegistered,
    LifeCycleStateChanged,
    DataReplicationStateChanged,
    ReplicationProgress,
    SourceServerArchived,
    FollowUpTaskCompleted,
    FollowUpTaskOverdue,
    ReplicationJobCreated,
    ReplicationJobStatusChanged,
    ReplicationJobProgress,
    FollowUpTaskDelivered,
    FollowUpTaskProgress,
});
