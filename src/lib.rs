//! subtwin: a digital twin of a subscription business.
//!
//! Data flows one way: export bytes → [`import`] (subscription records and problem rows) →
//! [`history`] (the business month by month) → [`report`] (the documented JSON shape and the text a
//! person reads) → [`chart`] (plotters drawings on any backend).
//!
//! Snapshot tables and cohort tables, which are not subscription lists, take a shorter way:
//! [`import::snapshot`] and [`import::cohort`] read them, and [`report::snapshot`] and
//! [`report::cohort`] report them; [`analyse_export`] reads a file of any of these kinds.
//! [`fit_exports`] (bytes) and [`fit_reader`] (a file streamed) calibrate the twin on the same
//! files ([`model`]) and report it ([`report::fit`]; the page's view is [`report::fit_page`]).
//!
//! Everything above is plain Rust: no clock, no file system, no browser. The native command
//! (`src/main.rs`) and the browser boundary (`web`, compiled for wasm32 only, the one module that
//! names wasm-bindgen, js-sys or web-sys) are thin wrappers that pass bytes and options in and print
//! or post what comes out. [`demo`] writes the built-in demo company as a Stripe,
//! Chargebee, Recurly or Baremetrics export.

pub mod backtest;
pub mod chart;
pub mod demo;
pub mod export;
mod fasthash;
pub mod history;
pub mod import;
pub mod model;
pub mod money;
mod nonfinite;
pub mod report;
pub mod scenario;
pub mod share;
pub mod sim;
pub mod twin;

#[cfg(target_arch = "wasm32")]
pub mod web;

use std::io::Read;

use serde::{Deserialize, Serialize};

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
    history_of_reader(file, bytes, Some(bytes.len() as u64), request, on_progress)
}

