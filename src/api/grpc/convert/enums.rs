//! Domain enums against their protobuf enums.
//!
//! Proto enums travel as `i32`. Outbound, every domain value has a proto
//! value. Inbound, a number that names no value of the enum, or its
//! `*_UNSPECIFIED` zero where a value is required, is a validation error
//! naming the request field.
//!
//! The domain and proto enums use the same variant names, so one macro
//! writes both matches; neither has a wildcard arm, so adding a value to
//! either side without the other fails to compile.

use crate::{
    domain::{
        agent_command::CommandKind, BusinessStatus, DataReplicationState, DomainError, EventType,
        FirstBoot, FollowUpTaskKind, InitiationStepName, InitiationStepStatus, LifeCycleState,
        ReplicationJobStatus, ReplicationType, ResourceKind, RunType, SourceState,
    },
    pb::v1 as pb,
};

/// A domain enum with a protobuf counterpart whose zero is `*_UNSPECIFIED`.
pub trait ProtoEnum: Copy + Sized + 'static {
    /// The generated protobuf enum.
    type Proto: Copy + Into<i32>;

    /// Name of the protobuf enum, for error messages.
    const PROTO_NAME: &'static str;

    /// The protobuf value of this domain value.
    fn to_proto(self) -> Self::Proto;

    /// The domain value of a protobuf value; `None` for `*_UNSPECIFIED`
    /// (and for values the domain has no counterpart of).
    fn from_proto(proto: Self::Proto) -> Option<Self>;

    /// The protobuf value numbered `number`, if there is one.
    fn proto_from_i32(number: i32) -> Option<Self::Proto>;

    /// The protobuf value's name, such as `LIFE_CYCLE_STATE_CUTOVER`.
    fn proto_str_name(proto: Self::Proto) -> &'static str;
}

/// The wire number of a domain value.
pub fn encode<E: ProtoEnum>(value: E) -> i32 {
    value.to_proto().into()
}

/// The wire number of an optional domain value; `None` is `*_UNSPECIFIED`
/// (0).
pub fn encode_optional<E: ProtoEnum>(value: Option<E>) -> i32 {
    value.map_or(0, encode)
}

/// Decodes a field where `*_UNSPECIFIED` (0) means "not given": `Ok(None)`
/// for it, an error naming `field` for a number that is no value of the
/// enum.
pub fn decode_optional<E: ProtoEnum>(field: &str, number: i32) -> Result<Option<E>, DomainError> {
    let proto = E::proto_from_i32(number).ok_or_else(|| {
        DomainError::invalid_field(
            field,
            format!("{number} is not a value of {}", E::PROTO_NAME),
        )
    })?;
    Ok(E::from_proto(proto))
}

/// Decodes a field that requires a value: an unknown number or
/// `*_UNSPECIFIED` is an error naming `field`.
pub fn decode<E: ProtoEnum>(field: &str, number: i32) -> Result<E, DomainError> {
    decode_optional(field, number)?.ok_or_else(|| {
        let name = E::proto_from_i32(number).map_or("UNSPECIFIED", E::proto_str_name);
        DomainError::invalid_field(
            field,
            format!(
                "{name} is not accepted; a {} value is required",
                E::PROTO_NAME
            ),
        )
    })
}

/// Decodes a repeated field where every element requires a value; the
/// error names `field` and, in its description, the element's index.
pub fn decode_all<E: ProtoEnum>(field: &str, numbers: &[i32]) -> Result<Vec<E>, DomainError> {
    numbers
        .iter()
        .enumerate()
        .map(|(index, &number)| {
            decode(field, number).map_err(|err| match err {
                DomainError::Validation(mut violations) => {
                    for v in &mut violations {
                        v.description = format!("element {index}: {}", v.description);
                    }
                    DomainError::Validation(violations)
                }
                other => other,
            })
        })
        .collect()
}

/// Implements [`ProtoEnum`] for a domain enum whose variants are named as
/// the proto enum's, apart from the proto's `Unspecified`.
macro_rules! same_names {
    ($domain:ident => $proto:ident { $($variant:ident),+ $(,)? }) => {
        impl ProtoEnum for $domain {
            type Proto = pb::$proto;

            const PROTO_NAME: &'static str = stringify!($proto);

            fn to_proto(self) -> pb::$proto {
                match self {
                    $($domain::$variant => pb::$proto::$variant,)+
                }
            }

            fn from_proto(proto: pb::$proto) -> Option<Self> {
                match proto {
                    pb::$proto::Unspecified => None,
                    $(pb::$proto::$variant => Some($domain::$variant),)+
                }
            }

            fn proto_from_i32(number: i32) -> Option<pb::$proto> {
                pb::$proto::try_from(number).ok()
            }

            fn proto_str_name(proto: pb::$proto) -> &'static str {
                proto.as_str_name()
            }
        }
    };
}

