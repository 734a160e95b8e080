//! MGN response bodies, member names exactly as the service model spells
//! them. Absent values are omitted (MGN sends no nulls); counters are sent
//! even when zero, so FinalizeCutover's zeroed disks read `0`.

use serde_json::{json, Map, Value};

use crate::api::native::wire_time::{duration, instant};
use crate::{
    control_plane::{LaunchOutcome, ServerView},
    domain::{DataReplicationInfo, LastAction, LifeCycle, SourceProperties, Timestamp},
};

/// Members of an object, skipping the absent ones.
struct Members(Map<String, Value>);

impl Members {
    fn new() -> Self {
        Members(Map::new())
    }

    fn put(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.0.insert(name.to_owned(), value.into());
        self
    }

    fn maybe(self, name: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(value) => self.put(name, value),
            None => self,
        }
    }

    fn text(self, name: &str, value: &str) -> Self {
        let value = (!value.is_empty()).then(|| value.to_owned());
        self.maybe(name, value)
    }

    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

fn api_call(at: Timestamp) -> Value {
    json!({ "apiCallDateTime": instant(at) })
}

fn last_action(action: &LastAction) -> Value {
    Members::new()
        .put(
            "initiated",
            json!({ "apiCallDateTime": instant(action.initiated), "jobID": action.job_id.as_str() }),
        )
        .maybe("reverted", action.reverted.map(api_call))
        .maybe("finalized", action.finalized.map(api_call))
        .done()
}

fn life_cycle(life: &LifeCycle) -> Value {
    Members::new()
        .put("state", life.state.as_str())
        .put("addedToServiceDateTime", instant(life.added_to_service))
        .maybe("firstByteDateTime", life.first_byte.map(instant))
        .maybe(
            "elapsedReplicationDuration",
            life.elapsed_replication.map(duration),
        )
        .maybe(
            "lastSeenByServiceDateTime",
            life.last_seen_by_service.map(instant),
        )
        .maybe("lastTest", life.last_test.as_ref().map(last_action))
        .maybe("lastCutover", life.last_cutover.as_ref().map(last_action))
        .done()
}

fn data_replication_info(info: &DataReplicationInfo) -> Value {
    let disks: Vec<Value> = info
        .replicated_disks
        .iter()
        .map(|disk| {
            json!({
                "deviceName": disk.device_name,
                "totalStorageBytes": disk.total_storage_bytes,
                "replicatedStorageBytes": disk.replicated_storage_bytes,
                "rescannedStorageBytes": disk.rescanned_storage_bytes,
                "backloggedStorageBytes": disk.backlogged_storage_bytes,
            })
        })
        .collect();
    let initiation = info.initiation.as_ref().map(|init| {
        let steps: Vec<Value> = init
            .steps
            .iter()
            .map(|(name, status)| json!({ "name": name.as_str(), "status": status.as_str() }))
            .collect();
        Members::new()
            .put("startDateTime", instant(init.start))
            .maybe("nextAttemptDateTime", init.next_attempt.map(instant))
            .put("steps", steps)
            .done()
    });
    let error = info
        .error
        .as_ref()
        .map(|e| json!({ "error": e.error, "rawError": e.raw_error }));
    Members::new()
        .put("dataReplicationState", info.state.as_str())
        .maybe("lagDuration", info.lag.map(duration))
        .maybe("etaDateTime", info.eta.map(instant))
        .maybe("lastSnapshotDateTime", info.last_snapshot.map(instant))
        .put("replicatedDisks", disks)
        .maybe("dataReplicationInitiation", initiation)
        .maybe("dataReplicationError", error)
        .done()
}

fn source_properties(props: &SourceProperties) -> Value {
    let hints = Members::new()
        .text("fqdn", &props.fqdn)
        .text("hostname", &props.hostname)
        .text("vmWareUuid", &props.vm_ware_uuid)
        .text("awsInstanceID", &props.aws_instance_id)
        .text("vmPath", &props.vm_path)
        .done();
    let interfaces: Vec<Value> = props
        .network_interfaces
        .iter()
        .map(|nic| json!({ "macAddress": nic.mac_address, "ips": nic.ips, "isPrimary": nic.is_primary }))
        .collect();
    let disks: Vec<Value> = props
        .disks
        .iter()
        .map(|disk| json!({ "deviceName": disk.device_name, "bytes": disk.bytes }))
        .collect();
    let cpus: Vec<Value> = props
        .cpus
        .iter()
        .map(|cpu| json!({ "cores": cpu.cores, "modelName": cpu.model_name }))
        .collect();
    Members::new()
        .maybe("lastUpdatedDateTime", props.last_updated.map(instant))
        .text("recommendedInstanceType", &props.recommended_instance_type)
        .put("identificationHints", hints)
        .put("networkInterfaces", interfaces)
        .put("disks", disks)
        .put("cpus", cpus)
        .put("ramBytes", props.ram_bytes)
        .put("os", json!({ "fullString": props.os }))
        .done()
}

/// MGN's `SourceServer`.
pub(super) fn source_server(view: &ServerView) -> Value {
    let server = &view.server;
    let launched = server.launched_instance.as_ref().map(|launched| {
        json!({
            "ec2InstanceID": launched.ec2_instance_id.as_str(),
            "jobID": launched.job_id.as_str(),
            "firstBoot": launched.first_boot.as_str(),
        })
    });
    Members::new()
        .put("sourceServerID", server.id.as_str())
        .put("arn", view.arn.as_str())
        .put("isArchived", server.is_archived)
        .put("tags", json!(server.tags))
        .put("replicationType", server.replication_type.as_str())
        .maybe("launchedInstance", launched)
        .put(
            "dataReplicationInfo",
            data_replication_info(&server.data_replication_info),
        )
        .put("lifeCycle", life_cycle(&server.life_cycle))
        .put(
            "sourceProperties",
            source_properties(&server.source_properties),
        )
        .done()
}

/// MGN's `Job` of a StartTest or StartCutover: the launch happens as the
/// call commits, so the job is COMPLETED and each server LAUNCHED when it
/// is returned **(decision)**.
pub(super) fn launch_job(
    outcomes: &[LaunchOutcome],
    initiated_by: &str,
    arn_prefix: &str,
    tags: &[(&str, &str)],
) -> Value {
    let Some(first) = outcomes.first() else {
        return json!({});
    };
    let servers: Vec<Value> = outcomes
        .iter()
        .map(|launch| {
            json!({
                "sourceServerID": launch.server.server.id.as_str(),
                "launchStatus": "LAUNCHED",
                "launchedEc2InstanceID": launch.ec2_instance_id.as_str(),
            })
        })
        .collect();
    let tags: Map<String, Value> = tags
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
        .collect();
    json!({
        "jobID": first.job_id.as_str(),
        "arn": format!("{arn_prefix}job/{}", first.job_id.as_str()),
        "type": "LAUNCH",
        "initiatedBy": initiated_by,
        "creationDateTime": instant(first.created),
        "endDateTime": instant(first.created),
        "status": "COMPLETED",
        "participatingServers": servers,
        "tags": tags,
    })
}
