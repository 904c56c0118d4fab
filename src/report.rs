//! Reports: the history as the documented JSON shape, and as text for people.
//!
//! [`HistoryReport`] is the one JSON shape that the command prints with `--json` and that the page's
//! worker hands to the page; the page's tables and charts are built from it, so what a person reads
//! in the browser and what a script reads from the command are the same numbers. Money is in major
//! units, rounded to the currency's minor unit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::history::{History, MonthFigures};
use crate::import::charges::{ChargeSource, ChargesImport, Refinement};
use crate::import::values::{format_instant, format_instant_readable, parse_instant, MonthIndex};
use crate::import::{Format, Import, Problem};
use crate::money::{group_thousands, Currency, Minor};

pub mod cohort;
pub mod fit;
pub mod fit_page;
pub mod simulate;
pub mod simulate_page;
pub mod snapshot;

/// The conventions behind every number, stated once for the page, the command and the README.
pub const CONVENTIONS: &str = "Time is UTC and months are calendar months. MRR is list price × quantity per \
month (a year ÷ 12, a week × 52 ÷ 12, a day × 365 ÷ 12, ÷ the interval count), before discounts, unless an \
invoices export is given too: then each subscription's MRR follows its renewal invoices, before tax and after \
discounts, and a change between them is expansion or contraction; trials count no MRR. A subscription is paid from its trial end (or its start, without a trial) until it ends; a month's \
figures are the state just before the next month begins. The unit is the subscription. A plan switch (the \
same customer starts another subscription within 7 days of one ending) is expansion or contraction, not churn; \
a customer who comes back later is a reactivation. A lost trial is not churn.";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryReport {
    pub format: String,
    pub currency: String,
    pub as_of: String,
    pub summary: Summary,
    pub segments: Vec<String>,
    pub months: Vec<MonthReport>,
    pub inputs: Vec<InputReport>,
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Data rows in the file.
    pub rows_read: u64,
    /// Rows with at least one problem, left out of every figure.
    pub rows_set_aside: u64,
    /// Subscriptions read (rows not set aside).
    pub subscriptions: u64,
    pub paid: u64,
    pub never_paid: u64,
    pub paused: u64,
    pub free: u64,
    pub trialing: u64,
    pub after_as_of: u64,
    pub plan_switches: u64,
    pub as_of_derived: bool,
    pub first_month: Option<String>,
    pub last_month: Option<String>,
    pub other_currencies: Vec<CurrencyCount>,
    /// What MRR is computed from: `list_price` (the subscriptions export's prices), `invoiced` (an
    /// invoices export's renewal invoices, before tax and after discounts) or `payments` (a payments
    /// export's amounts, net of refunds, tax included).
    pub mrr_basis: String,
    /// What the import inferred or assumed that the file does not state (absent when nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurrencyCount {
    pub currency: String,
    pub rows: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputReport {
    pub file: String,
    pub format: String,
    pub confidence: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthReport {
    pub month: String,
    pub partial: bool,
    #[serde(flatten)]
    pub figures: FiguresReport,
    pub by_segment: BTreeMap<String, FiguresReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FiguresReport {
    pub active: u64,
    #[serde(deserialize_with = "money_or_nan")]
    pub mrr: f64,
    pub new: u64,
    pub churned: u64,
    pub reactivated: u64,
    pub expanded: u64,
    pub contracted: u64,
    #[serde(deserialize_with = "money_or_nan")]
    pub new_mrr: f64,
    #[serde(deserialize_with = "money_or_nan")]
    pub expansion_mrr: f64,
    #[serde(deserialize_with = "money_or_nan")]
    pub contraction_mrr: f64,
    #[serde(deserialize_with = "money_or_nan")]
    pub churned_mrr: f64,
    #[serde(deserialize_with = "money_or_nan")]
    pub reactivation_mrr: f64,
    /// Segment views only: plan switches into and out of the segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_out: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "optional_money_or_nan")]
    pub moved_in_mrr: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "optional_money_or_nan")]
    pub moved_out_mrr: Option<f64>,
    pub trials_started: u64,
    pub trials_converted: u64,
    pub trials_lost: u64,
}

/// Money that overflowed exact arithmetic is NaN in the report, which JSON writes as `null`; reading
/// the JSON back (the page does) turns `null` into NaN again.
pub(crate) fn money_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Option::<f64>::deserialize(deserializer).map(|value| value.unwrap_or(f64::NAN))
}

fn optional_money_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    money_or_nan(deserializer).map(Some)
}

