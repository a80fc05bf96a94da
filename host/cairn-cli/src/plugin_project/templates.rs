//! The nine plugin templates (`examples/templates`), built into the binary
//! so that `cairn plugin new` works wherever `cairn` is installed. Each
//! file is kept as it is in the repository, where `build-all` builds and
//! tests it; `cairn plugin new` fills in the names.

/// One file of a template: its path inside the project, its text, and
/// whether it is a script to mark executable.
pub struct TemplateFile {
    pub path: &'static str,
    pub text: &'static str,
    pub executable: bool,
}

macro_rules! template_files {
    ($($directory:literal / $path:literal),* $(,)?) => {
        /// Every template file, as `(template directory, file)`.
        pub const TEMPLATE_FILES: &[(&str, TemplateFile)] = &[
            $(($directory, TemplateFile {
                path: $path,
                text: include_str!(concat!("../../../../examples/templates/", $directory, "/", $path)),
                executable: matches!($path.as_bytes(), b"build" | b"test"),
            })),*
        ];
    };
}

template_files! {
    "javascript-aggregate" / "aggregate.js",
    "javascript-aggregate" / "aggregate.test.js",
    "javascript-aggregate" / "build",
    "javascript-aggregate" / "test",
    "javascript-handler" / "build",
    "javascript-handler" / "handler.js",
    "javascript-handler" / "handler.test.js",
    "javascript-handler" / "test",
    "javascript-migrator" / "build",
    "javascript-migrator" / "migrator.js",
    "javascript-migrator" / "migrator.test.js",
    "javascript-migrator" / "test",
    "python-aggregate" / "app.py",
    "python-aggregate" / "build",
    "python-aggregate" / "test",
    "python-aggregate" / "test_app.py",
    "python-handler" / "app.py",
    "python-handler" / "build",
    "python-handler" / "test",
    "python-handler" / "test_app.py",
    "python-migrator" / "app.py",
    "python-migrator" / "build",
    "python-migrator" / "test",
    "python-migrator" / "test_app.py",
    "rust-aggregate" / "Cargo.lock",
    "rust-aggregate" / "Cargo.toml",
    "rust-aggregate" / "build",
    "rust-aggregate" / "src/lib.rs",
    "rust-aggregate" / "test",
    "rust-handler" / "Cargo.lock",
    "rust-handler" / "Cargo.toml",
    "rust-handler" / "build",
    "rust-handler" / "src/lib.rs",
    "rust-handler" / "test",
    "rust-migrator" / "Cargo.lock",
    "rust-migrator" / "Cargo.toml",
    "rust-migrator" / "build",
    "rust-migrator" / "src/lib.rs",
    "rust-migrator" / "test",
}
