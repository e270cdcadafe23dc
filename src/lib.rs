//! keyhound finds leaked AWS credentials in files.
//!
//! The pipeline runs one way: [`source`] turns inputs into chunks of bytes with provenance,
//! [`matcher`] finds rule matches in a chunk, [`finding`] turns matches into located findings,
//! [`filter`] orders and de-duplicates them, and [`report`] writes them out. [`scan`] is the one
//! place that wires these together up to the findings, [`conclude`] the one that takes them to
//! a report and a verdict; [`audit`] runs history scans over many repositories and joins their
//! results; [`rules`] compiles the rule data that the matcher runs.

pub mod audit;
pub mod aws;
pub mod cache;
pub mod cli;
pub mod conclude;
pub mod config;
pub mod decode;
pub mod filter;
pub mod finding;
pub mod hook;
pub mod matcher;
pub mod merge;
pub mod output_file;
pub mod report;
pub mod respond;
pub mod rules;
pub mod scan;
pub mod source;
pub mod textfile;
pub mod verify;

mod hex;
mod lines;