impl FiguresReport {
    fn from_figures(figures: &MonthFigures, currency: &Currency, segment_view: bool) -> FiguresReport {
        let money = |amount: Minor| amount.to_major_f64(currency);
        FiguresReport {
            active: figures.active,
            mrr: money(figures.mrr),
            new: figures.new,
            churned: figures.churned,
            reactivated: figures.reactivated,
            expanded: figures.expanded,
            contracted: figures.contracted,
            new_mrr: money(figures.new_mrr),
            expansion_mrr: money(figures.expansion_mrr),
            contraction_mrr: money(figures.contraction_mrr),
            churned_mrr: money(figures.churned_mrr),
            reactivation_mrr: money(figures.reactivation_mrr),
            moved_in: segment_view.then_some(figures.moved_in),
            moved_out: segment_view.then_some(figures.moved_out),
            moved_in_mrr: segment_view.then(|| money(figures.moved_in_mrr)),
            moved_out_mrr: segment_view.then(|| money(figures.moved_out_mrr)),
            trials_started: figures.trials_started,
            trials_converted: figures.trials_converted,
            trials_lost: figures.trials_lost,
        }
    }
}

/// The report of one analysis over one or more imported files (all in one currency).
pub fn history_report(
    imports: &[Import],
    charges: &[ChargesImport],
    refinement: Option<&Refinement>,
    history: &History,
) -> HistoryReport {
    let Some(first) = imports.first() else {
        return HistoryReport::empty();
    };
    let mrr_basis = match refinement {
        None => "list_price",
        Some(_) if charges.iter().any(|c| c.source == ChargeSource::StripeInvoices) => "invoiced",
        Some(_) => "payments",
    };
    let currency = &first.currency;
    let format =
        if imports.iter().all(|i| i.format == first.format) { first.format.name() } else { "mixed" }.to_owned();
    let several = imports.len() + charges.len() > 1;
    let mut other_currencies: BTreeMap<&str, u64> = BTreeMap::new();
    for (code, rows) in imports.iter().flat_map(|i| &i.other_currencies) {
        *other_currencies.entry(code.as_str()).or_default() += rows;
    }
    let months: Vec<MonthReport> = history
        .months
        .iter()
        .map(|month| MonthReport {
            month: month.month.label(),
            partial: month.partial,
            figures: FiguresReport::from_figures(&month.total, currency, false),
            by_segment: history
                .segments
                .iter()
                .zip(&month.by_segment)
                .map(|(name, figures)| (name.clone(), FiguresReport::from_figures(figures, currency, true)))
                .collect(),
        })
        .collect();
    let counts = &history.counts;
    HistoryReport {
        format,
        currency: currency.code.clone(),
        as_of: format_instant(history.as_of),
        summary: Summary {
            rows_read: imports.iter().map(|i| i.rows_read).chain(charges.iter().map(|c| c.rows_read)).sum(),
            rows_set_aside: imports
                .iter()
                .map(Import::rows_set_aside)
                .chain(charges.iter().map(ChargesImport::rows_set_aside))
                .sum(),
            subscriptions: counts.subscriptions,
            paid: counts.paid,
            never_paid: counts.never_paid,
            paused: counts.paused,
            free: counts.free,
            trialing: counts.trialing,
            after_as_of: counts.after_as_of,
            plan_switches: counts.plan_switches,
            as_of_derived: history.as_of_derived,
            first_month: months.first().map(|m| m.month.clone()),
            last_month: months.last().map(|m| m.month.clone()),
            other_currencies: other_currencies
                .into_iter()
                .map(|(currency, rows)| CurrencyCount { currency: currency.to_owned(), rows })
                .collect(),
            mrr_basis: mrr_basis.to_owned(),
            notes: imports
                .iter()
                .map(|i| (&i.file, &i.notes))
                .chain(charges.iter().map(|c| (&c.file, &c.notes)))
                .flat_map(|(file, notes)| {
                    notes.iter().map(move |note| if several { format!("{file}: {note}") } else { note.clone() })
                })
                .chain(refinement.iter().flat_map(|r| r.notes.iter().cloned()))
                .collect(),
        },
        segments: history.segments.clone(),
        months,
        inputs: imports
            .iter()
            .map(|i| InputReport {
                file: i.file.clone(),
                format: i.format.name().to_owned(),
                confidence: "certain".to_owned(),
            })
            .chain(charges.iter().map(|c| InputReport {
                file: c.file.clone(),
                format: c.source.name().to_owned(),
                confidence: "certain".to_owned(),
            }))
            .collect(),
        problems: imports
            .iter()
            .flat_map(|i| i.problems.iter())
            .chain(charges.iter().flat_map(|c| c.problems.iter()))
            .cloned()
            .collect(),
    }
}

