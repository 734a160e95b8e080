//! The TOML config file: its keys are the flags' names, and its values
//! become environment variables the parse reads under the flags, so the
//! file takes every option of every section with no list of its own.

use std::path::Path;

use clap::CommandFactory;

use super::Config;

/// The config file's settings as (environment variable, value) pairs.
pub(super) fn file_defaults(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    config_file_defaults(&text, path)
}

/// The settings of config file text `text` as (environment variable,
/// value) pairs; `path` only names the file in errors. Any text gets an
/// answer: an error names the file and what is wrong.
pub fn config_file_defaults(text: &str, path: &Path) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let command = Config::command();
    table
        .into_iter()
        .map(|(key, value)| {
            let id = key.replace('-', "_");
            let env = command
                .get_arguments()
                .filter(|arg| arg.get_id().as_str() == id && id != "config")
                .find_map(|arg| arg.get_env())
                .ok_or_else(|| format!("{}: unknown option {key:?}", path.display()))?;
            let value = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(x) => x.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(format!(
                        "{}: {key} must be a string, number or boolean, got {other}",
                        path.display()
                    ))
                }
            };
            // The value becomes an environment variable, which cannot
            // hold a NUL (setting one panics).
            if value.contains('\0') {
                return Err(format!(
                    "{}: {key} must not contain a NUL character (\\u0000)",
                    path.display()
                ));
            }
            Ok((env.to_string_lossy().into_owned(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_values_become_environment_defaults() {
        let pairs = config_file_defaults(
            "region = \"eu-west-1\"\nsim-speed = 2.5\ninsecure = true\n",
            Path::new("c.toml"),
        );
        let mut pairs = pairs.expect("a valid file");
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("CUTOVER_INSECURE".to_owned(), "true".to_owned()),
                ("CUTOVER_REGION".to_owned(), "eu-west-1".to_owned()),
                ("CUTOVER_SIM_SPEED".to_owned(), "2.5".to_owned()),
            ]
        );
    }

    /// Found with the `config_file` fuzz target (its input is
    /// fuzz/corpus/config_file/crash-nul-value): `Config::load` put the
    /// value in the environment, and `std::env::set_var` panics on a NUL.
    #[test]
    fn config_file_values_with_nul_are_refused() {
        let err = config_file_defaults("region = \"us\\u0000east\"\n", Path::new("c.toml"))
            .expect_err("a NUL cannot go into the environment");
        assert!(
            err.starts_with("c.toml: region must not contain a NUL"),
            "{err}"
        );
    }

    /// The flags as `cutoverd --help` shows them, read from the text rather
    /// than from the command's arguments (which the loader itself walks), so
    /// a section whose flags the file misses is caught.
    fn help_flags() -> Vec<String> {
        let help = Config::command().render_long_help().to_string();
        let mut flags: Vec<String> = help
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter_map(|word| word.strip_prefix("--"))
            .filter(|flag| flag.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .map(str::to_owned)
            .collect();
        flags.sort();
        flags.dedup();
        flags
    }

    #[test]
    fn every_flag_of_the_help_is_a_key_of_the_file_in_both_spellings() {
        let flags = help_flags();
        // The 34 options, --help and --version: the count catches a help
        // text the reader above no longer understands.
        assert_eq!(flags.len(), 36, "{flags:?}");
        for flag in flags {
            let env = format!("CUTOVER_{}", flag.replace('-', "_").to_uppercase());
            for key in [flag.clone(), flag.replace('-', "_")] {
                let answer = config_file_defaults(&format!("{key} = \"x\"\n"), Path::new("c.toml"));
                // The file cannot name another file, nor ask for help.
                if matches!(flag.as_str(), "config" | "help" | "version") {
                    assert!(answer.is_err(), "{key}: {answer:?}");
                } else {
                    assert_eq!(answer, Ok(vec![(env.clone(), "x".to_owned())]), "{key}");
                }
            }
        }
    }
}
