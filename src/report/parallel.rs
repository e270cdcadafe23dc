//! Rendering a report's findings on every core.
//!
//! Building and formatting each finding's text is most of what a report costs when there are
//! many findings, and it runs after the scan, when nothing else does. Each thread renders a run
//! of consecutive items into a buffer of its own, and the buffers come back in item order, so
//! the report is the same byte for byte whatever the number of threads.

use std::io;
use std::num::NonZeroUsize;
use std::thread;

/// The fewest items a thread is given: for fewer, starting a thread costs more than it saves.
pub const MIN_RUN: usize = 64;

/// Renders every item of `items` with `render`, which is given the item's index and appends
/// its text to the buffer; returns the buffers of the runs, in order.
pub fn render<T: Sync>(
    items: &[T],
    render: impl Fn(usize, &T, &mut Vec<u8>) -> io::Result<()> + Sync,
) -> io::Result<Vec<Vec<u8>>> {
    let threads = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let runs = threads.min(items.len() / MIN_RUN).max(1);
    let run_len = items.len().div_ceil(runs).max(1);
    let render_run = |first: usize, run: &[T]| -> io::Result<Vec<u8>> {
        let mut text = Vec::new();
        for (i, item) in run.iter().enumerate() {
            render(first + i, item, &mut text)?;
        }
        Ok(text)
    };
    if runs == 1 {
        return Ok(vec![render_run(0, items)?]);
    }
    let render_run = &render_run;
    thread::scope(|scope| {
        let mut runs = items.chunks(run_len).enumerate();
        let (_, first_run) = runs.next().expect("two runs or more");
        let others: Vec<_> = runs
            .map(|(k, run)| scope.spawn(move || render_run(k * run_len, run)))
            .collect();
        // This thread renders the first run while the others render theirs.
        let first = render_run(0, first_run);
        std::iter::once(first)
            .chain(others.into_iter().map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }))
            .collect()
    })
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