impl HistoryReport {
    fn empty() -> HistoryReport {
        HistoryReport {
            format: String::new(),
            currency: String::new(),
            as_of: String::new(),
            summary: Summary {
                rows_read: 0,
                rows_set_aside: 0,
                subscriptions: 0,
                paid: 0,
                never_paid: 0,
                paused: 0,
                free: 0,
                trialing: 0,
                after_as_of: 0,
                plan_switches: 0,
                as_of_derived: false,
                first_month: None,
                last_month: None,
                other_currencies: Vec::new(),
                mrr_basis: "list_price".to_owned(),
                notes: Vec::new(),
            },
            segments: Vec::new(),
            months: Vec::new(),
            inputs: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// The report as the command prints it and the page receives it: compact JSON, one line.
pub fn to_json(report: &HistoryReport) -> String {
    // Serialising plain structs of numbers, strings and maps with string keys cannot fail.
    serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// A label and its value, both ready to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// A table of display strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Everything the page shows as text, formatted here so that no number is computed in JavaScript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryView {
    pub facts: Vec<Fact>,
    pub conventions: String,
    pub months: Table,
    pub segments: Table,
    pub problems: Table,
    /// The rows set aside, as a CSV file a person can download and fix.
    pub problems_csv: String,
}

pub fn history_view(report: &HistoryReport) -> HistoryView {
    let currency = Currency::from_code(&report.currency).unwrap_or(Currency {
        code: report.currency.clone(),
        minor_digits: 2,
        symbol: report.currency.to_uppercase(),
    });
    let money = |major: f64| currency.format(major_to_minor(major, &currency));
    let count = |n: u64| group_thousands(u128::from(n));
    let s = &report.summary;
    let last = report.months.last();
    let as_of = parse_instant(&report.as_of).map(format_instant_readable).unwrap_or_else(|| report.as_of.clone());
    let mut facts = vec![
        Fact { label: "Format".into(), value: describe_inputs(report) },
        Fact {
            label: "Rows".into(),
            value: format!("{} read, {} set aside", count(s.rows_read), count(s.rows_set_aside)),
        },
        Fact {
            label: "Months".into(),
            value: match (&s.first_month, &s.last_month) {
                (Some(first), Some(last_month)) => {
                    let partial = if report.months.last().is_some_and(|m| m.partial) { " (last month partial)" } else { "" };
                    format!("{first} to {last_month}{partial}")
                }
                _ => "none".into(),
            },
        },
        Fact {
            label: "As of".into(),
            value: format!("{as_of}{}", if s.as_of_derived { " (the latest event in the file)" } else { "" }),
        },
        Fact { label: "Currency".into(), value: report.currency.to_uppercase() },
        Fact { label: "Segments".into(), value: report.segments.join(", ") },
        Fact { label: "Paid subscribers".into(), value: last.map(|m| count(m.figures.active)).unwrap_or_default() },
        Fact { label: "MRR".into(), value: last.map(|m| money(m.figures.mrr)).unwrap_or_default() },
        Fact {
            label: "MRR from".into(),
            value: match s.mrr_basis.as_str() {
                "invoiced" => "renewal invoices, before tax and after discounts".into(),
                "payments" => "payments, net of refunds (tax included)".into(),
                _ => "list prices in the subscriptions export, before discounts".into(),
            },
        },
        Fact {
            label: "Subscriptions".into(),
            value: format!(
                "{} read: {} ever paid, {} in trial now, {} never paid (incomplete), {} paused, {} free, {} plan switches",
                count(s.subscriptions),
                count(s.paid),
                count(s.trialing),
                count(s.never_paid),
                count(s.paused),
                count(s.free),
                count(s.plan_switches)
            ),
        },
    ];
    if s.after_as_of > 0 {
        facts.push(Fact {
            label: "After the as-of".into(),
            value: match s.after_as_of {
                1 => "1 subscription starts later and is left out".to_owned(),
                n => format!("{} subscriptions start later and are left out", count(n)),
            },
        });
    }
    if !s.notes.is_empty() {
        facts.push(Fact { label: "Inferred".into(), value: s.notes.join("; ") });
    }
    if !s.other_currencies.is_empty() {
        let others: Vec<String> =
            s.other_currencies.iter().map(|c| format!("{} in {}", count(c.rows), c.currency.to_uppercase())).collect();
        facts.push(Fact {
            label: "Other currencies".into(),
            value: format!("{} (set aside, never added in)", others.join(", ")),
        });
    }

    let month_columns = [
        "Month",
        "Paid",
        "MRR",
        "New",
        "New MRR",
        "Reactivated",
        "Expansion MRR",
        "Contraction MRR",
        "Churned",
        "Churned MRR",
        "Trials started",
        "Converted",
        "Lost",
    ];
    let months = Table {
        columns: month_columns.iter().map(|c| c.to_string()).collect(),
        rows: report
            .months
            .iter()
            .rev()
            .map(|m| {
                let f = &m.figures;
                vec![
                    if m.partial { format!("{} (partial)", m.month) } else { m.month.clone() },
                    count(f.active),
                    money(f.mrr),
                    count(f.new),
                    money(f.new_mrr),
                    count(f.reactivated),
                    money(f.expansion_mrr),
                    money(f.contraction_mrr),
                    count(f.churned),
                    money(f.churned_mrr),
                    count(f.trials_started),
                    count(f.trials_converted),
                    count(f.trials_lost),
                ]
            })
            .collect(),
    };
    let segments = Table {
        columns: ["Segment", "Paid", "MRR", "Share of MRR"].iter().map(|c| c.to_string()).collect(),
        rows: match last {
            None => Vec::new(),
            Some(last) => {
                let mut rows: Vec<(&String, &FiguresReport)> = last.by_segment.iter().collect();
                rows.sort_by(|a, b| b.1.mrr.total_cmp(&a.1.mrr).then(a.0.cmp(b.0)));
                rows.into_iter()
                    .map(|(name, f)| {
                        let share = if last.figures.mrr > 0.0 { 100.0 * f.mrr / last.figures.mrr } else { 0.0 };
                        vec![name.clone(), count(f.active), money(f.mrr), format!("{share:.1}%")]
                    })
                    .collect()
            }
        },
    };
    let problems = problems_table(&report.problems);
    let problems_csv = problems_csv(&report.problems);
    HistoryView { facts, conventions: CONVENTIONS.to_owned(), months, segments, problems, problems_csv }
}

fn describe_inputs(report: &HistoryReport) -> String {
    report
        .inputs
        .iter()
        .map(|input| {
            let label = Format::from_name(&input.format)
                .map(Format::label)
                .or_else(|| ChargeSource::from_name(&input.format).map(ChargeSource::label))
                .unwrap_or(input.format.as_str());
            format!("{} ({label}, {})", input.file, input.confidence)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// JSON money is rounded to the minor unit, so this recovers the exact minor amount; NaN (an
/// amount too large to add up exactly) stays that.
pub(crate) fn major_to_minor(major: f64, currency: &Currency) -> Minor {
    if !major.is_finite() {
        return Minor::OVERFLOW;
    }
    let scale = 10f64.powi(currency.minor_digits as i32);
    Minor::from_integer((major * scale).round() as i128)
}

/// The problems as a table of display strings.
pub fn problems_table(problems: &[Problem]) -> Table {
    let problem_columns = ["file", "line", "column", "value", "reason", "hint"];
    Table {
        columns: problem_columns.iter().map(|c| c.to_string()).collect(),
        rows: problems
            .iter()
            .map(|p| {
                vec![
                    p.file.clone(),
                    p.line.to_string(),
                    p.column.clone(),
                    p.value.clone(),
                    p.reason.clone(),
                    p.hint.clone(),
                ]
            })
            .collect(),
    }
}

/// The problems as CSV with a header, for download; the file's own text (its name, columns and
/// values) as `export::spreadsheet_text` writes it, so that no value runs as a formula.
pub fn problems_csv(problems: &[Problem]) -> String {
    use crate::export::spreadsheet_text as text;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = ["file", "line", "column", "value", "reason", "hint"];
    let mut rows: Vec<[String; 6]> = vec![header.map(str::to_owned)];
    rows.extend(
        problems.iter().map(|p| {
            [text(&p.file), p.line.to_string(), text(&p.column), text(&p.value), text(&p.reason), text(&p.hint)]
        }),
    );
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&row);
    }
    writer.into_inner().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
}

/// The view as plain text for a terminal: facts, then the month table with aligned columns.
pub fn render_text(view: &HistoryView) -> String {
    let mut out = String::new();
    let width = view.facts.iter().map(|f| f.label.chars().count()).max().unwrap_or(0);
    for fact in &view.facts {
        out.push_str(&format!("{:<width$}  {}\n", fact.label, fact.value));
    }
    out.push('\n');
    out.push_str(&render_table(&view.segments));
    out.push('\n');
    out.push_str(&render_table(&view.months));
    out
}

pub(crate) fn render_table(table: &Table) -> String {
    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
    for row in &table.rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let w = widths.get(i).copied().unwrap_or(0);
                if i == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        format!("{}\n", parts.join("  ").trim_end())
    };
    let mut out = line(&table.columns);
    for row in &table.rows {
        out.push_str(&line(row));
    }
    out
}

/// A month label for charts.
pub fn month_of(label: &str) -> Option<MonthIndex> {
    let (year, month) = label.split_once('-')?;
    let year: i32 = year.parse().ok()?;
    let month: i32 = month.parse().ok()?;
    (1..=12).contains(&month).then_some(MonthIndex(year * 12 + month - 1))
}

/// A table with a title, for the views of snapshot and cohort tables.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TitledTable {
    pub title: String,
    pub table: Table,
}

/// Everything shown of a snapshot or a cohort table, formatted here as [`HistoryView`] is, so that
/// no number is formatted in JavaScript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablesView {
    pub facts: Vec<Fact>,
    pub conventions: String,
    pub tables: Vec<TitledTable>,
    pub problems: Table,
    /// The rows set aside, as a CSV file a person can download and fix.
    pub problems_csv: String,
}

/// One table of the page, with the id the page gives its element.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageTable {
    pub id: String,
    pub title: String,
    pub table: Table,
}

