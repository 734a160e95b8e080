//! The simulator: what the built-in simulator simulates, and the pace of
//! simulated time, which compresses every duration the service applies.

use clap::{Args, ValueEnum};

use super::span;
use crate::{
    domain::{Millis, TimeScale},
    simulator::Simulated,
};

/// What the built-in simulator simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimulatorMode {
    /// Agents and the replication infrastructure.
    All,
    /// Only the replication infrastructure (the target side).
    Infrastructure,
    /// Nothing: real agents and infrastructure only.
    None,
}

/// Options of the simulator and of simulated time.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Simulator")]
pub struct SimulatorArgs {
    /// Simulated time runs this many times faster: every duration the
    /// service applies (agent pace, job frequency, deadlines, heartbeat
    /// window) is divided by it. At least 1.
    #[arg(long, env = "CUTOVER_SIM_SPEED", default_value_t = 1.0, value_parser = parse_speed)]
    pub sim_speed: f64,
    /// What the built-in simulator simulates: `all` (agents and the
    /// replication infrastructure), `infrastructure` (only the target
    /// side: agents are real processes) or `none`.
    #[arg(long, env = "CUTOVER_SIMULATOR", value_enum, default_value_t = SimulatorMode::All)]
    pub simulator: SimulatorMode,
    /// Shorthand for `--simulator none`: real agents and infrastructure
    /// only.
    #[arg(long, env = "CUTOVER_NO_SIMULATOR")]
    pub no_simulator: bool,
    /// Seconds an agent may be silent before its replication is STALLED
    /// (compressed by --sim-speed).
    #[arg(long, env = "CUTOVER_AGENT_SILENCE_SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub agent_silence_seconds: u64,
}

fn parse_speed(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed >= 1.0 => Ok(speed),
        _ => Err(format!("must be a number >= 1, got {value:?}")),
    }
}

/// The simulator section's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simulation {
    /// How much faster than real time the deployment runs.
    pub time_scale: TimeScale,
    /// How long an agent may be silent before its replication is STALLED,
    /// before compression by `time_scale`.
    pub agent_silence: Millis,
    /// What the built-in simulator simulates; `None` when it is off.
    pub simulated: Option<Simulated>,
}

impl SimulatorArgs {
    /// The typed settings of this section, `--no-simulator` applied.
    pub fn settings(&self) -> Simulation {
        let simulated = match (self.no_simulator, self.simulator) {
            (true, _) | (false, SimulatorMode::None) => None,
            (false, SimulatorMode::All) => Some(Simulated::Everything),
            (false, SimulatorMode::Infrastructure) => Some(Simulated::Infrastructure),
        };
        Simulation {
            time_scale: TimeScale::new(self.sim_speed),
            agent_silence: span(self.agent_silence_seconds, Millis(1000)),
            simulated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Simulation;
    use crate::{
        config::Config,
        domain::{Millis, TimeScale},
        simulator::Simulated,
    };

    fn simulation(args: &[&str]) -> Simulation {
        Config::from_args(args)
            .expect("valid flags")
            .simulator
            .settings()
    }

    #[test]
    fn defaults_simulate_everything_in_real_time() {
        assert_eq!(
            simulation(&[]),
            Simulation {
                time_scale: TimeScale::REAL,
                agent_silence: Millis::minutes(5),
                simulated: Some(Simulated::Everything),
            }
        );
    }

    #[test]
    fn no_simulator_wins_over_any_mode() {
        for (args, simulated) in [
            (&["--simulator", "all"][..], Some(Simulated::Everything)),
            (
                &["--simulator", "infrastructure"],
                Some(Simulated::Infrastructure),
            ),
            (&["--simulator", "none"], None),
            (&["--simulator", "all", "--no-simulator"], None),
            (&["--simulator", "infrastructure", "--no-simulator"], None),
        ] {
            assert_eq!(simulation(args).simulated, simulated, "{args:?}");
        }
    }

    #[test]
    fn the_speed_scales_time_and_must_be_a_finite_number_of_at_least_one() {
        assert_eq!(
            simulation(&["--sim-speed", "2.5"]).time_scale,
            TimeScale::new(2.5)
        );
        for speed in ["0.5", "-1", "inf", "NaN", "fast"] {
            let flag = format!("--sim-speed={speed}");
            let err = Config::from_args(&[&flag]).expect_err("refused");
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{speed}"
            );
        }
    }

    #[test]
    fn agent_silence_is_in_seconds_and_saturates() {
        assert_eq!(
            simulation(&["--agent-silence-seconds", "7"]).agent_silence,
            Millis(7000)
        );
        assert_eq!(
            simulation(&["--agent-silence-seconds", &u64::MAX.to_string()]).agent_silence,
            Millis(i64::MAX)
        );
        assert!(Config::from_args(&["--agent-silence-seconds", "0"]).is_err());
    }
}
