//! The native command, `subtwin`: a thin wrapper that reads files and arguments, calls the core, and
//! prints what comes back. Exit codes, for every subcommand: 0 success; 1 the input was read but a
//! check the person asked for failed (such as `--strict`); 2 unusable input or arguments, with the
//! reason on stderr. A closed output pipe ends the command quietly.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use subtwin::demo::{self, DemoConfig, DemoFormat};
use subtwin::import::mapped::ColumnMapping;
use subtwin::import::values::{parse_as_of, parse_instant, DateOrder};
use subtwin::import::{Format, ImportOptions};
use subtwin::money::ExchangeRates;
use subtwin::{analyse_exports, analyse_reader, history, HistoryRequest};

#[derive(Parser)]
#[command(name = "subtwin", version, about = "A digital twin of a subscription business, from its billing export.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Rebuild the history (paid subscribers, MRR and its movements, trials) month by month; of a
    /// snapshot table, actives, MRR and at-risk/churned counts by tenure; of a cohort table, survivors
    /// by cohort and age.
    History(HistoryArgs),
    /// Calibrate the twin: retention per segment (shifted-beta-geometric with intervals, pooled across
    /// segments, beside Kaplan-Meier and the geometric and beta-discrete-Weibull models), acquisition
    /// and trial conversion. Reads what `history` reads.
    Fit(FitArgs),
    /// Run the calibrated twin forward with no change (the baseline): paid subscribers and MRR per
    /// month, per segment and in total, with their 5 to 95% quantiles over the Monte Carlo paths.
    Simulate(SimulateArgs),
    /// Make a link that opens the simulation's results for anyone, without the data and without a
    /// server: a shared twin (no cell, price or segment of fewer than five subscribers; neutral
    /// segment names unless --keep-names) with the scenarios and the run's settings. Prints the link
    /// on the last line of stdout, and on stderr how far the shared twin's results are from the full
    /// data's.
    Link(LinkArgs),
    /// Write the demo company's subscriptions export to stdout (or --output), as Stripe (the default),
    /// Chargebee, Recurly or Baremetrics would export it.
    Demo {
        /// How many subscription rows to write.
        #[arg(long, value_name = "N")]
        subscriptions: Option<usize>,
        /// The random seed; the same seed writes the same file.
        #[arg(long, value_name = "N")]
        seed: Option<u64>,
        /// The export's as-of instant (YYYY-MM-DD HH:MM, UTC).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The billing system whose export to write.
        #[arg(long, value_name = "NAME", value_parser = ["stripe", "chargebee", "recurly", "baremetrics"])]
        format: Option<String>,
    },
}

#[derive(clap::Args)]
struct HistoryArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Exit with 1 when any row was set aside.
    #[arg(long)]
    strict: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct FitArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Backtest from this cutoff: the last month (YYYY-MM) the refit may see; repeatable. By default
    /// 6, 9, 12 and 18 months before the last whole month of data.
    #[arg(long, value_name = "YYYY-MM")]
    cutoff: Vec<String>,
    /// Monte Carlo paths per backtest cutoff.
    #[arg(long, value_name = "N", default_value_t = subtwin::backtest::DEFAULT_PATHS)]
    paths: u32,
    /// The seed of the backtest's simulations; the same seed gives the same numbers.
    #[arg(long, value_name = "N", default_value_t = subtwin::backtest::DEFAULT_SEED)]
    seed: u64,
    /// Exit with 1 when any row was set aside.
    #[arg(long)]
    strict: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct SimulateArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Months to simulate (1 to 120).
    #[arg(long, value_name = "MONTHS", default_value_t = 24)]
    horizon: u32,
    /// Monte Carlo paths (1 to 20000).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    runs: u32,
    /// The seed; the same data, seed and options give the same numbers.
    #[arg(long, value_name = "N", default_value_t = subtwin::backtest::DEFAULT_SEED)]
    seed: u64,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// Also write the results as CSV (quantiles per run, segment, measure and month, and each
    /// scenario's differences at the horizon; see the README) to this file; `-` writes them to
    /// stdout instead of the tables.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// A scenario to simulate beside the baseline (JSON; see the README); repeat for several.
    #[arg(long, value_name = "FILE")]
    scenario: Vec<PathBuf>,
    /// Also write the calibrated twin (its parameters and starting cells, no customer row) as JSON
    /// to this file.
    #[arg(long, value_name = "FILE")]
    save_twin: Option<PathBuf>,
    /// Simulate what a share link holds (its twin, scenarios, horizon, paths and seed) instead of
    /// files: the numbers the page shows for the link.
    #[arg(long, value_name = "LINK", conflicts_with_all = ["files", "scenario", "horizon", "runs", "seed", "save_twin"])]
    link: Option<String>,
}

