//! The cloud the service answers as (the ARNs' partition and region), and
//! its native endpoints: the AWS MGN and Alibaba Cloud SMC protocols.

use std::net::SocketAddr;

use clap::Args;

/// Options of the cloud and its native endpoints.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Cloud endpoints")]
pub struct CloudArgs {
    /// ARN partition.
    #[arg(long, env = "CUTOVER_PARTITION", default_value = "aws")]
    pub partition: String,
    /// ARN region.
    #[arg(long, env = "CUTOVER_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Address of the AWS MGN endpoint (restJson1, SigV4), for the AWS
    /// SDKs; off unless given. Port 0 picks a free port, printed as
    /// `mgn on HOST:PORT` on stdout.
    #[arg(long, env = "CUTOVER_MGN_LISTEN")]
    pub mgn_listen: Option<SocketAddr>,
    /// Address of the Alibaba Cloud SMC endpoint (RPC style, ACS3 or
    /// HMAC-SHA1 signatures), for Alibaba's SDKs; off unless given. Port 0
    /// picks a free port, printed as `smc on HOST:PORT` on stdout.
    #[arg(long, env = "CUTOVER_SMC_LISTEN")]
    pub smc_listen: Option<SocketAddr>,
}

impl CloudArgs {
    /// True when an MGN or SMC endpoint is asked for.
    pub fn serves_native_endpoints(&self) -> bool {
        self.mgn_listen.is_some() || self.smc_listen.is_some()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn native_endpoints_are_off_unless_given() {
        let config = Config::from_args(&[]).expect("no flags");
        assert!(!config.cloud.serves_native_endpoints());
        for flag in ["--mgn-listen", "--smc-listen"] {
            let config = Config::from_args(&[flag, "127.0.0.1:0"]).expect("an address");
            assert!(config.cloud.serves_native_endpoints(), "{flag}");
        }
    }
}
