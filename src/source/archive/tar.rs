//! Tar archives, header by header.

use std::io::Read;

use super::{hand_over, Budget, Entry, Stop};

/// Hands every regular file of the tar `input` to `visit`.
pub(super) fn entries(
    input: &mut dyn Read,
    budget: &Budget,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Result<(), Stop> {
    let mut archive = tar::Archive::new(input);
    let entries = archive
        .entries()
        .map_err(|e| Stop::Unreadable(format!("damaged tar: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Stop::Unreadable(format!("damaged tar: {e}")))?;
        if !matches!(
            entry.header().entry_type(),
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse
        ) {
            continue;
        }
        budget.take_entry()?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !hand_over(name, &mut entry, budget, visit) {
            return Ok(());
        }
    }
    Ok(())
}