#[derive(clap::Args)]
struct LinkArgs {
    #[command(flatten)]
    input: InputArgs,
    /// A scenario to share beside the baseline (JSON; see the README); repeat for several.
    #[arg(long, value_name = "FILE")]
    scenario: Vec<PathBuf>,
    /// Months to simulate (1 to 120).
    #[arg(long, value_name = "MONTHS", default_value_t = 24)]
    horizon: u32,
    /// Monte Carlo paths (1 to 20000).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    runs: u32,
    /// The seed; the same data, seed and options give the same numbers.
    #[arg(long, value_name = "N", default_value_t = subtwin::backtest::DEFAULT_SEED)]
    seed: u64,
    /// Keep the segments' names (by default they travel as neutral labels, `Segment A (month)`).
    #[arg(long)]
    keep_names: bool,
    /// Where the page is published: the link is this address, `#`, and the payload.
    #[arg(long, value_name = "URL", default_value = DEFAULT_BASE_URL)]
    base_url: String,
}

/// The page as `scripts/serve.sh` serves it.
const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080/";

/// The files and what the person knows about them: the same for every subcommand that reads exports.
#[derive(clap::Args)]
struct InputArgs {
    /// Subscriptions exports: Stripe, Chargebee (its CSV or its export zip), Recurly or Baremetrics.
    /// Several files are read as one business (a migration's two systems, or yearly files). Also a
    /// snapshot table (tenure, churn flag, monthly price per customer) or a cohort table
    /// (segment,cohort,age,active), one file alone.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Read the files as this format instead of recognising it: stripe, chargebee, recurly, baremetrics.
    #[arg(long, value_name = "NAME")]
    format: Option<String>,
    /// How slashed dates are written, when the file cannot tell (03/04/2025): dmy or mdy.
    #[arg(long, value_name = "ORDER")]
    date_order: Option<String>,
    /// Run the history to this instant (YYYY-MM-DD means the end of that day, UTC); by default
    /// the latest event the files record.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Analyse this currency (ISO code); by default the one most subscriptions use. For snapshot
    /// and cohort tables, which do not say: the currency of their prices (unknown without it).
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Snapshot tables: segment by this column instead of the default (Contract, plan or product
    /// when there is one), such as `--segment InternetService`.
    #[arg(long, value_name = "COLUMN")]
    segment: Option<String>,
    /// Exchange rates (CSV `from,to,rate`, such as `eur,usd,1.0825`): convert the other currencies
    /// into `to` instead of setting their rows aside.
    #[arg(long, value_name = "FILE")]
    fx: Option<PathBuf>,
    /// Read a table of any other shape through a column mapping, such as
    /// `start="Signup Date",end="Cancelled On",price=MRR,interval=@month,currency=@usd,id=ID`
    /// (roles: id, customer, start, end, status, price, interval, quantity, trial_end, segment,
    /// currency; `@` gives a fixed value).
    #[arg(long, value_name = "SPEC", conflicts_with = "map_file")]
    map: Option<String>,
    /// The same mapping as a JSON file (the page's "Save mapping" writes one).
    #[arg(long, value_name = "FILE")]
    map_file: Option<PathBuf>,
    /// Subscriptions exports: make segments of these instead of the product, such as
    /// `--segment-by plan` or `--segment-by product,"Customer Country"`: product, plan, price (the unit
    /// price), interval, or the file's own column names. The billing interval is always part of a
    /// segment, since each segment has one renewal clock.
    #[arg(long, value_name = "COLUMN[,COLUMN...]", value_delimiter = ',')]
    segment_by: Vec<String>,
}

/// How the command ends: an exit code, with a message for stderr when it failed.
enum Outcome {
    Done,
    CheckFailed(String),
    Unusable(String),
}

fn main() -> ExitCode {
    // `simulate --link` reads no file: the files are required only without a link.
    let command = <Cli as clap::CommandFactory>::command().mut_subcommand("simulate", |simulate| {
        simulate.mut_arg("files", |files| files.required(false).required_unless_present("link"))
    });
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    let outcome = match cli.command {
        Command::History(args) => run_history(args),
        Command::Fit(args) => run_fit(args),
        Command::Simulate(args) => run_simulate(args),
        Command::Link(args) => run_link(args),
        Command::Demo { subscriptions, seed, as_of, output, format } => {
            run_demo(subscriptions, seed, as_of, output, format)
        }
    };
    match outcome {
        Outcome::Done => ExitCode::SUCCESS,
        Outcome::CheckFailed(message) => {
            let _ = writeln!(io::stderr(), "subtwin: {message}");
            ExitCode::from(1)
        }
        Outcome::Unusable(message) => {
            let _ = writeln!(io::stderr(), "subtwin: {message}");
            ExitCode::from(2)
        }
    }
}

/// The request the input arguments make, or why they are unusable.
fn request_of(args: &InputArgs) -> Result<HistoryRequest, Outcome> {
    let as_of = match args.as_of.as_deref().map(|text| (text, parse_as_of(text))) {
        None => None,
        Some((_, Some(instant))) => Some(instant),
        Some((text, None)) => {
            return Err(Outcome::Unusable(format!(
                "--as-of `{text}` is not a date; write YYYY-MM-DD or YYYY-MM-DD HH:MM (UTC)."
            )))
        }
    };
    let format = match args.format.as_deref().map(|name| (name, Format::from_name(name))) {
        None => None,
        Some((_, Some(format))) => Some(format),
        Some((name, None)) => {
            let known: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            return Err(Outcome::Unusable(format!(
                "--format `{name}` is not a known format; use one of {}.",
                known.join(", ")
            )));
        }
    };
    let date_order = match args.date_order.as_deref().map(|name| (name, DateOrder::parse(name))) {
        None => None,
        Some((_, Some(order))) => Some(order),
        Some((name, None)) => {
            return Err(Outcome::Unusable(format!(
                "--date-order `{name}` is neither dmy (31/12/2025) nor mdy (12/31/2025)."
            )))
        }
    };
    let fx = match &args.fx {
        None => None,
        Some(path) => {
            let name = path.display().to_string();
            let parsed = std::fs::read_to_string(path)
                .map_err(|error| format!("{name}: cannot read the exchange rates ({error})."))
                .and_then(|text| ExchangeRates::parse(&name, &text));
            match parsed {
                Ok(rates) => Some(rates),
                Err(message) => return Err(Outcome::Unusable(message)),
            }
        }
    };
    let mapping = match (&args.map, &args.map_file) {
        (Some(spec), _) => match ColumnMapping::parse(spec) {
            Ok(mapping) => Some(mapping),
            Err(message) => return Err(Outcome::Unusable(format!("--map: {message}"))),
        },
        (None, Some(path)) => {
            let parsed = std::fs::read_to_string(path)
                .map_err(|error| format!("cannot read the mapping ({error})."))
                .and_then(|text| ColumnMapping::from_json(&text));
            match parsed {
                Ok(mapping) => Some(mapping),
                Err(message) => return Err(Outcome::Unusable(format!("{}: {message}", path.display()))),
            }
        }
        (None, None) => None,
    };
    let request = HistoryRequest {
        import: ImportOptions {
            currency: args.currency.clone(),
            format,
            date_order,
            mapping,
            fx,
            today: Some(now()),
            segment: args.segment.clone(),
            segment_by: args.segment_by.clone(),
        },
        history: history::HistoryOptions { as_of },
    };
    Ok(request)
}

fn run_history(args: HistoryArgs) -> Outcome {
    let request = match request_of(&args.input) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let args_files = &args.input.files;
    let analysis = if let [path] = args_files.as_slice() {
        // One file is streamed through the importer: only its records are held, never its whole text.
        let (reader, size) = match open_streamed(path) {
            Ok(opened) => opened,
            Err(outcome) => return outcome,
        };
        analyse_reader(&file_name(path), reader, Some(size), &request, &mut |_| {})
    } else {
        let inputs = match read_inputs(args_files) {
            Ok(inputs) => inputs,
            Err(outcome) => return outcome,
        };
        let borrowed: Vec<(&str, &[u8])> =
            inputs.iter().map(|(name, bytes)| (name.as_str(), bytes.as_slice())).collect();
        analyse_exports(&borrowed, &request, &mut |_| {})
    };
    let analysis = match analysis {
        Ok(analysis) => analysis,
        Err(error) => return Outcome::Unusable(error.to_string()),
    };
    let (json, strict) = (args.json, args.strict);
    let printed = if json {
        print_stdout(&format!("{}\n", analysis.to_json()))
    } else {
        let mut stderr = io::stderr().lock();
        for p in analysis.problems() {
            let _ = writeln!(stderr, "{}:{}: {} `{}`: {}. {}", p.file, p.line, p.column, p.value, p.reason, p.hint);
        }
        print_stdout(&analysis.to_text())
    };
    if let Err(outcome) = printed {
        return outcome;
    }
    if strict && !analysis.problems().is_empty() {
        let rows = analysis.rows_set_aside();
        return Outcome::CheckFailed(format!("--strict: {rows} row(s) were set aside; see the problems listed."));
    }
    Outcome::Done
}

/// A path's file name, as messages and reports name the file.
fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Opens one file to stream it, with its size.
fn open_streamed(path: &Path) -> Result<(ReadAhead, u64), Outcome> {
    let opened = std::fs::File::open(path).and_then(|f| f.metadata().map(|m| (f, m)));
    match opened {
        Ok((_, metadata)) if metadata.is_dir() => {
            Err(Outcome::Unusable(format!("{}: cannot read the file (it is a folder).", path.display())))
        }
        Ok((reader, metadata)) => Ok((ReadAhead::new(reader), metadata.len())),
        Err(error) => Err(Outcome::Unusable(format!("{}: cannot read the file ({error}).", path.display()))),
    }
}

/// Reads every file whole, with its name.
fn read_inputs(files: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>, Outcome> {
    let mut inputs = Vec::with_capacity(files.len());
    for path in files {
        match std::fs::read(path) {
            Ok(bytes) => inputs.push((file_name(path), bytes)),
            Err(error) => {
                return Err(Outcome::Unusable(format!("{}: cannot read the file ({error}).", path.display())))
            }
        }
    }
    Ok(inputs)
}

fn run_fit(args: FitArgs) -> Outcome {
    let request = match request_of(&args.input) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let mut cutoffs = Vec::with_capacity(args.cutoff.len());
    for text in &args.cutoff {
        match subtwin::report::month_of(text.trim()) {
            Some(month) => cutoffs.push(month),
            None => {
                return Outcome::Unusable(format!("--cutoff `{text}` is not a month; write YYYY-MM, such as 2025-06."))
            }
        }
    }
    if args.paths == 0 || args.paths > 100_000 {
        return Outcome::Unusable(format!("--paths {} is out of range; give 1 to 100000.", args.paths));
    }
    let backtest = subtwin::backtest::BacktestOptions { cutoffs, paths: args.paths, seed: args.seed };
    let fitted = if let [path] = args.input.files.as_slice() {
        // One file is streamed, as `history` streams it.
        let (reader, size) = match open_streamed(path) {
            Ok(opened) => opened,
            Err(outcome) => return outcome,
        };
        subtwin::fit_reader_with(&file_name(path), reader, Some(size), &request, &backtest, &mut |_| {})
    } else {
        let inputs = match read_inputs(&args.input.files) {
            Ok(inputs) => inputs,
            Err(outcome) => return outcome,
        };
        let borrowed: Vec<(&str, &[u8])> =
            inputs.iter().map(|(name, bytes)| (name.as_str(), bytes.as_slice())).collect();
        subtwin::fit_exports_with(&borrowed, &request, &backtest, &mut |_| {})
    };
    let report = match fitted {
        Ok(report) => report,
        Err(error) => return Outcome::Unusable(error.to_string()),
    };
    let printed = if args.json {
        print_stdout(&format!("{}\n", subtwin::report::fit::to_json(&report)))
    } else {
        let mut stderr = io::stderr().lock();
        for p in &report.problems {
            let _ = writeln!(stderr, "{}:{}: {} `{}`: {}. {}", p.file, p.line, p.column, p.value, p.reason, p.hint);
        }
        print_stdout(&subtwin::report::render_tables_text(&subtwin::report::fit::fit_view(&report)))
    };
    if let Err(outcome) = printed {
        return outcome;
    }
    if args.strict && !report.problems.is_empty() {
        return Outcome::CheckFailed(format!(
            "--strict: {} problem(s) in the input; see the list.",
            report.problems.len()
        ));
    }
    Outcome::Done
}

fn run_simulate(args: SimulateArgs) -> Outcome {
    if args.json && args.csv.as_deref() == Some(Path::new("-")) {
        return Outcome::Unusable("--json and --csv - both write to stdout: give --csv a file name.".into());
    }
    if let Some(link) = &args.link {
        if args.csv.is_some() {
            return Outcome::Unusable("--csv does not go with --link: use --json for a link's numbers.".into());
        }
        return run_simulate_link(link, args.json);
    }
    let request = match request_of(&args.input) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let inputs = match read_inputs(&args.input.files) {
        Ok(inputs) => inputs,
        Err(outcome) => return outcome,
    };
    let borrowed: Vec<(&str, &[u8])> = inputs.iter().map(|(name, bytes)| (name.as_str(), bytes.as_slice())).collect();
    let options = subtwin::SimulateOptions { horizon_months: args.horizon, paths: args.runs, seed: args.seed };
    if let Some(path) = &args.save_twin {
        let calibrated = match subtwin::calibrated_twin(&borrowed, &request, &mut |_| {}) {
            Ok(calibrated) => calibrated,
            Err(error) => return Outcome::Unusable(error.to_string()),
        };
        let json = match serde_json::to_string(&calibrated.twin) {
            Ok(json) => json + "\n",
            Err(error) => return Outcome::Unusable(format!("cannot write the twin as JSON ({error}).")),
        };
        if let Err(error) = std::fs::write(path, json) {
            return Outcome::Unusable(format!("{}: cannot write the twin ({error}).", path.display()));
        }
    }
    let scenarios = match read_scenarios(&args.scenario) {
        Ok(scenarios) => scenarios,
        Err(outcome) => return outcome,
    };
    let report = match subtwin::simulate_exports(&borrowed, &request, &options, &scenarios, &mut |_| {}) {
        Ok(report) => report,
        Err(error) => return Outcome::Unusable(error.to_string()),
    };
    let csv_to_stdout = args.csv.as_deref() == Some(Path::new("-"));
    if let Some(path) = args.csv.as_deref().filter(|_| !csv_to_stdout) {
        if let Err(error) = std::fs::write(path, subtwin::export::results_csv(&report)) {
            return Outcome::Unusable(format!("{}: cannot write the CSV ({error}).", path.display()));
        }
    }
    let printed = if csv_to_stdout {
        print_stdout(&subtwin::export::results_csv(&report))
    } else if args.json {
        print_stdout(&format!("{}\n", subtwin::report::simulate::to_json(&report)))
    } else {
        print_stdout(&subtwin::report::render_tables_text(&subtwin::report::simulate::simulation_view(&report)))
    };
    match printed {
        Ok(()) => Outcome::Done,
        Err(outcome) => outcome,
    }
}

/// Reads the scenario files, each labelled by its path for messages.
fn read_scenarios(paths: &[PathBuf]) -> Result<Vec<(String, subtwin::scenario::Scenario)>, Outcome> {
    let mut scenarios = Vec::with_capacity(paths.len());
    for path in paths {
        let label = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) => return Err(Outcome::Unusable(format!("{label}: cannot read the scenario ({error})."))),
        };
        match subtwin::scenario::from_json(&label, &bytes) {
            Ok(scenario) => scenarios.push((label, scenario)),
            Err(message) => return Err(Outcome::Unusable(message)),
        }
    }
    Ok(scenarios)
}

