use std::io::{BufWriter, Write};

use cairn::RecordedEvent;

/// Writes events as JSON lines through one buffered, locked stdout.
pub struct EventPrinter {
    out: BufWriter<std::io::StdoutLock<'static>>,
}

impl EventPrinter {
    pub fn new() -> Self {
        Self { out: BufWriter::with_capacity(1 << 16, std::io::stdout().lock()) }
    }

    pub fn print(&mut self, event: &RecordedEvent) -> anyhow::Result<()> {
        serde_json::to_writer(&mut self.out, event)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

/// A broken pipe (`cairn log | head`) is a normal way for output to end.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<serde_json::Error>().is_some_and(|json| json.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    })
}

/// A time for tables: UTC, to the second.
pub fn format_time(instant: &chrono::DateTime<chrono::Utc>) -> String {
    instant.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
