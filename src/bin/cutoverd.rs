//! `cutoverd`: serves the cutover API.
fn main() {}
