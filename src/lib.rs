//! subtwin: a digital twin of a subscription business.
//!
//! Data flows one way: export bytes → [`import`] (subscription records and problem rows) →
//! [`history`] (the business month by month) → [`report`] (the documented JSON shape and the text a
//! person reads) → [`chart`] (plotters drawings on any backend).
//!
//! Everything above is plain Rust: no clock, no file system, no browser. The native command
//! (`src/main.rs`) and the browser boundary (`web`, compiled for wasm32 only, the one module that
//! names wasm-bindgen, js-sys or web-sys) are thin wrappers that pass bytes and options in and print
//! or post what comes out. [`demo`] writes the built-in demo company as a Stripe,
//! Chargebee, Recurly or Baremetrics export.

pub mod chart;
pub mod demo;
pub mod history;
pub mod import;
pub mod money;
pub mod report;

#[cfg(target_arch = "wasm32")]
pub mod web;

use import::{ImportError, ImportOptions, Progress};
use report::HistoryReport;

/// What a person can ask of a history run, beyond the file itself.
#[derive(Clone, Debug, Default)]
pub struct HistoryRequest {
    pub import: ImportOptions,
    pub history: history::HistoryOptions,
}

/// Imports one export and rebuilds its history: the whole pipeline behind `subtwin history` and the
/// page, so both produce the same report from the same bytes.
pub fn history_of_export(
    file: &str,
    bytes: &[u8],
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<HistoryReport, ImportError> {
    let imported = import::import(file, bytes, &request.import, on_progress)?;
    let history = history::build(&imported.subscriptions, &request.history).ok_or_else(|| ImportError {
        file: file.to_owned(),
        message: format!(
            "none of the file's {} rows is in the analysed currency; they were all set aside.",
            imported.rows_read
        ),
        problems: imported.problems.clone(),
    })?;
    Ok(report::history_report(&imported, &history))
}
