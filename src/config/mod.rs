//! `cutoverd`'s configuration, in sections. Every option is a flag, an
//! environment variable and a key of the optional TOML config file; each
//! section turns its raw values (counts in the unit its flag names) into
//! the typed settings the server applies, in one place, so the server
//! never converts a unit.

mod auth;
mod cloud;
mod file;
mod limits;
mod listen;
mod logging;
mod retention;
mod simulator;
mod storage;

use std::path::{Path, PathBuf};

use clap::Parser;

use crate::{control_plane::Settings, domain::Millis, simulator::Simulated};

pub use auth::AuthArgs;
pub use cloud::CloudArgs;
pub use file::config_file_defaults;
pub use limits::{LimitArgs, Limits};
pub use listen::{ListenArgs, TlsFiles};
pub use logging::{LogFormat, LoggingArgs};
pub use retention::RetentionArgs;
pub use simulator::{Simulation, SimulatorArgs, SimulatorMode};
pub use storage::{Database, Leases, Storage, StorageArgs};

/// Options of `cutoverd`. Each is a flag, an environment variable, and a
/// key of the optional TOML config file (the flag's name, with `-` or `_`);
/// a flag beats the environment, which beats the file, which beats the
/// default.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "cutoverd",
    version,
    about = "The cutover control plane: a gRPC service for cloud-migration cutovers",
    args_override_self = true
)]
pub struct Config {
    /// TOML file of options (keys are the flags' names).
    #[arg(long, env = "CUTOVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where gRPC and the metrics endpoint listen, and their TLS.
    #[command(flatten)]
    pub listen: ListenArgs,
    /// The database and the leases of background duties.
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Who may call.
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Bounds on what one connection or call may take.
    #[command(flatten)]
    pub limits: LimitArgs,
    /// How much history is kept.
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// The built-in simulator and the pace of simulated time.
    #[command(flatten)]
    pub simulator: SimulatorArgs,
    /// The cloud the service answers as, and its native endpoints.
    #[command(flatten)]
    pub cloud: CloudArgs,
    /// Log lines.
    #[command(flatten)]
    pub logging: LoggingArgs,
}

impl Config {
    /// True when callers must authenticate: with a tokens file or client
    /// certificate identities.
    pub fn authenticates(&self) -> bool {
        self.auth.authenticates()
    }

    /// What the built-in simulator simulates, `--no-simulator` applied.
    pub fn simulated(&self) -> Option<Simulated> {
        self.simulator.settings().simulated
    }

    /// The settings the control plane applies: the pace of time from the
    /// simulator section, the ARN names from the cloud section.
    pub fn control_plane(&self) -> Settings {
        let simulation = self.simulator.settings();
        Settings {
            time_scale: simulation.time_scale,
            agent_silence: simulation.agent_silence,
            partition: self.cloud.partition.clone(),
            region: self.cloud.region.clone(),
            ..Settings::default()
        }
    }

    /// The configuration from the command line, the environment and the
    /// config file. Must run before any thread is started: the file's
    /// values become environment defaults for the parse.
    pub fn load() -> Result<Config, String> {
        let args: Vec<String> = std::env::args().collect();
        let path = args
            .iter()
            .enumerate()
            .find_map(|(i, arg)| match arg.strip_prefix("--config") {
                Some("") => args.get(i + 1).cloned(),
                Some(rest) => rest.strip_prefix('=').map(str::to_owned),
                None => None,
            })
            .or_else(|| std::env::var("CUTOVER_CONFIG").ok());
        if let Some(path) = path {
            for (name, value) in file::file_defaults(Path::new(&path))? {
                if std::env::var_os(&name).is_none() {
                    std::env::set_var(name, value);
                }
            }
        }
        Ok(Config::parse())
    }

    /// The configuration of `cutoverd ARGS`, without a config file: what
    /// the sections' tests and an in-process server parse.
    pub fn from_args(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("cutoverd").chain(args.iter().copied()))
    }
}

/// `n` spans of `unit`, saturating at the longest span a [`Millis`] holds:
/// a flag takes any `u64`, which may not fit in milliseconds.
fn span(n: u64, unit: Millis) -> Millis {
    i64::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(unit.0))
        .map_or(Millis(i64::MAX), Millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TimeScale;

    #[test]
    fn spans_saturate_instead_of_overflowing() {
        assert_eq!(span(0, Millis(1000)), Millis(0));
        assert_eq!(span(3, Millis(1000)), Millis(3000));
        assert_eq!(span(u64::MAX, Millis(1)), Millis(i64::MAX));
        assert_eq!(span(i64::MAX as u64, Millis(1000)), Millis(i64::MAX));
        assert_eq!(
            span(i64::MAX as u64 / 1000, Millis(1000)),
            Millis(i64::MAX / 1000 * 1000)
        );
    }

    #[test]
    fn the_control_plane_takes_the_pace_of_time_and_the_arn_names() {
        let config = Config::from_args(&[
            "--sim-speed",
            "60",
            "--agent-silence-seconds",
            "120",
            "--partition",
            "aws-cn",
            "--region",
            "cn-north-1",
        ])
        .expect("valid flags");
        let settings = config.control_plane();
        assert_eq!(settings.time_scale, TimeScale::new(60.0));
        assert_eq!(settings.agent_silence, Millis(120_000));
        assert_eq!(settings.partition, "aws-cn");
        assert_eq!(settings.region, "cn-north-1");
        assert_eq!(
            settings.heartbeat_window,
            Settings::default().heartbeat_window
        );
    }

    #[test]
    fn the_defaults_are_the_control_planes_defaults() {
        let settings = Config::from_args(&[]).expect("no flags").control_plane();
        let defaults = Settings::default();
        assert_eq!(settings.time_scale, defaults.time_scale);
        assert_eq!(settings.agent_silence, defaults.agent_silence);
        assert_eq!(settings.partition, defaults.partition);
        assert_eq!(settings.region, defaults.region);
    }
}
