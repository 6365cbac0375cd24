//! The live view on stderr while checks run: one line, rewritten, only on a terminal.

use crate::runner::Event;
use std::io::Write;
use tokio::sync::mpsc;

/// Draws progress until the channel closes, then clears the line.
pub async fn draw(mut events: mpsc::UnboundedReceiver<Event>, total_hint: usize) {
    let mut running: Vec<String> = Vec::new();
    let mut finished = 0usize;
    let mut stderr = std::io::stderr();
    while let Some(event) = events.recv().await {
        match event {
            Event::Started { id, target } => running.push(format!("{id} {target}")),
            Event::Finished(result) => {
                finished += 1;
                let label = format!("{} {}", result.id, result.target);
                running.retain(|r| *r != label);
            }
        }
        let current = running.last().map(String::as_str).unwrap_or("");
        let mut line = format!(
            "[{finished}/{}] {} running {current}",
            total_hint.max(finished),
            running.len()
        );
        line.truncate(100);
        let _ = write!(stderr, "\r\x1b[2K{line}");
        let _ = stderr.flush();
    }
    let _ = write!(stderr, "\r\x1b[2K");
    let _ = stderr.flush();
}
