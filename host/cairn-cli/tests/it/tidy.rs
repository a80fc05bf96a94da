//! Rules of the codebase that a compiler does not check, checked by reading
//! the sources (as rust-analyzer's tidy tests do). Each failure names the
//! file and the rule.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 500;
const MAX_FUNCTION_LINES: usize = 80;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Every Rust source file of the host, the SDK and the plugins.
fn rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = ["host", "sdk/src", "plugins"].iter().map(|folder| repository().join(folder)).collect();
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap().map(Result::unwrap) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() && !["target", ".tools", "node_modules"].contains(&name.as_str()) {
                pending.push(path);
            } else if name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repository()).unwrap().display().to_string()
}

/// Functions longer than the limit, with their first line and length. A
/// function runs from its `fn` line to where its braces close; braces in
/// string literals, characters and comments are not counted.
fn long_functions(text: &str) -> Vec<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let declaration = ["fn ", "pub fn ", "pub(crate) fn ", "pub(super) fn ", "async fn ", "pub async fn ", "pub(crate) async fn ", "pub(super) async fn ", "const fn ", "pub const fn "]
            .iter()
            .any(|prefix| trimmed.starts_with(prefix));
        if !declaration || trimmed.ends_with(';') {
            continue;
        }
        let (mut depth, mut opened) = (0i64, false);
        for (offset, body_line) in lines[start..].iter().enumerate() {
            for character in code_of(body_line).chars() {
                match character {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                if offset + 1 > MAX_FUNCTION_LINES {
                    found.push((start + 1, offset + 1));
                }
                break;
            }
        }
    }
    found
}

/// A line without its comment, string literals and character literals.
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut characters = line.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '/' if characters.peek() == Some(&'/') => break,
            '"' => {
                while let Some(inner) = characters.next() {
                    match inner {
                        '\\' => {
                            characters.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' => {
                // A character literal ('{' or '\n'); a lifetime has no closing quote nearby.
                let rest: String = characters.clone().take(3).collect();
                if rest.chars().nth(1) == Some('\'') || (rest.starts_with('\\') && rest.chars().nth(2) == Some('\'')) {
                    let skip = if rest.starts_with('\\') { 3 } else { 2 };
                    for _ in 0..skip {
                        characters.next();
                    }
                }
            }
            other => code.push(other),
        }
    }
    code
}

#[test]
fn files_and_functions_stay_readable_in_one_sitting() {
    let mut problems = Vec::new();
    for path in rust_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            problems.push(format!("{} has {lines} lines, over {MAX_FILE_LINES}: split it by concept", relative(&path)));
        }
        for (line, length) in long_functions(&text) {
            problems.push(format!("{}:{line}: a function of {length} lines, over {MAX_FUNCTION_LINES}: split it", relative(&path)));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_length_rule_sees_long_functions_and_ignores_braces_in_strings() {
    let body = "    let x = 1;\n".repeat(MAX_FUNCTION_LINES);
    assert_eq!(long_functions(&format!("fn long() {{\n{body}}}\n")), vec![(1, MAX_FUNCTION_LINES + 2)]);
    assert!(long_functions("fn short() {\n    let text = \"}}}\";\n    let brace = '{';\n}\nfn next() {}\n").is_empty());
}

#[test]
fn front_ends_read_events_only_through_the_reader() {
    let reads = [".read_log(", ".read_stream(", ".event_by_id(", "follow_log("];
    let mut problems = Vec::new();
    for path in rust_files() {
        let name = relative(&path);
        if !(name.starts_with("host/cairn-http/") || name.starts_with("host/cairn-cli/src/")) {
            continue;
        }
        for (number, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            if let Some(read) = reads.iter().find(|read| line.contains(*read)) {
                problems.push(format!("{name}:{}: calls `{read}` on the store; read through cairn::read::Reader so events are upcast", number + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn only_the_bindings_module_names_generated_code() {
    let generated = ["bindgen!", "exports::cairn::", "cairn::plugin::types", "AggregatePluginPre", "HandlerPluginPre", "MigratorPluginPre"];
    let mut problems = Vec::new();
    for path in rust_files() {
        let name = relative(&path);
        if !name.starts_with("host/") || name.starts_with("host/cairn-runtime/src/bindings/") || name.starts_with("host/cairn-cli/tests/") {
            continue;
        }
        for (number, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            if let Some(marker) = generated.iter().find(|marker| line.contains(*marker)) {
                problems.push(format!("{name}:{}: names generated bindings (`{marker}`); keep them in cairn-runtime/src/bindings", number + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