same_names!(LifeCycleState => LifeCycleState {
    Discovered, PendingInstallation, NotReady, ReadyForTest, Testing, ReadyForCutover,
    CuttingOver, Cutover, Disconnected, Stopped,
});
same_names!(DataReplicationState => DataReplicationState {
    Stopped, Initiating, InitialSync, Backlog, CreatingSnapshot, Continuous, Paused, Rescan,
    Stalled, Disconnected, PendingSnapshotShipping, ShippingSnapshot,
});
same_names!(ReplicationType => ReplicationType { AgentBased, SnapshotShipping });
same_names!(SourceState => SourceState { Available, InUse, Unavailable });
same_names!(FirstBoot => FirstBoot { Waiting, Succeeded, Unknown, Stopped });
same_names!(InitiationStepName => InitiationStepName {
    Wait, CreateSecurityGroup, LaunchReplicationServer, BootReplicationServer,
    AuthenticateWithService, DownloadReplicationSoftware, CreateStagingDisks, AttachStagingDisks,
    PairReplicationServerWithAgent, ConnectAgentToReplicationServer, StartDataTransfer,
});
same_names!(InitiationStepStatus => InitiationStepStatus {
    NotStarted, InProgress, Succeeded, Failed, Skipped,
});
same_names!(FollowUpTaskKind => FollowUpTaskKind { AgentUninstall, ReplicationResourcesTeardown });
same_names!(ReplicationJobStatus => ReplicationJobStatus {
    Ready, Running, Stopped, InError, Finished, Waiting, Expired, Deleting,
});
same_names!(BusinessStatus => ReplicationJobBusinessStatus {
    Preparing, Syncing, Processing, Cleaning,
});
same_names!(RunType => ReplicationJobRunType { Manual, Schedule });
same_names!(CommandKind => AgentCommandKind {
    RunIncrementalSync, RunFinalSync, ReleaseResources, UninstallAgent, TeardownReplicationResources,
});
same_names!(EventType => LifecycleEventType {
    SourceServerRegistered, LifeCycleStateChanged, DataReplicationStateChanged,
    ReplicationProgress, SourceServerArchived, FollowUpTaskCompleted, FollowUpTaskOverdue,
    ReplicationJobCreated, ReplicationJobStatusChanged, ReplicationJobProgress, FollowUpTaskDelivered,
    FollowUpTaskProgress,
});

/// Events are only ever about source servers and replication jobs; the
/// domain's `Account` kind (used in errors) has no `ResourceType` and is
/// sent as `RESOURCE_TYPE_UNSPECIFIED`.
impl ProtoEnum for ResourceKind {
    type Proto = pb::ResourceType;

    const PROTO_NAME: &'static str = "ResourceType";

    fn to_proto(self) -> pb::ResourceType {
        match self {
            ResourceKind::Account => pb::ResourceType::Unspecified,
            ResourceKind::SourceServer => pb::ResourceType::SourceServer,
            ResourceKind::ReplicationJob => pb::ResourceType::ReplicationJob,
        }
    }

    fn from_proto(proto: pb::ResourceType) -> Option<Self> {
        match proto {
            pb::ResourceType::Unspecified => None,
            pb::ResourceType::SourceServer => Some(ResourceKind::SourceServer),
            pb::ResourceType::ReplicationJob => Some(ResourceKind::ReplicationJob),
        }
    }

    fn proto_from_i32(number: i32) -> Option<pb::ResourceType> {
        pb::ResourceType::try_from(number).ok()
    }

    fn proto_str_name(proto: pb::ResourceType) -> &'static str {
        proto.as_str_name()
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Debug;

    use super::*;
    use crate::api::grpc::convert::tests::violated_field;

    /// Every value survives domain → proto → domain, no two values share a
    /// number, no value is sent as 0, and the proto name ends with the
    /// domain's cloud name (underscores and case aside: `InUse` and
    /// `SOURCE_STATE_IN_USE`).
    fn round_trips<E: ProtoEnum + PartialEq + Debug>(
        all: &[E],
        cloud_name: impl Fn(E) -> &'static str,
    ) {
        let mut seen = std::collections::HashSet::new();
        for &value in all {
            let number = encode(value);
            assert_ne!(number, 0, "{value:?} encodes as UNSPECIFIED");
            assert!(seen.insert(number), "{value:?} shares number {number}");
            assert_eq!(decode::<E>("f", number), Ok(value));
            assert_eq!(decode_optional::<E>("f", number), Ok(Some(value)));
            let proto_name = E::proto_str_name(value.to_proto());
            let expected = cloud_name(value).to_ascii_uppercase();
            assert!(
                proto_name
                    .replace('_', "")
                    .ends_with(&expected.replace('_', "")),
                "{value:?}: {proto_name} does not name {expected}"
            );
        }
    }

