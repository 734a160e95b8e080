//! Usage errors and the help text.

use super::{closed_address, command, finish};

#[test]
fn usage_errors_exit_2_and_help_documents_the_exit_codes() {
    let help = finish(command(&["--help"]).output().expect("run"));
    for line in [
        "3  not found",
        "4  conflict",
        "5  validation",
        "6  unavailable",
        "7  unauthenticated",
    ] {
        assert!(help.ok().contains(line), "{line:?} not in {}", help.stdout);
    }
    let nobody = closed_address();
    for args in [
        &["servers", "frobnicate"][..],
        &["watch", "--until", "sideways"],
        &["watch", "--job", "s-00000000000000000"],
        &[
            "watch",
            "--job",
            "j-00000000000000000000",
            "--until",
            "cutover",
        ],
        &[
            "watch",
            "--server",
            "s-00000000000000000",
            "--until",
            "finished",
        ],
        &["--timeout", "0", "servers", "list"],
        &["--server", "ftp://x:1", "servers", "list"],
        &["--cert", "c.pem", "--key", "k.pem", "servers", "list"],
        &["servers", "register", "--tag", "novalue"],
    ] {
        let run = finish(
            command(args)
                .env("CUTOVER_SERVER", &nobody.url)
                .output()
                .expect("run"),
        );
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
}