/// Everything the page shows of any analysis: one shape for subscription histories, snapshot tables
/// and cohort tables, so that the page has one way to show them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageView {
    /// `history`, `snapshot` or `cohorts`.
    pub kind: String,
    pub facts: Vec<Fact>,
    pub conventions: String,
    pub tables: Vec<PageTable>,
    pub problems: Table,
    pub problems_csv: String,
    /// The charts this analysis has (`mrr`, `subscribers`), in the order the page shows them.
    pub charts: Vec<String>,
    /// The file's other currencies (upper-case codes), each of which can be analysed instead.
    pub other_currencies: Vec<String>,
}

impl PageView {
    pub fn of_history(report: &HistoryReport, view: HistoryView) -> PageView {
        PageView {
            kind: "history".into(),
            facts: view.facts,
            conventions: view.conventions,
            tables: vec![
                PageTable { id: "segments".into(), title: "Segments at the as-of".into(), table: view.segments },
                PageTable { id: "months".into(), title: "Month by month (newest first)".into(), table: view.months },
            ],
            problems: view.problems,
            problems_csv: view.problems_csv,
            charts: vec!["mrr".into(), "subscribers".into()],
            other_currencies: report.summary.other_currencies.iter().map(|c| c.currency.to_uppercase()).collect(),
        }
    }

