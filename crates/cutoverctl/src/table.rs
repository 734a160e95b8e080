//! Human output: aligned tables of servers and jobs, and the short state
//! names they use (`READY_FOR_TEST` for `LIFE_CYCLE_STATE_READY_FOR_TEST`).

use cutover_proto::v1 as pb;

/// Rows of text printed as aligned columns.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column titles.
    pub(crate) fn new(header: &[&'static str]) -> Table {
        Table {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells print empty).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table, columns separated by two spaces, trailing blanks trimmed.
    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                let width = cell.chars().count();
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(width),
                    None => widths.push(width),
                }
            }
        }
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            let mut text = String::new();
            for (i, cell) in cells.enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                text.push_str(&format!("{cell:<width$}  "));
            }
            text.truncate(text.trim_end().len());
            text.push('\n');
            text
        };
        let mut out = line(&mut self.header.iter().copied());
        for row in &self.rows {
            out.push_str(&line(&mut row.iter().map(String::as_str)));
        }
        out
    }
}

/// An enum value's proto name without its type prefix, `-` when unknown
/// or unspecified.
fn short(name: Option<&'static str>, prefix: &str) -> String {
    match name {
        Some(name) if !name.ends_with("_UNSPECIFIED") => {
            name.strip_prefix(prefix).unwrap_or(name).to_owned()
        }
        _ => "-".to_owned(),
    }
}

/// `READY_FOR_TEST` for a `LifeCycleState` number.
pub(crate) fn life_cycle_name(state: i32) -> String {
    short(
        pb::LifeCycleState::try_from(state)
            .ok()
            .map(|s| s.as_str_name()),
        "LIFE_CYCLE_STATE_",
    )
}

/// `CONTINUOUS` for a `DataReplicationState` number.
pub(crate) fn replication_name(state: i32) -> String {
    short(
        pb::DataReplicationState::try_from(state)
            .ok()
            .map(|s| s.as_str_name()),
        "DATA_REPLICATION_STATE_",
    )
}

/// `AVAILABLE` for a `SourceState` number.
fn source_state_name(state: i32) -> String {
    short(
        pb::SourceState::try_from(state)
            .ok()
            .map(|s| s.as_str_name()),
        "SOURCE_STATE_",
    )
}

/// `WAITING` for a `ReplicationJobStatus` number.
pub(crate) fn job_status_name(status: i32) -> String {
    short(
        pb::ReplicationJobStatus::try_from(status)
            .ok()
            .map(|s| s.as_str_name()),
        "REPLICATION_JOB_STATUS_",
    )
}

/// `SYNCING` for a `ReplicationJobBusinessStatus` number.
pub(crate) fn business_status_name(status: i32) -> String {
    short(
        pb::ReplicationJobBusinessStatus::try_from(status)
            .ok()
            .map(|s| s.as_str_name()),
        "REPLICATION_JOB_BUSINESS_STATUS_",
    )
}

/// `LIFE_CYCLE_STATE_CHANGED` for a `LifecycleEventType` number.
pub(crate) fn event_type_name(kind: i32) -> String {
    short(
        pb::LifecycleEventType::try_from(kind)
            .ok()
            .map(|s| s.as_str_name()),
        "LIFECYCLE_EVENT_TYPE_",
    )
}

/// Bytes in binary units: `512 B`, `1.5 GiB`.
pub(crate) fn bytes(n: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[0])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Replicated and total bytes over a server's disks.
pub(crate) fn replicated_bytes(server: &pb::SourceServer) -> (i64, i64) {
    server
        .data_replication_info
        .as_ref()
        .map(|info| {
            info.replicated_disks
                .iter()
                .fold((0i64, 0i64), |(r, t), d| {
                    (
                        r.saturating_add(d.replicated_storage_bytes),
                        t.saturating_add(d.total_storage_bytes.unwrap_or(0)),
                    )
                })
        })
        .unwrap_or((0, 0))
}

/// `(completed, total, overdue)` follow-up tasks of a server.
pub(crate) fn task_counts(server: &pb::SourceServer) -> (usize, usize, usize) {
    let tasks = &server.follow_up_tasks;
    let done = tasks
        .iter()
        .filter(|t| t.state == pb::FollowUpTaskState::Completed as i32)
        .count();
    let overdue = tasks.iter().filter(|t| t.overdue).count();
    (done, tasks.len(), overdue)
}

/// A server's lifecycle state number.
pub(crate) fn life_cycle_of(server: &pb::SourceServer) -> i32 {
    server.life_cycle.as_ref().map_or(0, |l| l.state)
}

/// A server's replication state number.
pub(crate) fn replication_of(server: &pb::SourceServer) -> i32 {
    server
        .data_replication_info
        .as_ref()
        .map_or(0, |i| i.data_replication_state)
}

/// The servers table.
pub(crate) fn servers(servers: &[pb::SourceServer]) -> String {
    let mut table = Table::new(&[
        "ID",
        "LIFECYCLE",
        "REPLICATION",
        "SOURCE",
        "REPLICATED",
        "LAG",
        "TASKS",
        "ARCHIVED",
        "TAGS",
    ]);
    for server in servers {
        let (replicated, total) = replicated_bytes(server);
        let replicated = if replicated == 0 && total == 0 {
            "-".to_owned()
        } else {
            format!("{}/{}", bytes(replicated), bytes(total))
        };
        let lag = server
            .data_replication_info
            .as_ref()
            .and_then(|i| i.lag_duration.as_ref())
            .map_or("-".to_owned(), |d| {
                format!("{:.1}s", d.seconds as f64 + f64::from(d.nanos) / 1e9)
            });
        let tasks = match task_counts(server) {
            (_, 0, _) => "-".to_owned(),
            (done, total, 0) => format!("{done}/{total} done"),
            (done, total, overdue) => format!("{done}/{total} done, {overdue} overdue"),
        };
        let tags = server
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        table.row(vec![
            server.source_server_id.clone(),
            life_cycle_name(life_cycle_of(server)),
            replication_name(replication_of(server)),
            source_state_name(server.source_state),
            replicated,
            lag,
            tasks,
            if server.is_archived { "yes" } else { "no" }.to_owned(),
            tags,
        ]);
    }
    table.render()
}

/// The jobs table.
pub(crate) fn jobs(jobs: &[pb::ReplicationJob]) -> String {
    let mut table = Table::new(&[
        "ID", "SOURCE", "STATUS", "BUSINESS", "PROGRESS", "RUNS", "NAME",
    ]);
    for job in jobs {
        table.row(vec![
            job.job_id.clone(),
            job.source_id.clone(),
            job_status_name(job.status),
            business_status_name(job.business_status),
            format!("{:.0}%", job.progress.clamp(0.0, 100.0)),
            job.replication_job_runs.len().to_string(),
            job.name.clone(),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned() {
        let mut table = Table::new(&["A", "LONGER"]);
        table.row(vec!["wide cell".into(), "x".into()]);
        assert_eq!(table.render(), "A          LONGER\nwide cell  x\n");
    }

    #[test]
    fn names_and_sizes_are_short() {
        assert_eq!(life_cycle_name(4), "READY_FOR_TEST");
        assert_eq!(life_cycle_name(0), "-");
        assert_eq!(life_cycle_name(999), "-");
        assert_eq!(job_status_name(6), "WAITING");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
        assert_eq!(bytes(-1), "0 B");
    }
}
