//! The running binary, driven as a user drives it: one-off commands
//! (`run`), and `cairn exec --commands -` with a command line written and
//! its result line read before the next one is sent (`start`).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use cairn_bench_peer::{AccountCommand, Outcome};

/// The running binary, pointed at one store and compile cache.
pub(crate) struct CairnProcess {
    executable: PathBuf,
    store: String,
    durability: &'static str,
    cache: PathBuf,
}

impl CairnProcess {
    pub fn new(store: String, durability: &'static str, cache: PathBuf) -> anyhow::Result<Self> {
        Ok(Self { executable: std::env::current_exe()?, store, durability, cache })
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.executable);
        command
            .arg("--store")
            .arg(&self.store)
            .arg("--durability")
            .arg(self.durability)
            .arg("--compile-cache")
            .arg(&self.cache)
            .env_remove("CAIRN_STORE");
        command
    }

    /// Runs `cairn ARGUMENTS` to the end; a failure says why.
    pub fn run(&self, arguments: &[&str]) -> anyhow::Result<()> {
        let output = self.command().args(arguments).output()?;
        anyhow::ensure!(output.status.success(), "cairn {} failed ({}): {}", arguments.join(" "), output.status, String::from_utf8_lossy(&output.stderr).trim());
        Ok(())
    }

    /// A new `exec --commands -` process: its caches start empty. Its
    /// stderr goes to a file beside the compile cache, so that a chatty log
    /// can never fill a pipe and stall it.
    pub fn start(&self) -> anyhow::Result<Session> {
        let log = self.cache.with_extension("exec.log");
        let mut child = self
            .command()
            // The client needs only each command's outcome, as a user
            // driving commands from a program would ask for it.
            .args(["exec", "--commands", "-", "--output", "summary"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let input = child.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin"))?;
        let output = BufReader::new(child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?);
        Ok(Session { child, input, output, log, line: String::new(), refused: 0 })
    }
}

pub(crate) struct Session {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    log: PathBuf,
    line: String,
    refused: usize,
}

impl Session {
    /// Sends one command and waits for its result line, which must be `expected`.
    pub fn send(&mut self, account: &str, command: &AccountCommand, expected: Outcome) -> anyhow::Result<()> {
        let (command_type, payload) = match command {
            AccountCommand::Open { owner } => ("Open", serde_json::json!({ "owner": owner })),
            AccountCommand::Deposit { amount } => ("Deposit", serde_json::json!({ "amount": amount })),
            AccountCommand::Withdraw { amount } => ("Withdraw", serde_json::json!({ "amount": amount })),
            AccountCommand::Close {} => ("Close", serde_json::json!({})),
        };
        let request = serde_json::json!({ "aggregate_type": "bank-account", "aggregate_id": account, "command_type": command_type, "payload": payload });
        writeln!(self.input, "{request}")?;
        self.input.flush()?;
        self.line.clear();
        if self.output.read_line(&mut self.line)? == 0 {
            return Err(self.failed(format!("cairn exec ended before answering {command_type} on {account}")));
        }
        let answer: serde_json::Value = serde_json::from_str(&self.line)?;
        let outcome = match (answer["ok"].as_bool(), answer["error"].as_str()) {
            (Some(true), _) => Outcome::Accepted,
            (Some(false), Some("rejected")) => Outcome::Rejected,
            _ => return Err(self.failed(format!("cairn exec answered {} to {command_type} on {account}", self.line.trim()))),
        };
        anyhow::ensure!(outcome == expected, "cairn exec answered {outcome:?} to {command_type} on {account}, where {expected:?} was due: {}", self.line.trim());
        self.refused += usize::from(outcome == Outcome::Rejected);
        Ok(())
    }

    /// CPU time the process has used so far, all its threads.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        cpu_time(self.child.id())
    }

    /// Ends the input and waits for the process; it exits non-zero exactly
    /// when some command was refused.
    pub fn finish(mut self) -> anyhow::Result<()> {
        drop(self.input);
        let status = self.child.wait()?;
        anyhow::ensure!(
            status.success() == (self.refused == 0),
            "cairn exec exited with {status} after {} refusals: {}",
            self.refused,
            std::fs::read_to_string(&self.log).unwrap_or_default().trim()
        );
        Ok(())
    }

    fn failed(&mut self, message: String) -> anyhow::Error {
        let _ = self.child.kill();
        let _ = self.child.wait();
        anyhow::anyhow!("{message}; its stderr: {}", std::fs::read_to_string(&self.log).unwrap_or_default().trim())
    }
}

/// User plus system CPU time of process `pid`, all threads, from
/// /proc/PID/stat (Linux), whose clock ticks are 1/100 s on every Linux ABI.
pub(crate) fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; the fields after it don't.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).ok_or_else(|| anyhow::anyhow!("unreadable /proc/{pid}/stat"))?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<u64> { Ok(fields.get(index).ok_or_else(|| anyhow::anyhow!("short /proc/{pid}/stat"))?.parse()?) };
    // Fields 14 (utime) and 15 (stime), counted from field 3 at index 0.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}
