//! The house keeps its floors: no module of `src/` imports from a floor
//! above its own (`ARCHITECTURE.md`), and no two modules that sit side by
//! side import each other. Read from the source text: every `crate::`,
//! `super::` and `self::` path of every file, `use` trees expanded.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Each top-level module's floor, from the ground up; a module may import
/// from its own floor or below (never a cycle: checked separately).
const FLOORS: &[(&str, u8)] = &[
    ("domain", 1),
    ("pb", 1),
    ("metrics", 1),
    ("store", 2),
    ("control_plane", 3),
    ("watch", 3),
    ("api", 4),
    ("simulator", 4),
    ("background", 5),
    ("config", 6),
    ("server", 6),
];

#[test]
fn no_module_imports_from_a_floor_above() {
    let mut violations = Vec::new();
    for (file, from, to) in edges() {
        let (Some(f), Some(t)) = (from.first(), to.first()) else {
            continue;
        };
        if f == t {
            continue;
        }
        let (Some(floor_from), Some(floor_to)) = (floor(f), floor(t)) else {
            violations.push(format!("{file}: {f} or {t} has no floor in FLOORS"));
            continue;
        };
        if floor_to > floor_from {
            violations.push(format!(
                "{file}: {f} (floor {floor_from}) imports {} (floor {floor_to})",
                to.join("::")
            ));
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn no_two_neighbouring_modules_import_each_other() {
    // parent path -> (child, child) imports, with a file that makes each.
    let mut imports: BTreeMap<(Vec<String>, String, String), String> = BTreeMap::new();
    for (file, from, to) in edges() {
        let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
        if let (Some(f), Some(t)) = (from.get(common), to.get(common)) {
            imports
                .entry((from[..common].to_vec(), f.clone(), t.clone()))
                .or_insert(file);
        }
    }
    let mut cycles = BTreeSet::new();
    for ((parent, a, b), file) in &imports {
        if let Some(back) = imports.get(&(parent.clone(), b.clone(), a.clone())) {
            let pair = if a < b { (a, b) } else { (b, a) };
            cycles.insert(format!(
                "{}: {} <-> {} ({file}; {back})",
                if parent.is_empty() {
                    "crate".to_owned()
                } else {
                    parent.join("::")
                },
                pair.0,
                pair.1
            ));
        }
    }
    assert!(
        cycles.is_empty(),
        "modules importing each other:\n{}",
        cycles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

fn floor(module: &str) -> Option<u8> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|(_, f)| *f)
}

/// Every import of the crate: (file, the importing module's path, the
/// imported path), paths from the crate root.
fn edges() -> Vec<(String, Vec<String>, Vec<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&src, &mut files);
    let mut edges = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&src).expect("under src");
        let Some(module) = module_of(relative) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("readable source");
        let name = relative.display().to_string();
        for (inline, target) in references(&text) {
            if let Some(target) = resolve(&module, inline, &target) {
                edges.push((name.clone(), module.clone(), target));
            }
        }
    }
    edges
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("readable directory")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The module a file defines; `None` for the binaries, which sit on top.
fn module_of(relative: &Path) -> Option<Vec<String>> {
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    let mut module: Vec<String> = parts
        .into_iter()
        .map(|p| p.trim_end_matches(".rs").to_owned())
        .collect();
    if module.last().is_some_and(|m| m == "mod" || m == "lib") {
        module.pop();
    }
    Some(module)
}

/// The paths a file names, each with whether it stands inside an inline
/// `mod x { .. }` block (where `super` is the file's own module).
fn references(text: &str) -> Vec<(bool, Vec<String>)> {
    let mut found = Vec::new();
    let mut inline_depth: Option<i32> = None;
    let mut depth = 0i32;
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let trimmed = code.trim_start();
        if inline_depth.is_none()
            && (trimmed.starts_with("mod ") || trimmed.starts_with("pub mod "))
            && trimmed.trim_end().ends_with('{')
        {
            inline_depth = Some(depth);
        }
        let inside = inline_depth.is_some();
        for start in path_starts(code) {
            found.push((inside, use_tree_paths(&code[start..], text, line)));
        }
        depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
        if inline_depth.is_some_and(|d| depth <= d) {
            inline_depth = None;
        }
    }
    found
        .into_iter()
        .flat_map(|(i, ps)| ps.into_iter().map(move |p| (i, p)))
        .collect()
}

/// Where `crate::`, `super::` or `self::` paths begin in `code`.
fn path_starts(code: &str) -> Vec<usize> {
    let bytes = code.as_bytes();
    let mut starts = Vec::new();
    for keyword in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(keyword) {
            let at = from + at;
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let is_start =
                !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':');
            if is_start {
                starts.push(at);
            }
            from = at + keyword.len();
        }
    }
    starts
}

/// The paths of the use tree starting at `rest` (which may continue past
/// its line: the rest of the file is searched from `line`).
fn use_tree_paths(rest: &str, text: &str, line: &str) -> Vec<Vec<String>> {
    let tail = match text.find(line) {
        Some(at) => {
            let offset = at + (line.len() - rest.len().min(line.len()));
            &text[offset..]
        }
        None => rest,
    };
    let mut paths = Vec::new();
    parse_tree(tail, Vec::new(), &mut paths);
    paths
}

/// Parses one use tree at the start of `s` under `prefix`; returns how
/// many bytes it took.
fn parse_tree(s: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix;
    let mut i = 0;
    let bytes = s.as_bytes();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'{' {
            i += 1;
            loop {
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return i + 1;
                }
                i += parse_tree(&s[i..], path.clone(), out);
            }
        }
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if start == i {
            out.push(path);
            return i;
        }
        path.push(s[start..i].to_owned());
        if s[i..].starts_with("::") {
            i += 2;
        } else {
            out.push(path);
            // A rename (`x as y`) names nothing more.
            let rest = s[i..].trim_start();
            if let Some(alias) = rest.strip_prefix("as ") {
                let alias = alias.trim_start();
                let end = alias
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(alias.len());
                return s.len() - alias.len() + end;
            }
            return i;
        }
    }
}

/// `path` (as written in `module`) from the crate root; `None` for a path
/// that leaves the crate or names nothing.
fn resolve(module: &[String], inline: bool, path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = module.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            let mut inline = inline;
            while rest.first().is_some_and(|s| s == "super") {
                if inline {
                    inline = false;
                } else {
                    base.pop()?;
                }
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    // `crate::x::self` and the like: keep the named segments only.
    let named: Vec<String> = rest
        .iter()
        .filter(|s| s.as_str() != "self" && s.as_str() != "*")
        .cloned()
        .collect();
    base.extend(named);
    Some(base)
}