/// `subtwin simulate --link`: the link's twin and scenarios simulated as the page simulates them,
/// with whether the numbers are the sender's on stderr.
fn run_simulate_link(text: &str, json: bool) -> Outcome {
    let link = match subtwin::share::decode(text) {
        Ok(link) => link,
        Err(message) => return Outcome::Unusable(message),
    };
    let scenarios: Vec<(String, subtwin::scenario::Scenario)> =
        link.scenarios.iter().map(|s| ("the link".to_owned(), s.clone())).collect();
    let report = match subtwin::simulate_twin(&link.twin, &link.options, &scenarios) {
        Ok(report) => report,
        Err(message) => return Outcome::Unusable(format!("the link's simulation failed: {message}")),
    };
    let report_json = subtwin::report::simulate::to_json(&report);
    let verdict = subtwin::share::verdict(&link, &report_json);
    let _ = writeln!(io::stderr(), "subtwin: shared results (no data). {}", verdict.message);
    let printed = if json {
        print_stdout(&format!("{report_json}\n"))
    } else {
        print_stdout(&subtwin::report::render_tables_text(&subtwin::report::simulate::simulation_view(&report)))
    };
    match printed {
        Ok(()) => Outcome::Done,
        Err(outcome) => outcome,
    }
}

fn run_link(args: LinkArgs) -> Outcome {
    let base = args.base_url.trim();
    if base.is_empty() || base.contains('#') || base.chars().any(char::is_whitespace) {
        return Outcome::Unusable(format!(
            "--base-url `{base}` is not an address for the page: give one without spaces or #, such as {DEFAULT_BASE_URL}."
        ));
    }
    let request = match request_of(&args.input) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let inputs = match read_inputs(&args.input.files) {
        Ok(inputs) => inputs,
        Err(outcome) => return outcome,
    };
    let borrowed: Vec<(&str, &[u8])> = inputs.iter().map(|(name, bytes)| (name.as_str(), bytes.as_slice())).collect();
    let scenarios = match read_scenarios(&args.scenario) {
        Ok(scenarios) => scenarios,
        Err(outcome) => return outcome,
    };
    let options = subtwin::SimulateOptions { horizon_months: args.horizon, paths: args.runs, seed: args.seed };
    let file = borrowed.first().map(|(name, _)| *name).unwrap_or_default().to_owned();
    if let Err(message) = subtwin::check_simulate_options(&options, scenarios.len()) {
        return Outcome::Unusable(format!("{file}: {message}"));
    }
    let calibrated = match subtwin::calibrated_twin(&borrowed, &request, &mut |_| {}) {
        Ok(calibrated) => calibrated,
        Err(error) => return Outcome::Unusable(error.to_string()),
    };
    let (link, shared_report) = match subtwin::share::make_link(&calibrated, &scenarios, &options, args.keep_names) {
        Ok(made) => made,
        Err(message) => return Outcome::Unusable(format!("{file}: {message}")),
    };
    let fragment = match subtwin::share::encode(&link) {
        Ok(fragment) => fragment,
        Err(message) => return Outcome::Unusable(format!("{file}: {message}")),
    };
    let full_report = match subtwin::simulate_twin(&calibrated, &options, &scenarios) {
        Ok(report) => report,
        Err(message) => return Outcome::Unusable(format!("{file}: {message}")),
    };
    let mut stderr = io::stderr().lock();
    let _ = writeln!(
        stderr,
        "The shared twin's results beside the full data's (medians at the horizon over {} paths):",
        options.paths
    );
    let _ = write!(stderr, "{}", subtwin::share::gaps_text(&full_report, &shared_report));
    for note in &link.twin.notes {
        let _ = writeln!(stderr, "Note: {note}");
    }
    let whole = format!("{base}#{fragment}");
    let _ = writeln!(
        stderr,
        "{}",
        subtwin::share::link_summary(
            (link.twin.twin.segments.len(), link.scenarios.len()),
            args.keep_names,
            "--keep-names keeps them",
            &whole
        )
    );
    drop(stderr);
    match print_stdout(&format!("{whole}\n")) {
        Ok(()) => Outcome::Done,
        Err(outcome) => outcome,
    }
}

