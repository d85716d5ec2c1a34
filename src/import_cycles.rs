//! No module imports one that imports it back, however long the way round: a test over the
//! `crate::` and `super::` paths of every file of `src/` (a file is a module; its tests are left
//! out, since a test may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn modules(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            modules(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap().with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
            out.insert(parts.join("::"), code);
        }
    }
}

/// The paths a file names: `crate::a::b`, each item of `crate::a::{b, c::d}`, and `super::x`
/// read from `parent`.
fn named_paths(code: &str, parent: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    for (prefix, base) in [("crate::", ""), ("super::", parent)] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let head: String = rest.chars().take_while(|c| ident(*c)).collect();
            let head = head.trim_end_matches(':');
            if head.is_empty() {
                continue;
            }
            let full = if base.is_empty() { head.to_string() } else { format!("{base}::{head}") };
            let after = &rest[head.len()..];
            match after.strip_prefix("::{") {
                Some(group) => {
                    for item in group.split('}').next().unwrap_or("").split(',') {
                        let item = item.split_whitespace().next().unwrap_or("");
                        paths.push(if item.is_empty() || item == "self" {
                            full.clone()
                        } else {
                            format!("{full}::{item}")
                        });
                    }
                }
                None => paths.push(full),
            }
        }
    }
    paths
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    modules(&root, &root, &mut files);
    let names: BTreeSet<String> = files.keys().cloned().collect();
    let resolve = |path: &str| {
        let parts: Vec<&str> = path.split("::").collect();
        (1..=parts.len()).rev().map(|k| parts[..k].join("::")).find(|m| names.contains(m))
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, code) in &files {
        let parent = module.rsplit_once("::").map(|(p, _)| p).unwrap_or("");
        let deps = named_paths(code, parent).iter().filter_map(|p| resolve(p)).filter(|d| d != module).collect();
        graph.insert(module.clone(), deps);
    }
    // For each module, every module it reaches; a module that reaches one that reaches it back
    // shares a cycle with it.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(m) = stack.pop() {
            for d in graph.get(&m).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = graph.keys().map(|m| (m, reach(m))).collect();
    let mut cycles = Vec::new();
    for (a, reaches) in &reached {
        for b in reaches.iter().filter(|b| *a < *b) {
            if reached.get(b).is_some_and(|back| back.contains(*a)) {
                cycles.push(format!("{a} ↔ {b}"));
            }
        }
    }
    assert!(graph.len() > 50, "read {} modules only", graph.len());
    assert!(cycles.is_empty(), "modules that import each other, directly or round about: {cycles:?}");
}
