//! A small tmpfs mounted for one test, unmounted when dropped.

use std::{path::Path, process::Command};

use tempfile::TempDir;

/// A tmpfs of a given size on a fresh directory.
pub(crate) struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (such as `16m`); fails with a clear
    /// message when the test does not run as root.
    pub(crate) fn mount(size: &str) -> Tmpfs {
        let dir = TempDir::new().expect("temp dir");
        run(
            &[
                "mount",
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "tmpfs",
            ],
            dir.path(),
        );
        Tmpfs { dir }
    }

    /// Where it is mounted.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Makes it read-only (or writable again).
    pub(crate) fn set_read_only(&self, read_only: bool) {
        let options = if read_only {
            "remount,ro"
        } else {
            "remount,rw"
        };
        run(&["mount", "-o", options], self.path());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn run(args: &[&str], target: &Path) {
    let status = Command::new(args[0])
        .args(&args[1..])
        .arg(target)
        .status()
        .expect("run mount");
    assert!(
        status.success(),
        "`{} {}` failed: the fault tests mount tmpfs and must run as root",
        args.join(" "),
        target.display()
    );
}
