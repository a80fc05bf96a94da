//! `cairn plugin new`, `build` and `test`: a plugin project from the
//! templates, built and tested with the pinned toolchain of its language.
//!
//! A project is a template (`examples/templates`, built into the binary by
//! `templates.rs`) with its sample names replaced by the plugin's, its
//! scripts pointed at this Cairn's SDK and WIT folders, and its component
//! named after the plugin (`NAME.wasm`, which is also what names a migrator
//! at `plugin add`). `build` and `test` run the project's own `build` and
//! `test` scripts, which pin the toolchains (wasm32-wasip2 for Rust,
//! componentize-py 0.25.1, jco 1.35.0): the scripts are the one place that
//! says how a project builds, so a project built by hand builds the same.

mod templates;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::exit::UsageError;
use templates::{TemplateFile, TEMPLATE_FILES};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Language {
    Rust,
    Python,
    #[value(alias = "javascript")]
    Js,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Aggregate,
    Migrator,
    Handler,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// The plugin's language
    #[arg(long)]
    lang: Language,
    /// What the plugin is
    #[arg(long)]
    kind: Kind,
    /// The plugin's name, lower-case words joined by hyphens (my-ledger); an aggregate's type, a handler's name
    name: String,
    /// Where to create the project [default: ./NAME]; it must not exist or be empty
    directory: Option<PathBuf>,
    /// Cairn's sdk/ folder the project builds against [default: CAIRN_SDK, else the checkout this cairn was built from]
    #[arg(long, env = "CAIRN_SDK")]
    sdk: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The project's directory
    #[arg(default_value = ".")]
    directory: PathBuf,
}

impl Language {
    fn template_prefix(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Js => "javascript",
        }
    }
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Aggregate => "aggregate",
            Kind::Migrator => "migrator",
            Kind::Handler => "handler",
        }
    }

    /// The name the templates of this kind use, which a project replaces.
    fn sample_name(self) -> &'static str {
        match self {
            Kind::Aggregate => "counter",
            Kind::Migrator => "add-unit",
            Kind::Handler => "event-type-counts",
        }
    }
}

pub fn new(args: &NewArgs) -> anyhow::Result<()> {
    check_name(&args.name)?;
    let directory = args.directory.clone().unwrap_or_else(|| PathBuf::from(&args.name));
    if directory.exists() && std::fs::read_dir(&directory).map(|mut entries| entries.next().is_some()).unwrap_or(true) {
        return Err(UsageError(format!("{} already exists and is not empty; name a new directory", directory.display())).into());
    }
    let sdk = find_sdk(args.sdk.as_deref())?;
    let template = format!("{}-{}", args.lang.template_prefix(), args.kind.as_str());
    let files: Vec<&TemplateFile> = TEMPLATE_FILES.iter().filter(|(name, _)| *name == template).map(|(_, file)| file).collect();
    let names = Names { sample: NameForms::of(args.kind.sample_name()), chosen: NameForms::of(&args.name), kind: args.kind };
    // Written beside the target and renamed into place, so a failure
    // leaves no half-made project behind.
    let parent = directory.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = tempfile::Builder::new().prefix(".cairn-plugin-new-").tempdir_in(parent).with_context(|| format!("cannot write in {}", parent.display()))?;
    for file in files {
        let text = names.fill(file.text, &sdk);
        let path = staging.path().join(file.path);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        if file.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    if directory.exists() {
        std::fs::remove_dir(&directory).with_context(|| format!("cannot replace the empty {}", directory.display()))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &directory).with_context(|| format!("cannot move the project into {}", directory.display()))?;
    println!("created a {} {} plugin `{}` in {}", template_language_name(args.lang), args.kind.as_str(), args.name, directory.display());
    println!("next: cairn plugin test {0} && cairn plugin build {0} && cairn plugin add {0}/{1}.wasm", directory.display(), args.name);
    Ok(())
}

/// Runs the project's `build` script.
pub fn build(args: &ProjectArgs) -> anyhow::Result<()> {
    run_script(&args.directory, "build")
}

/// Runs the project's `test` script.
pub fn test(args: &ProjectArgs) -> anyhow::Result<()> {
    run_script(&args.directory, "test")
}

fn run_script(directory: &Path, script: &str) -> anyhow::Result<()> {
    let mut command = script_command(directory, script)?;
    let status = command.status().with_context(|| format!("cannot run {}", directory.join(script).display()))?;
    if !status.success() {
        anyhow::bail!("{} failed ({status}); its output above says why", directory.join(script).display());
    }
    Ok(())
}

/// The project's `build` or `test` script, ready to run with the pinned
/// toolchains; a usage error when `directory` is no plugin project.
pub fn script_command(directory: &Path, script: &str) -> Result<std::process::Command, UsageError> {
    let path = directory.join(script);
    if !path.is_file() {
        return Err(UsageError(format!(
            "{} has no `{script}` script, so it is not a plugin project; create one with `cairn plugin new --lang rust --kind aggregate NAME`",
            directory.display()
        )));
    }
    let mut command = std::process::Command::new(&path);
    for (variable, tool) in pinned_tools() {
        if std::env::var_os(variable).is_none() {
            command.env(variable, tool);
        }
    }
    Ok(command)
}

/// The pinned Python and JavaScript toolchains that `plugins/build-polyglot`
/// installs into the Cairn checkout, when they are there: with them a
/// project builds offline. Without them the scripts install the same
/// versions into the project. A variable already set wins.
fn pinned_tools() -> Vec<(&'static str, PathBuf)> {
    let Ok(sdk) = find_sdk(std::env::var_os("CAIRN_SDK").map(PathBuf::from).as_deref()) else { return Vec::new() };
    let tools = sdk.parent().unwrap_or(Path::new("..")).join("plugins/.tools");
    [
        ("COMPONENTIZE_PY", tools.join("venv/bin/componentize-py")),
        ("PYTHON", tools.join("venv/bin/python")),
        ("JCO", tools.join("js/node_modules/.bin/jco")),
    ]
    .into_iter()
    .filter(|(_, tool)| tool.is_file())
    .collect()
}

fn template_language_name(language: Language) -> &'static str {
    match language {
        Language::Rust => "Rust",
        Language::Python => "Python",
        Language::Js => "JavaScript",
    }
}