    /// Every number outside the enum is rejected naming the field, and 0 is
    /// rejected where required and `None` where optional.
    fn rejects_unknown<E: ProtoEnum + PartialEq + Debug>(known: i32) {
        let field = "filters.life_cycle_states";
        assert_eq!(violated_field(decode::<E>(field, 0)), field);
        assert_eq!(decode_optional::<E>(field, 0), Ok(None));
        let unknown = [-1, i32::MIN, i32::MAX, known + 1, known + 100];
        for number in unknown {
            assert_eq!(
                violated_field(decode::<E>(field, number)),
                field,
                "{number}"
            );
            assert_eq!(
                violated_field(decode_optional::<E>(field, number)),
                field,
                "{number}"
            );
        }
        for number in 1..=known {
            assert!(decode::<E>(field, number).is_ok(), "{number}");
        }
    }

    #[test]
    fn every_value_round_trips() {
        round_trips(LifeCycleState::ALL, LifeCycleState::as_str);
        round_trips(DataReplicationState::ALL, DataReplicationState::as_str);
        round_trips(ReplicationType::ALL, ReplicationType::as_str);
        round_trips(SourceState::ALL, SourceState::as_str);
        round_trips(FirstBoot::ALL, FirstBoot::as_str);
        round_trips(InitiationStepName::ALL, InitiationStepName::as_str);
        round_trips(InitiationStepStatus::ALL, InitiationStepStatus::as_str);
        round_trips(FollowUpTaskKind::ALL, FollowUpTaskKind::as_str);
        round_trips(ReplicationJobStatus::ALL, ReplicationJobStatus::as_str);
        round_trips(BusinessStatus::ALL, BusinessStatus::as_str);
        round_trips(RunType::ALL, RunType::as_str);
        round_trips(EventType::ALL, EventType::as_str);
        round_trips(
            &[ResourceKind::SourceServer, ResourceKind::ReplicationJob],
            |k| match k {
                ResourceKind::SourceServer => "SOURCE_SERVER",
                _ => "REPLICATION_JOB",
            },
        );
    }

    fn count<T>(all: &[T]) -> i32 {
        i32::try_from(all.len()).expect("a small enum")
    }

    #[test]
    fn unknown_numbers_are_rejected() {
        rejects_unknown::<LifeCycleState>(count(LifeCycleState::ALL));
        rejects_unknown::<DataReplicationState>(count(DataReplicationState::ALL));
        rejects_unknown::<ReplicationType>(count(ReplicationType::ALL));
        rejects_unknown::<SourceState>(count(SourceState::ALL));
        rejects_unknown::<FirstBoot>(count(FirstBoot::ALL));
        rejects_unknown::<InitiationStepName>(count(InitiationStepName::ALL));
        rejects_unknown::<InitiationStepStatus>(count(InitiationStepStatus::ALL));
        rejects_unknown::<FollowUpTaskKind>(count(FollowUpTaskKind::ALL));
        rejects_unknown::<ReplicationJobStatus>(count(ReplicationJobStatus::ALL));
        rejects_unknown::<BusinessStatus>(count(BusinessStatus::ALL));
        rejects_unknown::<RunType>(count(RunType::ALL));
        rejects_unknown::<EventType>(count(EventType::ALL));
        rejects_unknown::<ResourceKind>(2);
    }

    #[test]
    fn optional_values_encode_none_as_unspecified() {
        assert_eq!(encode_optional::<BusinessStatus>(None), 0);
        assert_eq!(
            encode_optional(Some(BusinessStatus::Cleaning)),
            pb::ReplicationJobBusinessStatus::Cleaning as i32
        );
        assert_eq!(encode(ResourceKind::Account), 0);
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let Err(DomainError::Validation(v)) = decode::<LifeCycleState>("state", 0) else {
            panic!("expected a validation error");
        };
        assert!(
            v[0].description.contains("LIFE_CYCLE_STATE_UNSPECIFIED"),
            "{v:?}"
        );
        let Err(DomainError::Validation(v)) = decode::<LifeCycleState>("state", 99) else {
            panic!("expected a validation error");
        };
        assert!(v[0].description.contains("99") && v[0].description.contains("LifeCycleState"));
        let Err(DomainError::Validation(v)) =
            decode_all::<ReplicationJobStatus>("statuses", &[1, 2, 42])
        else {
            panic!("expected a validation error");
        };
        assert_eq!(v[0].field, "statuses");
        assert!(v[0].description.starts_with("element 2:"), "{v:?}");
        assert_eq!(
            decode_all::<ReplicationJobStatus>("statuses", &[1, 6]),
            Ok(vec![
                ReplicationJobStatus::Ready,
                ReplicationJobStatus::Waiting
            ])
        );
    }
}
