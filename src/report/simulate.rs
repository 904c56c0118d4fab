//! A baseline simulation as a report: the twin run forward with no change, month by month, with the
//! quantiles of paid subscribers and MRR per segment and in total (`subtwin simulate --json`).

use serde::{Deserialize, Serialize};

use super::{Fact, Table, TablesView, TitledTable};
use crate::import::values::MonthIndex;
use crate::money::Currency;
use crate::sim::Summary;

/// The quantiles reported, in order.
pub const PROBABILITIES: [f64; 7] = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95];

/// How quantiles are taken, stated in every report.
pub const QUANTILE_RULE: &str = "type 7 (R's and NumPy's default): linear interpolation between the order \
statistics at positions floor(h) and floor(h) + 1, h = (paths - 1) x p";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimulationReport {
    /// Always `simulation`.
    pub kind: String,
    /// The instant the twin was calibrated at.
    pub as_of: String,
    /// The first simulated month, `YYYY-MM`.
    pub start_month: String,
    pub horizon_months: u32,
    pub paths: u32,
    /// The seed, as a decimal string (JavaScript numbers are exact only to 2^53).
    pub seed: String,
    /// The analysis currency (lower-case ISO code).
    pub currency: String,
    pub quantile_rule: String,
    pub probabilities: Vec<f64>,
    pub segments: Vec<SeriesReport>,
    pub total: SeriesReport,
    /// Segments the twin could not run (no retention estimate), and other remarks.
    pub notes: Vec<String>,
}

/// One series: per month, the quantiles (in `probabilities`' order) of paid subscribers and of MRR
/// at the month's end.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesReport {
    pub name: String,
    pub months: Vec<String>,
    pub active: Vec<Vec<f64>>,
    pub mrr: Vec<Vec<f64>>,
}

pub fn simulation_report(
    summary: &Summary,
    as_of: &str,
    seed: u64,
    horizon_months: u32,
    currency: &Currency,
    notes: Vec<String>,
) -> SimulationReport {
    let months: Vec<String> =
        (0..horizon_months as i32).map(|k| MonthIndex(summary.start_month_index + k).label()).collect();
    let series = |q: &crate::sim::SeriesQuantiles| SeriesReport {
        name: q.name.clone(),
        months: months.clone(),
        active: q.active_subscribers.clone(),
        mrr: q.mrr_major_units.clone(),
    };
    SimulationReport {
        kind: "simulation".into(),
        as_of: as_of.to_owned(),
        start_month: MonthIndex(summary.start_month_index).label(),
        horizon_months,
        paths: summary.paths,
        seed: seed.to_string(),
        currency: currency.code.clone(),
        quantile_rule: QUANTILE_RULE.to_owned(),
        probabilities: summary.probabilities.clone(),
        segments: summary.segments.iter().map(series).collect(),
        total: series(&summary.total),
        notes,
    }
}

/// The report as the command prints it: compact JSON, one line.
pub fn to_json(report: &SimulationReport) -> String {
    serde_json::to_string(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// What the command prints: the facts and, for the total, the median and the 10-90% range of paid
/// subscribers and MRR, month by month.
pub fn simulation_view(report: &SimulationReport) -> TablesView {
    let currency = Currency::from_code(&report.currency).unwrap_or(Currency {
        code: report.currency.clone(),
        minor_digits: 2,
        symbol: String::new(),
    });
    let at = |p: f64| report.probabilities.iter().position(|q| (q - p).abs() < 1e-12);
    let (low, mid, high) = (at(0.1), at(0.5), at(0.9));
    let pick = |row: &Vec<f64>, i: Option<usize>| i.and_then(|i| row.get(i)).copied().unwrap_or(f64::NAN);
    let mut facts = vec![
        Fact {
            label: "Simulated".into(),
            value: format!("{} paths, {} months from {}", report.paths, report.horizon_months, report.start_month),
        },
        Fact { label: "As of".into(), value: report.as_of.clone() },
        Fact { label: "Seed".into(), value: report.seed.clone() },
        Fact { label: "Quantiles".into(), value: report.quantile_rule.clone() },
    ];
    for note in &report.notes {
        facts.push(Fact { label: "Note".into(), value: note.clone() });
    }
    let rows = report
        .total
        .months
        .iter()
        .enumerate()
        .map(|(m, month)| {
            let active = &report.total.active[m];
            let mrr = &report.total.mrr[m];
            vec![
                month.clone(),
                format!("{:.0}", pick(active, mid)),
                format!("{:.0} to {:.0}", pick(active, low), pick(active, high)),
                currency.format_compact(pick(mrr, mid)),
                format!("{} to {}", currency.format_compact(pick(mrr, low)), currency.format_compact(pick(mrr, high))),
            ]
        })
        .collect();
    TablesView {
        facts,
        conventions: "The baseline: the calibrated twin run forward with no change. A month's figures are at its end."
            .into(),
        tables: vec![TitledTable {
            title: "All segments (median, and 10% to 90%)".into(),
            table: Table {
                columns: ["Month", "Paid", "Paid 10-90%", "MRR", "MRR 10-90%"].iter().map(|c| c.to_string()).collect(),
                rows,
            },
        }],
        problems: Table { columns: Vec::new(), rows: Vec::new() },
        problems_csv: String::new(),
    }
}