fn run_demo(
    subscriptions: Option<usize>,
    seed: Option<u64>,
    as_of: Option<String>,
    output: Option<PathBuf>,
    format: Option<String>,
) -> Outcome {
    let format = match format.as_deref().map(|name| (name, DemoFormat::from_name(name))) {
        None => DemoFormat::Stripe,
        Some((_, Some(format))) => format,
        Some((name, None)) => return Outcome::Unusable(format!("--format `{name}` is not a format the demo writes.")),
    };
    let mut config = DemoConfig::default();
    if let Some(n) = subscriptions {
        config.subscriptions = n;
    }
    if let Some(seed) = seed {
        config.seed = seed;
    }
    if let Some(text) = as_of {
        match parse_instant(&text).and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok()) {
            Some(instant) => config.as_of = instant,
            None => return Outcome::Unusable(format!("--as-of `{text}` is not a date; write YYYY-MM-DD HH:MM (UTC).")),
        }
    }
    let result = match &output {
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => demo::write_csv(io::BufWriter::new(file), &config, format),
            Err(error) => return Outcome::Unusable(format!("{}: cannot create the file ({error}).", path.display())),
        },
        None => demo::write_csv(io::BufWriter::new(io::stdout().lock()), &config, format),
    };
    match result {
        Ok(()) => Outcome::Done,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Outcome::Done,
        Err(error) => Outcome::Unusable(format!("cannot write the demo export ({error}).")),
    }
}