/// A plugin name is what the registry, an aggregate type and a file name
/// all accept: lower-case words of letters and digits joined by hyphens.
fn check_name(name: &str) -> Result<(), UsageError> {
    let words_ok = name.split('-').all(|word| !word.is_empty() && word.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit()));
    let starts_ok = name.bytes().next().is_some_and(|byte| byte.is_ascii_lowercase());
    if !(words_ok && starts_ok) || name.len() > 64 {
        return Err(UsageError(format!(
            "`{name}` is not a plugin name: use lower-case words of letters and digits joined by hyphens, starting with a letter, at most 64 characters (like my-ledger)"
        )));
    }
    Ok(())
}

/// The SDK a project builds against: `--sdk` (or CAIRN_SDK), else the
/// `sdk/` of the checkout this binary was built from, when it is still there.
fn find_sdk(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk");
    let sdk = given.map(Path::to_path_buf).unwrap_or(built_from);
    let sdk = sdk.canonicalize().unwrap_or(sdk);
    let usable = sdk.join("Cargo.toml").is_file() && sdk.join("python").is_dir() && sdk.join("javascript").is_dir();
    if !usable || !wit_folder(&sdk).is_dir() {
        return Err(UsageError(format!(
            "{} is not Cairn's sdk/ folder (with Cargo.toml, python/ and javascript/, and ../wit beside it); pass --sdk PATH/TO/cairn/sdk or set CAIRN_SDK",
            sdk.display()
        ))
        .into());
    }
    Ok(sdk)
}

/// The WIT package the SDK beside it implements.
fn wit_folder(sdk: &Path) -> PathBuf {
    sdk.parent().unwrap_or(Path::new("..")).join("wit/cairn-plugin@0.2.0")
}

/// One name in the spellings the templates use.
struct NameForms {
    kebab: String,
    snake: String,
    pascal: String,
}

impl NameForms {
    fn of(name: &str) -> Self {
        let pascal = name.split('-').map(|word| word[..1].to_ascii_uppercase() + &word[1..]).collect();
        Self { kebab: name.to_owned(), snake: name.replace('-', "_"), pascal }
    }
}

struct Names {
    sample: NameForms,
    chosen: NameForms,
    kind: Kind,
}

impl Names {
    /// A template file with the chosen names, the SDK's place, and the
    /// component named after the plugin.
    fn fill(&self, text: &str, sdk: &Path) -> String {
        let sdk_text = sdk.to_string_lossy();
        let wit_text = wit_folder(sdk).to_string_lossy().into_owned();
        let component = format!("{}.wasm", self.kind.as_str());
        let mut text = text.replace(&self.sample.pascal, &self.chosen.pascal);
        // A one-word sample is spelled the same in snake and kebab case;
        // the templates use it only where a plugin name goes (kebab).
        if self.sample.snake != self.sample.kebab {
            text = text.replace(&self.sample.snake, &self.chosen.snake);
        }
        text.replace(&self.sample.kebab, &self.chosen.kebab)
            // The Python and JavaScript scripts write KIND.wasm; a project's
            // component is named after the plugin.
            .replace(&component, &format!("{}.wasm", self.chosen.kebab))
            .replace("../../../wit/cairn-plugin@0.2.0", &wit_text)
            .replace("../../../sdk", &sdk_text)
    }
}

#[cfg(test)]
mod tests {
    use super::{check_name, NameForms};

    #[test]
    fn names_are_lower_case_words_joined_by_hyphens() {
        for good in ["ledger", "my-ledger", "v2-orders"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-ledger", "ledger-", "my--ledger", "My-Ledger", "my_ledger", "2fa", "a b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let forms = NameForms::of("my-ledger");
        assert_eq!((forms.kebab.as_str(), forms.snake.as_str(), forms.pascal.as_str()), ("my-ledger", "my_ledger", "MyLedger"));
    }
}
