//! subtwin: a digital twin of a subscription business.
//!
//! Data flows one way: export bytes → [`import`] (subscription records and problem rows) →
//! [`history`] (the business month by month) → [`report`] (the documented JSON shape and the text a
//! person reads) → [`chart`] (plotters drawings on any backend).
//!
//! Snapshot tables and cohort tables, which are not subscription lists, take a shorter way:
//! [`import::snapshot`] and [`import::cohort`] read them, and [`report::snapshot`] and
//! [`report::cohort`] report them; [`analyse_export`] reads a file of any of these kinds.
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

use import::{ImportError, ImportOptions, Problem, Progress, TableKind};
use report::cohort::CohortReport;
use report::snapshot::SnapshotReport;
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
    match history::build(&subscriptions, &request.history) {
        Some(history) => Ok(report::history_report(&imports, &history)),
        None => Err(import::nothing_readable(imports)),
    }
}

/// What `subtwin history` makes of a file, by the kind of table it holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Analysis {
    /// A subscriptions export: the business month by month.
    History(HistoryReport),
    /// A snapshot table (one row per customer, a tenure and a churn flag): actives, MRR and the
    /// at-risk and churned counts by tenure, per segment.
    Snapshot(SnapshotReport),
    /// A cohort table: survivors by cohort and age, per segment.
    Cohorts(CohortReport),
}

impl Analysis {
    /// The documented JSON, one line: a history's is unchanged (it has no `kind`); the others say
    /// `"kind": "snapshot"` or `"kind": "cohorts"`.
    pub fn to_json(&self) -> String {
        let json = match self {
            Analysis::History(report) => return report::to_json(report),
            Analysis::Snapshot(report) => serde_json::to_string(report),
            Analysis::Cohorts(report) => serde_json::to_string(report),
        };
        // Serialising plain structs of numbers, strings and lists cannot fail.
        json.unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The text the command prints: what was understood, then the tables.
    pub fn to_text(&self) -> String {
        match self {
            Analysis::History(report) => report::render_text(&report::history_view(report)),
            Analysis::Snapshot(report) => report::render_tables_text(&report::snapshot::snapshot_view(report)),
            Analysis::Cohorts(report) => report::render_tables_text(&report::cohort::cohort_view(report)),
        }
    }

    /// The rows set aside, with their line, column, value, reason and hint.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Analysis::History(report) => &report.problems,
            Analysis::Snapshot(report) => &report.problems,
            Analysis::Cohorts(report) => &report.problems,
        }
    }

    /// How many rows were set aside (distinct lines with a problem).
    pub fn rows_set_aside(&self) -> u64 {
        match self {
            Analysis::History(report) => report.summary.rows_set_aside,
            Analysis::Snapshot(report) => report.summary.rows_set_aside,
            Analysis::Cohorts(report) => report.summary.rows_set_aside,
        }
    }
}

/// Reads one file of any kind subtwin knows (see [`import::table_kind`]): a subscriptions export
/// gives its history (as [`history_of_export`]), a snapshot or a cohort table its own report.
pub fn analyse_export(
    file: &str,
    bytes: &[u8],
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Analysis, ImportError> {
    analyse_exports(&[(file, bytes)], request, on_progress)
}

/// What subtwin also reads, for the message about a file it does not recognise.
const OTHER_KINDS: &str = "subtwin also reads snapshot tables (one row per customer with a tenure, a churn flag \
and a monthly price, such as the telco churn data set) and cohort tables (segment,cohort,age,active).";

/// Reads several files: subscriptions exports as one business (as [`history_of_exports`]); a
/// snapshot or a cohort table is read alone.
pub fn analyse_exports(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Analysis, ImportError> {
    let kinds: Vec<TableKind> = inputs.iter().map(|(_, bytes)| import::table_kind(bytes, &request.import)).collect();
    let table = inputs.iter().zip(&kinds).find(|(_, kind)| matches!(kind, TableKind::Snapshot | TableKind::Cohorts));
    if let Some(((file, bytes), kind)) = table {
        let what = if *kind == TableKind::Snapshot { "a snapshot table" } else { "a cohort table" };
        let fail = |message: String| Err(ImportError::new(file, message));
        if inputs.len() > 1 {
            return fail(format!("this is {what}, which is read on its own: give it without the other files."));
        }
        if request.history.as_of.is_some() {
            return fail(format!("this is {what}: it has no dates, so --as-of (the as-of date) does not apply."));
        }
        if request.import.fx.is_some() {
            return fail(format!("this is {what}, in one currency: exchange rates (--fx) do not apply."));
        }
        if *kind == TableKind::Snapshot {
            let import = import::snapshot::import(file, bytes, &request.import, on_progress)?;
            return Ok(Analysis::Snapshot(report::snapshot::snapshot_report(&import)));
        }
        if request.import.segment.is_some() {
            return fail(
                "this is a cohort table, whose segments are its segment column: --segment does not apply.".into(),
            );
        }
        let import = import::cohort::import(file, bytes, &request.import, on_progress)?;
        return Ok(Analysis::Cohorts(report::cohort::cohort_report(&import)));
    }
    if request.import.segment.is_some() {
        let file = inputs.first().map(|(file, _)| *file).unwrap_or_default();
        return Err(ImportError::new(
            file,
            "--segment applies to snapshot tables; a subscriptions export is segmented by product and billing \
             interval."
                .into(),
        ));
    }
    history_of_exports(inputs, request, on_progress).map(Analysis::History).map_err(|mut error| {
        let unrecognised =
            inputs.iter().zip(&kinds).any(|((file, _), kind)| *kind == TableKind::Unrecognised && error.file == *file);
        if unrecognised {
            error.message = format!("{} {OTHER_KINDS}", error.message);
        }
        error
    })
}