/// [`history_of_export`] reading the export from a reader, a chunk at a time (a file on disk, a file
/// in the page): its text is never held whole, only its records. `len_hint` is its size when known,
/// for progress reports.
pub fn history_of_reader(
    file: &str,
    reader: impl Read,
    len_hint: Option<u64>,
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<HistoryReport, ImportError> {
    let imported = import::import_reader(file, reader, len_hint, &request.import, on_progress)?;
    history_of_business(Business::of(vec![imported], Vec::new()), request)
}

/// Imports several exports as one business (see [`import_business`]: subscriptions exports, with
/// any invoices or payments exports beside them) and rebuilds its history.
pub fn history_of_exports(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<HistoryReport, ImportError> {
    import_business(inputs, request, on_progress).and_then(|business| history_of_business(business, request))
}

/// A file's name and bytes.
type Input<'a> = (&'a str, &'a [u8]);

/// Subscriptions exports, with any invoices or payments exports beside them, imported as one
/// business: every later stage (the history, the models) starts from this.
#[derive(Clone, Debug)]
pub struct Business {
    /// What each subscriptions export held, its records moved into `subscriptions`.
    pub imports: Vec<import::Import>,
    pub charges: Vec<import::charges::ChargesImport>,
    /// What the invoices or payments changed, when there were any.
    pub refinement: Option<import::charges::Refinement>,
    /// Every file's subscriptions in one list, their revenue refined by the charges.
    pub subscriptions: Vec<import::Subscription>,
}

impl Business {
    /// Gathers the imports' subscriptions (moved, not copied) and refines them with the charges.
    pub fn of(mut imports: Vec<import::Import>, mut charges: Vec<import::charges::ChargesImport>) -> Business {
        let mut subscriptions = match imports.as_mut_slice() {
            [one] => std::mem::take(&mut one.subscriptions),
            several => several.iter_mut().flat_map(|i| std::mem::take(&mut i.subscriptions)).collect(),
        };
        let refinement = (!charges.is_empty()).then(|| import::charges::refine(&mut subscriptions, &mut charges));
        Business { imports, charges, refinement, subscriptions }
    }
}

/// Imports subscriptions exports and any invoices or payments exports given with them (told apart
/// by their headers) as one business. An invoices or payments export needs a subscriptions export
/// beside it.
pub fn import_business(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Business, ImportError> {
    let is_charges = |bytes: &[u8]| import::table_kind(bytes, &request.import) == TableKind::Charges;
    let (charge_inputs, subscription_inputs): (Vec<Input>, Vec<Input>) =
        inputs.iter().partition(|(_, bytes)| is_charges(bytes));
    if let (Some(&(file, bytes)), true) = (charge_inputs.first(), subscription_inputs.is_empty()) {
        let label = import::charges::source_of(bytes).map_or("an invoices or payments export", |s| s.label());
        return Err(ImportError::new(
            file,
            format!(
                "this is a {label}: it refines the revenue of a subscriptions export, so give the subscriptions \
                 export with it (both files at once)."
            ),
        ));
    }
    let imports = import::import_all(&subscription_inputs, &request.import, on_progress)?;
    let Some(currency) = imports.first().map(|i| i.currency.clone()) else {
        return Err(import::nothing_readable(imports));
    };
    let charges = charge_inputs
        .iter()
        .map(|(file, bytes)| import::charges::import(file, bytes, &currency, &request.import, on_progress))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Business::of(imports, charges))
}

/// The history of a business.
fn history_of_business(business: Business, request: &HistoryRequest) -> Result<HistoryReport, ImportError> {
    let Business { imports, charges, refinement, subscriptions } = business;
    match history::build(&subscriptions, &request.history) {
        Some(history) => Ok(report::history_report(&imports, &charges, refinement.as_ref(), &history)),
        None => Err(import::nothing_readable(imports)),
    }
}

/// How much of a file [`analyse_reader`] reads to tell its kind (the kind is told from the header).
const KIND_HEAD_BYTES: u64 = 1 << 20;

/// [`analyse_export`] reading the file from a reader: a subscriptions export is streamed through the
/// importer ([`history_of_reader`]), so a file of any size is read with only its records held; a
/// snapshot or cohort table (an aggregate, small by nature) is read whole. `len_hint` is the file's
/// size when known, for progress reports.
pub fn analyse_reader(
    file: &str,
    mut reader: impl Read,
    len_hint: Option<u64>,
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Analysis, ImportError> {
    let unreadable = |error: std::io::Error| ImportError::new(file, format!("the file could not be read ({error})."));
    let mut head = Vec::new();
    (&mut reader).take(KIND_HEAD_BYTES).read_to_end(&mut head).map_err(unreadable)?;
    let kind = import::table_kind(&head, &request.import);
    if matches!(kind, TableKind::Snapshot | TableKind::Cohorts | TableKind::Charges) {
        reader.read_to_end(&mut head).map_err(unreadable)?;
        return analyse_export(file, &head, request, on_progress);
    }
    if request.import.segment.is_some() {
        return Err(ImportError::new(file, SEGMENT_ONLY_FOR_SNAPSHOTS.into()));
    }
    let reader = std::io::Cursor::new(head).chain(reader);
    history_of_reader(file, reader, len_hint, request, on_progress).map(Analysis::History).map_err(|mut error| {
        if kind == TableKind::Unrecognised && error.file == file {
            error.message = format!("{} {OTHER_KINDS}", error.message);
        }
        error
    })
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
    /// Reads back what [`Analysis::to_json`] wrote (the page's main thread does, from the worker's
    /// JSON): a report with a `kind` is a snapshot or cohort table, one without a history.
    pub fn from_json(text: &str) -> Result<Analysis, String> {
        let unreadable = |e: serde_json::Error| format!("unreadable report: {e}");
        let value: serde_json::Value = serde_json::from_str(text).map_err(unreadable)?;
        Ok(match value.get("kind").and_then(|k| k.as_str()) {
            None => Analysis::History(serde_json::from_value(value).map_err(unreadable)?),
            Some("snapshot") => Analysis::Snapshot(serde_json::from_value(value).map_err(unreadable)?),
            Some("cohorts") => Analysis::Cohorts(serde_json::from_value(value).map_err(unreadable)?),
            Some(other) => return Err(format!("unknown report kind `{other}`")),
        })
    }

    /// Everything the page shows, as display strings.
    pub fn page_view(&self) -> report::PageView {
        match self {
            Analysis::History(r) => report::PageView::of_history(r, report::history_view(r)),
            Analysis::Snapshot(r) => report::PageView::of_tables("snapshot", report::snapshot::snapshot_view(r)),
            Analysis::Cohorts(r) => report::PageView::of_tables("cohorts", report::cohort::cohort_view(r)),
        }
    }

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

/// How the tables that are not subscription lists are segmented instead of `--segment-by`.
const SEGMENT_BY_TABLES: &str =
    "; a snapshot table is segmented by one of its columns with --segment, a cohort table by its segment column";

/// What subtwin also reads, for the message about a file it does not recognise.
const SEGMENT_ONLY_FOR_SNAPSHOTS: &str =
    "--segment applies to snapshot tables; a subscriptions export is segmented by product and billing interval.";

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
        if !request.import.segment_by.is_empty() {
            return fail(format!(
                "this is {what}: --segment-by applies to subscriptions exports{}.",
                SEGMENT_BY_TABLES
            ));
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
        return Err(ImportError::new(file, SEGMENT_ONLY_FOR_SNAPSHOTS.into()));
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

/// Calibrates the twin on one or more files (`subtwin fit`): a business's subscriptions exports
/// (with any invoices or payments exports beside them) give every model; a snapshot or cohort
/// table, read alone, gives retention only.
pub fn fit_exports(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<report::fit::FitReport, ImportError> {
    fit_exports_with(inputs, request, &backtest::BacktestOptions::default(), on_progress)
}

/// [`fit_exports`] with the backtest's cutoffs, paths and seed given.
pub fn fit_exports_with(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    backtest_options: &backtest::BacktestOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<report::fit::FitReport, ImportError> {
    use model::calibrate::calibrate_retention;
    use model::retention::RenewalData;
    use report::fit::{fit_report, FitSource};
    let kinds: Vec<TableKind> = inputs.iter().map(|(_, bytes)| import::table_kind(bytes, &request.import)).collect();
    let table = inputs.iter().zip(&kinds).find(|(_, kind)| matches!(kind, TableKind::Snapshot | TableKind::Cohorts));
    if let Some(((file, bytes), kind)) = table {
        if inputs.len() > 1 {
            return Err(ImportError::new(
                file,
                "a snapshot or cohort table is fitted on its own: give it alone.".into(),
            ));
        }
        if !request.import.segment_by.is_empty() {
            return Err(ImportError::new(
                file,
                format!("--segment-by applies to subscriptions exports{SEGMENT_BY_TABLES}."),
            ));
        }
        // The table's own problems; a table has no currency of its own and adds no notes.
        let source = |kind: &'static str, format: &str, problems: &[Problem]| FitSource {
            kind,
            inputs: vec![report::InputReport {
                file: file.to_string(),
                format: format.into(),
                confidence: "certain".into(),
            }],
            problems: problems.to_vec(),
            notes: Vec::new(),
            currency: None,
        };
        let (segments, source) = if *kind == TableKind::Snapshot {
            let table = import::snapshot::import(file, bytes, &request.import, on_progress)?;
            (model::renewals::snapshot_renewals(&table), source("snapshot", "snapshot_table", &table.problems))
        } else {
            let table = import::cohort::import(file, bytes, &request.import, on_progress)?;
            (model::renewals::cohort_renewals(&table), source("cohorts", "cohort_table", &table.problems))
        };
        let segments = segments
            .into_iter()
            .map(|(name, interval, rows)| (name, interval, RenewalData::from_counts(&rows).unwrap_or_default()))
            .collect();
        return Ok(fit_report(&calibrate_retention(segments), source));
    }
    let business = import_business(inputs, request, on_progress)?;
    fit_business(business, request, backtest_options).map(|(report, _)| report)
}

/// [`fit_exports_with`], and the twin calibrated on the same data (none for a snapshot or cohort
/// table, which has no state to start from, or when no segment has a retention estimate): what the
/// page fits once and then simulates scenarios on.
pub fn fit_exports_and_twin(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    backtest_options: &backtest::BacktestOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<(report::fit::FitReport, Option<CalibratedTwin>), ImportError> {
    let kinds: Vec<TableKind> = inputs.iter().map(|(_, bytes)| import::table_kind(bytes, &request.import)).collect();
    if kinds.iter().any(|kind| matches!(kind, TableKind::Snapshot | TableKind::Cohorts)) {
        return fit_exports_with(inputs, request, backtest_options, on_progress).map(|report| (report, None));
    }
    let business = import_business(inputs, request, on_progress)?;
    fit_business(business, request, backtest_options)
}

/// [`fit_exports`] on one file read from a reader, as [`analyse_reader`] reads it: a subscriptions
/// export is streamed through the importer, so only its records are held; a snapshot or cohort table
/// (small by nature), or an invoices export alone, is read whole. The report is the same as
/// [`fit_exports`] gives for the file's bytes.
pub fn fit_reader(
    file: &str,
    reader: impl Read,
    len_hint: Option<u64>,
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<report::fit::FitReport, ImportError> {
    fit_reader_with(file, reader, len_hint, request, &backtest::BacktestOptions::default(), on_progress)
}

/// [`fit_reader`] with the backtest's cutoffs, paths and seed given.
pub fn fit_reader_with(
    file: &str,
    reader: impl Read,
    len_hint: Option<u64>,
    request: &HistoryRequest,
    backtest_options: &backtest::BacktestOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<report::fit::FitReport, ImportError> {
    fit_reader_and_twin(file, reader, len_hint, request, backtest_options, on_progress).map(|(report, _)| report)
}

/// [`fit_reader_with`], and the twin calibrated on the same data, as [`fit_exports_and_twin`] gives
/// them for the file's bytes.
pub fn fit_reader_and_twin(
    file: &str,
    mut reader: impl Read,
    len_hint: Option<u64>,
    request: &HistoryRequest,
    backtest_options: &backtest::BacktestOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<(report::fit::FitReport, Option<CalibratedTwin>), ImportError> {
    let unreadable = |error: std::io::Error| ImportError::new(file, format!("the file could not be read ({error})."));
    let mut head = Vec::new();
    (&mut reader).take(KIND_HEAD_BYTES).read_to_end(&mut head).map_err(unreadable)?;
    let kind = import::table_kind(&head, &request.import);
    if matches!(kind, TableKind::Snapshot | TableKind::Cohorts | TableKind::Charges) {
        reader.read_to_end(&mut head).map_err(unreadable)?;
        return fit_exports_and_twin(&[(file, &head)], request, backtest_options, on_progress);
    }
    let reader = std::io::Cursor::new(head).chain(reader);
    let imported = import::import_reader(file, reader, len_hint, &request.import, on_progress)?;
    fit_business(Business::of(vec![imported], Vec::new()), request, backtest_options)
}

/// Calibrates the twin on a business's subscriptions, at the as-of asked for or derived from them.
fn fit_business(
    business: Business,
    request: &HistoryRequest,
    backtest_options: &backtest::BacktestOptions,
) -> Result<(report::fit::FitReport, Option<CalibratedTwin>), ImportError> {
    use report::fit::{fit_report, FitSource};
    let as_of = match request.history.as_of.or_else(|| history::derive_as_of(&business.subscriptions)) {
        Some(as_of) => as_of,
        None => return Err(import::nothing_readable(business.imports)),
    };
    let calibration = model::calibrate::calibrate(&business.subscriptions, as_of);
    let currency = business.imports.first().map(|i| i.currency.clone());
    let backtest = currency
        .as_ref()
        .map(|currency| backtest::backtest(&business.subscriptions, as_of, currency, backtest_options));
    let several = business.imports.len() + business.charges.len() > 1;
    let mut notes: Vec<String> = Vec::new();
    for (file, file_notes) in
        business.imports.iter().map(|i| (&i.file, &i.notes)).chain(business.charges.iter().map(|c| (&c.file, &c.notes)))
    {
        notes.extend(file_notes.iter().map(|note| if several { format!("{file}: {note}") } else { note.clone() }));
    }
    notes.extend(business.refinement.iter().flat_map(|r| r.notes.iter().cloned()));
    let source = FitSource {
        kind: "subscriptions",
        inputs: business
            .imports
            .iter()
            .map(|i| report::InputReport {
                file: i.file.clone(),
                format: i.format.name().into(),
                confidence: "certain".into(),
            })
            .chain(business.charges.iter().map(|c| report::InputReport {
                file: c.file.clone(),
                format: c.source.name().into(),
                confidence: "certain".into(),
            }))
            .collect(),
        problems: business
            .imports
            .iter()
            .flat_map(|i| i.problems.iter())
            .chain(business.charges.iter().flat_map(|c| c.problems.iter()))
            .cloned()
            .collect(),
        notes,
        currency,
    };
    let mut report = fit_report(&calibration, source);
    match backtest {
        Some(Ok(backtest)) => report.backtest = Some(backtest),
        Some(Err(reason)) => report.notes.push(format!("No backtest: {reason}.")),
        None => {}
    }
    let twin = business.imports.first().and_then(|i| twin_of_calibration(&calibration, as_of, i.currency.clone()).ok());
    Ok((report, twin))
}

/// The twin of a calibration, with the report's context; the error says why there is none.
fn twin_of_calibration(
    calibration: &model::calibrate::Calibration,
    as_of: import::Instant,
    currency: money::Currency,
) -> Result<CalibratedTwin, String> {
    let (twin, left_out) = model::build::build_twin(calibration, &currency).map_err(|e| format!("{e}."))?;
    let notes = left_out
        .into_iter()
        .map(|name| format!("{name} is left out: none of its subscribers has churned yet, so its retention is unknown"))
        .collect();
    Ok(CalibratedTwin { twin, as_of: import::values::format_instant(as_of), currency, notes })
}

/// What a baseline simulation is asked for: how far, how many paths, from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimulateOptions {
    /// 1 to [`MAX_SIMULATION_HORIZON_MONTHS`].
    pub horizon_months: u32,
    /// 1 to [`MAX_SIMULATION_PATHS`].
    pub paths: u32,
    pub seed: u64,
}

/// The longest horizon a simulation may ask for.
pub const MAX_SIMULATION_HORIZON_MONTHS: u32 = 120;
/// The most paths a simulation may ask for: 20,000 paths of 120 months of six segments hold about
/// 350 MB of figures per scenario.
pub const MAX_SIMULATION_PATHS: u32 = 20_000;

/// A twin calibrated on a business's exports, ready to simulate. It holds no customer row: the
/// parameters, and the starting state as counts per cell.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibratedTwin {
    pub twin: twin::Twin,
    /// The instant calibrated at, `YYYY-MM-DDTHH:MM:SSZ`.
    pub as_of: String,
    pub currency: money::Currency,
    /// Segments the twin could not run (no retention estimate), with the reason, for the report.
    pub notes: Vec<String>,
}

/// [`CalibratedTwin`] as JSON, for handing to a worker.
#[derive(Serialize, Deserialize)]
struct CalibratedTwinJson {
    twin: twin::Twin,
    as_of: String,
    currency: String,
    notes: Vec<String>,
}

impl CalibratedTwin {
    pub fn to_json(&self) -> String {
        let json = CalibratedTwinJson {
            twin: self.twin.clone(),
            as_of: self.as_of.clone(),
            currency: self.currency.code.clone(),
            notes: self.notes.clone(),
        };
        serde_json::to_string(&json).unwrap_or_default()
    }

    /// Reads [`CalibratedTwin::to_json`] back; the twin is checked as the engine checks it.
    pub fn from_json(text: &str) -> Result<CalibratedTwin, String> {
        let json: CalibratedTwinJson =
            serde_json::from_str(text).map_err(|e| format!("the twin cannot be read: {e}."))?;
        json.twin.check().map_err(|e| format!("the twin is not valid: {e}"))?;
        let currency = money::Currency::from_code(&json.currency)
            .ok_or_else(|| format!("the twin's currency {:?} is not an ISO 4217 code.", json.currency))?;
        Ok(CalibratedTwin { twin: json.twin, as_of: json.as_of, currency, notes: json.notes })
    }
}

/// Calibrates the twin on a business's subscriptions exports: the starting state and every fitted
/// parameter, as the engine takes them. The error names what is wrong with the files.
pub fn calibrated_twin(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<CalibratedTwin, ImportError> {
    let file = inputs.first().map(|(file, _)| *file).unwrap_or_default();
    let fail = |message: String| ImportError::new(file, message);
    let kinds: Vec<TableKind> = inputs.iter().map(|(_, bytes)| import::table_kind(bytes, &request.import)).collect();
    if let Some(((file, _), _)) =
        inputs.iter().zip(&kinds).find(|(_, kind)| matches!(kind, TableKind::Snapshot | TableKind::Cohorts))
    {
        return Err(ImportError::new(
            file,
            "a snapshot or cohort table has no dates, so there is no state to simulate from: give a subscriptions \
             export."
                .into(),
        ));
    }
    let business = import_business(inputs, request, on_progress)?;
    let as_of = match request.history.as_of.or_else(|| history::derive_as_of(&business.subscriptions)) {
        Some(as_of) => as_of,
        None => return Err(import::nothing_readable(business.imports)),
    };
    let Some(currency) = business.imports.first().map(|i| i.currency.clone()) else {
        return Err(import::nothing_readable(business.imports));
    };
    let calibration = model::calibrate::calibrate(&business.subscriptions, as_of);
    twin_of_calibration(&calibration, as_of, currency).map_err(fail)
}

/// Calibrates the twin on a business's subscriptions exports and runs it forward with no change and
/// under each scenario (`subtwin simulate`), all on the same paths. Each scenario comes with a label
/// for messages (its file's name). The error names what is wrong: the files, a scenario's field, or
/// options out of range.
pub fn simulate_exports(
    inputs: &[(&str, &[u8])],
    request: &HistoryRequest,
    options: &SimulateOptions,
    scenarios: &[(String, scenario::Scenario)],
    on_progress: &mut dyn FnMut(Progress),
) -> Result<report::simulate::SimulationReport, ImportError> {
    let file = inputs.first().map(|(file, _)| *file).unwrap_or_default();
    check_simulate_options(options, scenarios.len()).map_err(|message| ImportError::new(file, message))?;
    let calibrated = calibrated_twin(inputs, request, on_progress)?;
    simulate_twin(&calibrated, options, scenarios).map_err(|message| ImportError::new(file, message))
}

/// Refuses a horizon, path count or number of scenarios out of range.
pub fn check_simulate_options(options: &SimulateOptions, scenarios: usize) -> Result<(), String> {
    if !(1..=MAX_SIMULATION_HORIZON_MONTHS).contains(&options.horizon_months) {
        return Err(format!(
            "the horizon of {} months is out of range: give 1 to {MAX_SIMULATION_HORIZON_MONTHS}.",
            options.horizon_months
        ));
    }
    if !(1..=MAX_SIMULATION_PATHS).contains(&options.paths) {
        return Err(format!("{} paths is out of range: give 1 to {MAX_SIMULATION_PATHS}.", options.paths));
    }
    if scenarios > scenario::MAX_SCENARIOS {
        return Err(format!("{scenarios} scenarios: give at most {} in one run.", scenario::MAX_SCENARIOS));
    }
    Ok(())
}

/// Runs a calibrated twin forward with no change and under each scenario, on the same paths, and
/// reports it. The error names the scenario (by its label) and the field that is wrong.
pub fn simulate_twin(
    calibrated: &CalibratedTwin,
    options: &SimulateOptions,
    scenarios: &[(String, scenario::Scenario)],
) -> Result<report::simulate::SimulationReport, String> {
    check_simulate_options(options, scenarios.len())?;
    let twin = &calibrated.twin;
    let mut compiled = Vec::with_capacity(scenarios.len());
    for (label, scenario) in scenarios {
        let plan = scenario::compile(scenario, twin, options.horizon_months)
            .map_err(|error| format!("scenario {:?} ({label}): {error}", scenario.name))?;
        compiled.push(plan);
    }
    let sim_options =
        sim::SimOptions { paths: options.paths, horizon_months: options.horizon_months, seed: options.seed };
    // The baseline keeps its segments' figures (when they fit), so that each scenario simulates only
    // the segments it changes.
    let baseline = sim::simulate_reusable(twin, &sim_options, 0..sim_options.paths).map_err(|e| e.to_string())?;
    let mut simulations = Vec::with_capacity(compiled.len());
    for plan in &compiled {
        let simulation = sim::simulate_plan_on(twin, &plan.plan, &baseline).map_err(|e| e.to_string())?;
        simulations.push(simulation);
    }
    let runs: Vec<report::simulate::ScenarioRun> = scenarios
        .iter()
        .zip(&compiled)
        .zip(&simulations)
        .map(|(((_, scenario), compiled), simulation)| report::simulate::ScenarioRun { scenario, compiled, simulation })
        .collect();
    let context = report::simulate::ReportContext {
        twin,
        as_of: &calibrated.as_of,
        seed: options.seed,
        currency: &calibrated.currency,
        notes: calibrated.notes.clone(),
    };
    let mut report = report::simulate::simulation_report(&context, &baseline, &runs).map_err(|e| e.to_string())?;
    let plans: Vec<&sim::plan::Plan> = compiled.iter().map(|c| &c.plan).collect();
    report::simulate::complete_search(&mut report, twin, &sim_options, &plans).map_err(|e| e.to_string())?;
    Ok(report)
}
