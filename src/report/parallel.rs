//! Rendering a report's findings on every core.
//!
//! Building and formatting each finding's text is most of what a report costs when there are
//! many findings, and it runs after the scan, when nothing else does. The calling thread starts
//! at once and the others join in as they start (a thread can take a millisecond to get a core
//! that was idle): each claims the next batch of items, renders it into a buffer of its own, and
//! the buffers come back in item order, so the report is the same byte for byte whatever the
//! number of threads.

use std::io;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// The fewest items a thread is started for: for fewer, starting it costs more than it saves.
pub const MIN_RUN: usize = 64;

/// How many items a thread claims at a time.
const BATCH: usize = 32;

/// Renders every item of `items` with `render`, which is given the item's index and appends
/// its text to the buffer; returns the rendered text in buffers, in item order.
pub fn render<T: Sync>(
    items: &[T],
    render: impl Fn(usize, &T, &mut Vec<u8>) -> io::Result<()> + Sync,
) -> io::Result<Vec<Vec<u8>>> {
    let threads = thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(items.len() / MIN_RUN)
        .max(1);
    let next_batch = AtomicUsize::new(0);
    // The batches one thread claimed, each with its number.
    let render_batches = || -> io::Result<Vec<(usize, Vec<u8>)>> {
        let mut rendered = Vec::new();
        loop {
            let batch = next_batch.fetch_add(1, Ordering::Relaxed);
            let first = batch.saturating_mul(BATCH);
            let Some(run) = items.get(first..items.len().min(first + BATCH)) else {
                return Ok(rendered);
            };
            if run.is_empty() {
                return Ok(rendered);
            }
            let mut text = Vec::new();
            for (i, item) in run.iter().enumerate() {
                render(first + i, item, &mut text)?;
            }
            rendered.push((batch, text));
        }
    };
    let mut rendered = thread::scope(|scope| -> io::Result<_> {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(render_batches)).collect();
        let mut rendered = render_batches()?;
        for helper in helpers {
            let theirs = helper
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            rendered.extend(theirs);
        }
        Ok(rendered)
    })?;
    rendered.sort_unstable_by_key(|(batch, _)| *batch);
    Ok(rendered.into_iter().map(|(_, text)| text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(count: usize) -> String {
        let items: Vec<usize> = (0..count).map(|i| i * 3).collect();
        let runs = render(&items, |index, item, out| {
            out.extend_from_slice(format!("{index}:{item};").as_bytes());
            Ok(())
        })
        .unwrap();
        String::from_utf8(runs.concat()).unwrap()
    }

    #[test]
    fn every_item_is_rendered_once_in_order_with_its_index() {
        for count in [0, 1, MIN_RUN - 1, MIN_RUN, 2 * MIN_RUN + 1, 1000] {
            let expected: String = (0..count).map(|i| format!("{i}:{};", i * 3)).collect();
            assert_eq!(rendered(count), expected, "{count} items");
        }
    }

    #[test]
    fn an_error_of_any_run_is_returned() {
        let items: Vec<usize> = (0..1000).collect();
        let result = render(&items, |index, _, _| {
            if index == 999 {
                Err(io::Error::other("disk full"))
            } else {
                Ok(())
            }
        });
        assert_eq!(result.unwrap_err().to_string(), "disk full");
    }
}