    pub fn of_tables(kind: &str, view: TablesView) -> PageView {
        PageView {
            kind: kind.into(),
            facts: view.facts,
            conventions: view.conventions,
            tables: view
                .tables
                .into_iter()
                .enumerate()
                .map(|(i, t)| PageTable { id: format!("{kind}-{}", i + 1), title: t.title, table: t.table })
                .collect(),
            problems: view.problems,
            problems_csv: view.problems_csv,
            charts: Vec::new(),
            other_currencies: Vec::new(),
        }
    }
}

/// The view as plain text for a terminal: facts, then each table under its title.
pub fn render_tables_text(view: &TablesView) -> String {
    let mut out = String::new();
    let width = view.facts.iter().map(|f| f.label.chars().count()).max().unwrap_or(0);
    for fact in &view.facts {
        out.push_str(&format!("{:<width$}  {}\n", fact.label, fact.value));
    }
    for titled in &view.tables {
        out.push_str(&format!("\n{}\n", titled.title));
        out.push_str(&render_table(&titled.table));
    }
    out
}

/// How money is shown when its currency is `code` (lower-case ISO) or, without one, a plain number
/// with `decimals` decimals.
pub(crate) fn display_currency(code: Option<&str>, decimals: u32) -> Currency {
    code.and_then(Currency::from_code).unwrap_or(Currency {
        code: code.unwrap_or_default().to_owned(),
        minor_digits: decimals,
        symbol: code.map(str::to_uppercase).unwrap_or_default(),
    })
}
