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
    history_of_exports(&[(file, bytes)], request, on_progress)
}

/// Imports several exports as one business (see [`import::import_all`]) and rebuilds its history.
pub fn history_of_exports(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<HistoryReport, ImportError> {
    let imports = import::import_all(inputs, &request.import, on_progress)?;
    let subscriptions: Vec<import::Subscription> =
        imports.iter().flat_map(|i| i.subscriptions.iter().cloned()).collect();
    let history = history::build(&subscriptions, &request.history).ok_or_else(|| {
        let names: Vec<&str> = inputs.iter().map(|(name, _)| *name).collect();
        ImportError {
            file: names.join(", "),
            message: "no row is in the analysed currency; they were all set aside.".into(),
            problems: imports.iter().flat_map(|i| i.problems.iter().cloned()).collect(),
        }
    })?;
    Ok(report::history_report(&imports, &history))
}
