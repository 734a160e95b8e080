//! `cutoverctl`: the operator's command line for the `cutover` control
//! plane. Every gRPC operation has a command; output is a table, the proto3
//! JSON mapping (`-o json`, what grpcurl prints) or YAML; `watch` follows
//! the lifecycle stream with progress bars and can wait for a state.

mod conn;
mod errors;
mod jobs;
mod json;
mod output;
mod servers;
mod table;
mod tracker;
mod tree;
mod until;
mod view;
mod watch;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use cutover_proto::v1::{account_service_client::AccountServiceClient, InitializeServiceRequest};

use crate::{conn::Connection, errors::CliError, output::Format};

/// Where the control plane listens unless --server says otherwise.
const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";

/// Exit codes, shown by `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  success (for `watch --until`: every watched resource reached the state)
  1  any other error (internal, resource exhausted, unreadable local file, ...)
  2  usage error (bad flags or arguments, unusable --server, --ca, --cert, --key or --token)
  3  not found (ResourceNotFoundException; `watch` on an id that does not exist)
  4  conflict or invalid state (FAILED_PRECONDITION, ABORTED, ALREADY_EXISTS: ConflictException,
     ReplicationJob.InvalidStatus, SourceServerState.Invalid, UninitializedAccountException, ...)
  5  validation (INVALID_ARGUMENT: ValidationException)
  6  unavailable or deadline exceeded (no server at --server, --timeout elapsed)
  7  unauthenticated or permission denied (missing or unknown --token)

Errors are printed on stderr: the cloud error code (ErrorInfo.reason), the message,
then the details (ErrorInfo metadata, BadRequest field violations, ResourceInfo).";

/// Operate a cloud-migration wave on a `cutover` control plane.
#[derive(Debug, Parser)]
#[command(name = "cutoverctl", version, after_help = EXIT_CODES)]
struct Cli {
    /// Connection and output options (valid before or after any subcommand).
    #[command(flatten)]
    global: Global,
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection and output")]
struct Global {
    /// The control plane's address (`http://HOST:PORT`, `https://HOST:PORT`
    /// or `HOST:PORT`). Give it before the subcommand, or anywhere after
    /// `init`, `servers` and `jobs`; inside `watch`, --server selects source
    /// servers, so give the address before `watch` or in CUTOVER_SERVER.
    #[arg(
        long,
        env = "CUTOVER_SERVER",
        value_name = "ADDR",
        default_value = DEFAULT_SERVER
    )]
    server: String,
    /// PEM file of the CA that signed the server's certificate; implies
    /// https, and the TLS server name is the host of --server.
    #[arg(long, global = true, env = "CUTOVER_CA", value_name = "PEM")]
    ca: Option<String>,
    /// PEM client certificate for mutual TLS (needs --ca and --key).
    #[arg(long, global = true, env = "CUTOVER_CERT", value_name = "PEM")]
    cert: Option<String>,
    /// PEM private key of --cert.
    #[arg(long, global = true, env = "CUTOVER_KEY", value_name = "PEM")]
    key: Option<String>,
    /// Bearer token, sent as `authorization: Bearer TOKEN`.
    #[arg(long, global = true, env = "CUTOVER_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Per-call deadline in seconds [default: 30]. For `watch --until`: the
    /// overall deadline (none unless given).
    #[arg(long, global = true, env = "CUTOVER_TIMEOUT", value_name = "SECONDS")]
    timeout: Option<f64>,
    /// Output format.
    #[arg(
        short,
        long,
        global = true,
        env = "CUTOVER_OUTPUT",
        value_enum,
        default_value_t = Format::Table
    )]
    output: Format,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Initialise the caller's account (InitializeService; idempotent).
    Init {
        /// Idempotency token.
        #[arg(long)]
        client_token: Option<String>,
        /// The control plane's address (overrides the one before `init`).
        #[arg(
            long = "server",
            value_name = "ADDR",
            help_heading = "Connection and output"
        )]
        address: Option<String>,
    },
    /// Source servers (MGN): register, inspect, test, cut over, archive.
    Servers(Servers),
    /// Replication jobs (SMC): create, inspect, start, stop, cut over.
    Jobs(Jobs),
    /// Follow lifecycle events live, optionally until a state is reached.
    Watch(watch::WatchArgs),
}

/// `servers` and its subcommands.
#[derive(Debug, Args)]
struct Servers {
    /// The control plane's address (overrides the one before `servers`).
    #[arg(
        long = "server",
        global = true,
        value_name = "ADDR",
        help_heading = "Connection and output"
    )]
    address: Option<String>,
    /// The operation.
    #[command(subcommand)]
    command: servers::ServersCommand,
}

/// `jobs` and its subcommands.
#[derive(Debug, Args)]
struct Jobs {
    /// The control plane's address (overrides the one before `jobs`).
    #[arg(
        long = "server",
        global = true,
        value_name = "ADDR",
        help_heading = "Connection and output"
    )]
    address: Option<String>,
    /// The operation.
    #[command(subcommand)]
    command: jobs::JobsCommand,
}

/// Parses the command line, runs the command, maps its outcome to the
/// documented exit code.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            err.print();
            ExitCode::from(err.exit_code())
        }
    }
}

/// Runs one command.
async fn run(cli: Cli) -> Result<(), CliError> {
    let Cli { global, command } = cli;
    let address = match &command {
        Command::Init { address, .. }
        | Command::Servers(Servers { address, .. })
        | Command::Jobs(Jobs { address, .. }) => address.clone(),
        Command::Watch(_) => None,
    };
    if let Command::Watch(args) = &command {
        watch::check_args(args)?;
    }
    let conn = Connection::open(&conn::Options {
        server: address.unwrap_or(global.server),
        ca: global.ca,
        cert: global.cert,
        key: global.key,
        token: global.token,
        timeout: global.timeout,
    })
    .await?;
    let format = global.output;
    match command {
        Command::Init { client_token, .. } => {
            let mut client = AccountServiceClient::with_interceptor(conn.channel(), conn.auth());
            let request = conn.request(InitializeServiceRequest {
                client_token: client_token.unwrap_or_default(),
            });
            let response = conn.call(client.initialize_service(request)).await?;
            output::print_message(format, &response, |r| {
                let how = if r.newly_initialized {
                    "initialised"
                } else {
                    "was already initialised"
                };
                format!("account {} {how}\n", r.account_id)
            })
        }
        Command::Servers(Servers { command, .. }) => servers::run(&conn, format, command).await,
        Command::Jobs(Jobs { command, .. }) => jobs::run(&conn, format, command).await,
        Command::Watch(args) => watch::run(&conn, format, global.timeout, args).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
