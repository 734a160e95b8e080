//! Arbitrary text as `cutoverd`'s TOML config file, used as `Config::load`
//! uses it: the file's settings become environment variables (when not set
//! already) and the command line is parsed over them. Any text must get
//! settings or an error naming the file, and a setting must be one
//! `cutoverd` can put in its environment and parse, or refuse, without
//! panicking.

#![no_main]

use std::path::Path;

use clap::Parser;
use cutover::config::{config_file_defaults, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let pairs = match config_file_defaults(text, Path::new("fuzz.toml")) {
        Ok(pairs) => pairs,
        Err(err) => {
            assert!(
                err.starts_with("fuzz.toml: "),
                "an error without the file: {err}"
            );
            return;
        }
    };
    let mut set = Vec::new();
    for (name, value) in &pairs {
        assert!(
            name.starts_with("CUTOVER_"),
            "{name} is not one of cutoverd's variables"
        );
        assert_ne!(name, "CUTOVER_CONFIG", "the file names another file");
        if std::env::var_os(name).is_none() {
            // As Config::load does; this target runs no other thread.
            std::env::set_var(name, value);
            set.push(name);
        }
    }
    let parsed = Config::try_parse_from(["cutoverd"]);
    for name in set {
        std::env::remove_var(name);
    }
    if let Ok(config) = parsed {
        let _ = (config.authenticates(), config.simulated());
    }
});
