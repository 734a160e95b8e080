//! What `watch` shows: progress bars on a terminal, plain lines otherwise,
//! or the raw stream messages as JSON lines or YAML documents.

use std::{collections::HashMap, io::IsTerminal};

use cutover_proto::v1::{LifecycleEvent, WatchLifecycleEventsResponse};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    errors::CliError,
    output::{self, Format},
    table,
    tracker::{Resource, Tracker},
};

/// One line of text for a resource's state.
fn state_text(resource: &Resource) -> String {
    match resource {
        Resource::Server(server) => {
            let mut text = format!(
                "lifecycle={} replication={}",
                table::life_cycle_name(table::life_cycle_of(server)),
                table::replication_name(table::replication_of(server)),
            );
            let (replicated, total) = table::replicated_bytes(server);
            if total > 0 {
                let percent = (replicated as f64 * 100.0 / total as f64).clamp(0.0, 100.0);
                text.push_str(&format!(" replicated={percent:.0}%"));
            }
            let (done, total, overdue) = table::task_counts(server);
            if total > 0 {
                text.push_str(&format!(" tasks={done}/{total}"));
            }
            if overdue > 0 {
                text.push_str(&format!(" overdue={overdue}"));
            }
            text
        }
        Resource::Job(job) => format!(
            "status={} business={} progress={:.0}%",
            table::job_status_name(job.status),
            table::business_status_name(job.business_status),
            job.progress.clamp(0.0, 100.0)
        ),
    }
}

/// A plain line: revision, resource id, event type, new state.
fn line(revision: &str, id: &str, kind: &str, state: &str) -> String {
    format!("{revision:>6}  {id:<22}  {kind:<30}  {state}\n")
}

/// How `watch` shows what it sees.
pub(crate) enum Display {
    /// One progress bar per resource (stdout is a terminal, `-o table`).
    Bars {
        /// The bars' group, drawn on stdout.
        multi: MultiProgress,
        /// The bar of each resource id.
        bars: HashMap<String, ProgressBar>,
    },
    /// One line per event; snapshot entries wait for the snapshot's revision.
    Plain {
        /// Snapshot ids not printed yet.
        pending: Vec<String>,
    },
    /// Each stream message as one JSON line or one YAML document.
    Raw(Format),
}

impl Display {
    /// The display for `format` and the kind of stdout.
    pub(crate) fn new(format: Format) -> Display {
        match format {
            Format::Table if std::io::stdout().is_terminal() => Display::Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
                bars: HashMap::new(),
            },
            Format::Table => Display::Plain {
                pending: Vec::new(),
            },
            other => Display::Raw(other),
        }
    }

    /// Prints a raw stream message (JSON and YAML only).
    pub(crate) fn message(
        &mut self,
        message: &WatchLifecycleEventsResponse,
    ) -> Result<(), CliError> {
        match self {
            Display::Raw(Format::Yaml) => {
                output::write_stdout(&format!("---\n{}", output::yaml(message)?))
            }
            Display::Raw(_) => output::write_stdout(&(output::json_line(message)? + "\n")),
            _ => Ok(()),
        }
    }

    /// A snapshot entry was recorded for `id`.
    pub(crate) fn snapshot(&mut self, id: &str, tracker: &Tracker) -> Result<(), CliError> {
        match self {
            Display::Plain { pending } => pending.push(id.to_owned()),
            Display::Bars { .. } => self.bar(id, tracker),
            Display::Raw(_) => {}
        }
        Ok(())
    }

    /// The snapshot ended at `revision`.
    pub(crate) fn snapshot_end(
        &mut self,
        revision: u64,
        tracker: &Tracker,
    ) -> Result<(), CliError> {
        if let Display::Plain { pending } = self {
            let mut text = String::new();
            for id in pending.drain(..) {
                if let Some(resource) = tracker.get(&id) {
                    text.push_str(&line(
                        &revision.to_string(),
                        &id,
                        "SNAPSHOT",
                        &state_text(resource),
                    ));
                }
            }
            output::write_stdout(&text)?;
        }
        Ok(())
    }

    /// An event was recorded.
    pub(crate) fn event(
        &mut self,
        event: &LifecycleEvent,
        tracker: &Tracker,
    ) -> Result<(), CliError> {
        match self {
            Display::Plain { .. } => {
                let state = tracker.get(&event.resource_id).map(state_text);
                output::write_stdout(&line(
                    &event.revision.to_string(),
                    &event.resource_id,
                    &table::event_type_name(event.event_type),
                    state.as_deref().unwrap_or("-"),
                ))
            }
            Display::Bars { .. } => {
                self.bar(&event.resource_id, tracker);
                Ok(())
            }
            Display::Raw(_) => Ok(()),
        }
    }

    /// Creates or updates the bar of `id`.
    fn bar(&mut self, id: &str, tracker: &Tracker) {
        let (Display::Bars { multi, bars }, Some(resource)) = (self, tracker.get(id)) else {
            return;
        };
        let bar = bars.entry(id.to_owned()).or_insert_with(|| {
            let style = ProgressStyle::with_template(
                "{prefix:<22} [{bar:30.cyan/blue}] {percent:>3}% {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar = multi.add(ProgressBar::new(1).with_style(style));
            bar.set_prefix(id.to_owned());
            bar
        });
        match resource {
            Resource::Server(server) => {
                let (replicated, total) = table::replicated_bytes(server);
                let (length, position) = match (replicated, total) {
                    (0, 0) => (1, 0),
                    (r, 0) => (r, r),
                    (r, t) => (t, r.min(t)),
                };
                bar.set_length(u64::try_from(length).unwrap_or(1).max(1));
                bar.set_position(u64::try_from(position).unwrap_or(0));
                let (done, tasks, _) = table::task_counts(server);
                let mut message = format!(
                    "{} {} ({}/{})",
                    table::life_cycle_name(table::life_cycle_of(server)),
                    table::replication_name(table::replication_of(server)),
                    table::bytes(replicated),
                    table::bytes(total),
                );
                if tasks > 0 {
                    message.push_str(&format!(" tasks {done}/{tasks}"));
                }
                bar.set_message(message);
            }
            Resource::Job(job) => {
                bar.set_length(100);
                bar.set_position(job.progress.clamp(0.0, 100.0).round() as u64);
                bar.set_message(format!(
                    "{} {}",
                    table::job_status_name(job.status),
                    table::business_status_name(job.business_status)
                ));
            }
        }
    }

    /// Prints a note on stderr without tearing the bars.
    pub(crate) fn note(&self, text: &str) {
        match self {
            Display::Bars { multi, .. } => multi.suspend(|| eprintln!("{text}")),
            _ => eprintln!("{text}"),
        }
    }

    /// Leaves the bars drawn in their final state; later notes print
    /// below them.
    pub(crate) fn finish(&mut self) {
        if let Display::Bars { bars, .. } = self {
            for bar in bars.values() {
                bar.abandon();
            }
            *self = Display::Plain {
                pending: Vec::new(),
            };
        }
    }
}