/// The system clock, read here at the edge and passed into the core.
fn now() -> subtwin::import::Instant {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|since| since.as_secs() as i64).unwrap_or(0)
}

/// A reader that reads ahead on a thread of its own: the file's next chunks come off the disk (or out
/// of the page cache) while the importer parses the previous ones.
struct ReadAhead {
    chunks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    position: usize,
}

impl ReadAhead {
    const CHUNK_BYTES: usize = 4 << 20;

    fn new(mut source: impl io::Read + Send + 'static) -> ReadAhead {
        let (sender, chunks) = std::sync::mpsc::sync_channel(4);
        std::thread::spawn(move || loop {
            let mut chunk = Vec::with_capacity(Self::CHUNK_BYTES);
            match io::Read::read_to_end(&mut io::Read::take(&mut source, Self::CHUNK_BYTES as u64), &mut chunk) {
                Ok(0) => break,
                Ok(_) => {
                    if sender.send(Ok(chunk)).is_err() {
                        break;
                    }
                }
                Err(error) => {
                    let _ = sender.send(Err(error));
                    break;
                }
            }
        });
        ReadAhead { chunks, chunk: Vec::new(), position: 0 }
    }
}

impl io::Read for ReadAhead {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.position == self.chunk.len() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    self.chunk = chunk?;
                    self.position = 0;
                }
                // The reading thread has finished: the end of the file.
                Err(_) => return Ok(0),
            }
        }
        let read = buffer.len().min(self.chunk.len() - self.position);
        buffer[..read].copy_from_slice(&self.chunk[self.position..self.position + read]);
        self.position += read;
        Ok(read)
    }
}

/// Writes to stdout; a closed pipe (`subtwin history x | head`) ends the command quietly.
fn print_stdout(text: &str) -> Result<(), Outcome> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Err(Outcome::Done),
        Err(error) => Err(Outcome::Unusable(format!("cannot write the output ({error})."))),
    }
}
