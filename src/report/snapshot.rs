//! Snapshot tables as a report: current actives and MRR per segment, and per segment the number at
//! risk and churned by tenure month, the input of a Kaplan–Meier estimate and of retention fits.
//!
//! The survival convention is the standard one: duration = tenure, event = churned. At risk at
//! tenure month `t`: the customers whose tenure is `t` or more (a customer still subscribed is
//! censored at their tenure, and counts as at risk there). Churned at `t`: churned customers whose
//! tenure is `t`. The arrays are indexed by `t` from 0 to the largest tenure in the table, the same
//! length for every segment.

use serde::{Deserialize, Serialize};

use super::{
    display_currency, major_to_minor, money_or_nan, problems_csv, problems_table, Fact, InputReport, Table, TablesView,
    TitledTable,
};
use crate::import::snapshot::SnapshotImport;
use crate::import::Problem;
use crate::money::{group_thousands, Currency, Minor};

/// The conventions behind a snapshot table's numbers.
pub const CONVENTIONS: &str = "One row per customer, no dates. Tenure is in whole months. Survival follows the \
usual convention: duration = tenure, event = churned; a customer still subscribed is censored at their tenure. \
At risk at month t: customers whose tenure is t or more; churned at t: churned customers whose tenure is t. \
Active: not churned. MRR: the active customers' monthly price, added up exactly and rounded only for display.";

/// The report of one snapshot table: the documented JSON shape (README, "Snapshot tables").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotReport {
    /// Always `snapshot`: what kind of report this is (a subscription history has no `kind`).
    pub kind: String,
    /// Always `snapshot`: the input format.
    pub format: String,
    /// Lower-case ISO code, `null` when the currency is not known (never assumed).
    pub currency: Option<String>,
    /// The decimals money is rounded to: the currency's minor unit, or without a currency the most
    /// decimals the file's prices have.
    pub decimals: u32,
    /// Always `month`.
    pub tenure_unit: String,
    /// The columns read, as the file names them.
    pub columns: SnapshotColumns,
    pub summary: SnapshotSummary,
    /// The whole table as one segment, named `Total`.
    pub total: SegmentSurvival,
    /// Sorted by name.
    pub segments: Vec<SegmentSurvival>,
    pub inputs: Vec<InputReport>,
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotColumns {
    pub tenure: String,
    pub churned: String,
    pub price: String,
    pub id: Option<String>,
    /// `null` when the table is not segmented (one segment, `All`).
    pub segment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSummary {
    pub rows_read: u64,
    pub rows_set_aside: u64,
    /// Customers read (rows not set aside).
    pub customers: u64,
    pub active: u64,
    pub churned: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentSurvival {
    pub name: String,
    pub customers: u64,
    /// Not churned.
    pub active: u64,
    pub churned: u64,
    /// The active customers' monthly price, in major units.
    #[serde(deserialize_with = "money_or_nan")]
    pub mrr: f64,
    /// The churned customers' monthly price: the MRR they took with them.
    #[serde(deserialize_with = "money_or_nan")]
    pub churned_mrr: f64,
    /// `at_risk[t]`: customers whose tenure is `t` months or more.
    pub at_risk: Vec<u64>,
    /// `churned_at[t]`: churned customers whose tenure is `t` months.
    pub churned_at: Vec<u64>,
}

/// Counts and money for one segment while they are added up.
struct Tally {
    active: u64,
    churned: u64,
    mrr: Minor,
    churned_mrr: Minor,
    /// Customers by tenure.
    at_tenure: Vec<u64>,
    churned_at: Vec<u64>,
}

impl Tally {
    fn new(months: usize) -> Tally {
        Tally {
            active: 0,
            churned: 0,
            mrr: Minor::ZERO,
            churned_mrr: Minor::ZERO,
            at_tenure: vec![0; months],
            churned_at: vec![0; months],
        }
    }

    fn add(&mut self, tenure: usize, churned: bool, price: Minor) {
        self.at_tenure[tenure] += 1;
        if churned {
            self.churned += 1;
            self.churned_mrr += price;
            self.churned_at[tenure] += 1;
        } else {
            self.active += 1;
            self.mrr += price;
        }
    }

    fn report(self, name: &str, unit: &Currency) -> SegmentSurvival {
        let mut at_risk = self.at_tenure;
        let mut later = 0;
        for count in at_risk.iter_mut().rev() {
            later += *count;
            *count = later;
        }
        SegmentSurvival {
            name: name.to_owned(),
            customers: self.active + self.churned,
            active: self.active,
            churned: self.churned,
            mrr: self.mrr.to_major_f64(unit),
            churned_mrr: self.churned_mrr.to_major_f64(unit),
            at_risk,
            churned_at: self.churned_at,
        }
    }
}

pub fn snapshot_report(import: &SnapshotImport) -> SnapshotReport {
    let months = import.customers.iter().map(|c| c.tenure as usize).max().unwrap_or(0) + 1;
    let mut total = Tally::new(months);
    let mut segments: Vec<Tally> = import.segments.iter().map(|_| Tally::new(months)).collect();
    for customer in &import.customers {
        let tenure = customer.tenure as usize;
        total.add(tenure, customer.churned, customer.price);
        if let Some(segment) = segments.get_mut(customer.segment) {
            segment.add(tenure, customer.churned, customer.price);
        }
    }
    let unit = &import.unit;
    let total = total.report("Total", unit);
    SnapshotReport {
        kind: "snapshot".into(),
        format: "snapshot".into(),
        currency: import.currency.as_ref().map(|c| c.code.clone()),
        decimals: unit.minor_digits,
        tenure_unit: "month".into(),
        columns: SnapshotColumns {
            tenure: import.tenure_column.clone(),
            churned: import.churned_column.clone(),
            price: import.price_column.clone(),
            id: import.id_column.clone(),
            segment: import.segment_column.clone(),
        },
        summary: SnapshotSummary {
            rows_read: import.rows_read,
            rows_set_aside: import.rows_set_aside(),
            customers: import.customers.len() as u64,
            active: total.active,
            churned: total.churned,
        },
        total,
        segments: segments.into_iter().zip(&import.segments).map(|(tally, name)| tally.report(name, unit)).collect(),
        inputs: vec![InputReport {
            file: import.file.clone(),
            format: "snapshot".into(),
            confidence: "certain".into(),
        }],
        problems: import.problems.clone(),
    }
}

/// Everything shown of a snapshot table, as display strings.
pub fn snapshot_view(report: &SnapshotReport) -> TablesView {
    let currency = display_currency(report.currency.as_deref(), report.decimals);
    let money = |major: f64| currency.format(major_to_minor(major, &currency));
    let count = |n: u64| group_thousands(u128::from(n));
    let s = &report.summary;
    let c = &report.columns;
    let mut columns = format!("tenure: {} (months), churned: {}, monthly price: {}", c.tenure, c.churned, c.price);
    if let Some(segment) = &c.segment {
        columns.push_str(&format!(", segment: {segment}"));
    }
    if let Some(id) = &c.id {
        columns.push_str(&format!(", id: {id}"));
    }
    let files: Vec<String> = report.inputs.iter().map(|i| i.file.clone()).collect();
    let facts = vec![
        Fact {
            label: "Format".into(),
            value: format!(
                "{} (snapshot table: one row per customer, with a tenure and a churn flag)",
                files.join(", ")
            ),
        },
        Fact {
            label: "Rows".into(),
            value: format!("{} read, {} set aside", count(s.rows_read), count(s.rows_set_aside)),
        },
        Fact { label: "Columns".into(), value: columns },
        Fact {
            label: "Currency".into(),
            value: match &report.currency {
                Some(code) => code.to_uppercase(),
                None => "not stated: amounts as the file writes them (name it with --currency or the currency choice)"
                    .into(),
            },
        },
        Fact {
            label: "Customers".into(),
            value: format!("{}: {} active, {} churned", count(s.customers), count(s.active), count(s.churned)),
        },
        Fact {
            label: "MRR".into(),
            value: format!("{} (the active customers' monthly price)", money(report.total.mrr)),
        },
        Fact {
            label: "Segments".into(),
            value: report.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
        },
    ];
    let segment_row = |s: &super::snapshot::SegmentSurvival| {
        vec![s.name.clone(), count(s.customers), count(s.active), count(s.churned), money(s.mrr), money(s.churned_mrr)]
    };
    let mut rows: Vec<Vec<String>> = report.segments.iter().map(segment_row).collect();
    if report.segments.len() > 1 {
        rows.push(segment_row(&report.total));
    }
    let segments = Table {
        columns: ["Segment", "Customers", "Active", "Churned", "MRR", "Churned MRR"].map(String::from).to_vec(),
        rows,
    };
    // Per segment when there are several, then the total.
    let mut shown: Vec<&SegmentSurvival> = Vec::new();
    if report.segments.len() > 1 {
        shown.extend(&report.segments);
    }
    shown.push(&report.total);
    let mut columns = vec!["Tenure (months)".to_owned()];
    for s in &shown {
        let name = if shown.len() == 1 { String::new() } else { format!("{} ", s.name) };
        columns.push(format!("{name}at risk"));
        columns.push(format!("{name}churned"));
    }
    let months = report.total.at_risk.len();
    let tenure = Table {
        columns,
        rows: (0..months)
            .map(|t| {
                let mut row = vec![t.to_string()];
                for s in &shown {
                    row.push(count(s.at_risk.get(t).copied().unwrap_or(0)));
                    row.push(count(s.churned_at.get(t).copied().unwrap_or(0)));
                }
                row
            })
            .collect(),
    };
    TablesView {
        facts,
        conventions: CONVENTIONS.to_owned(),
        tables: vec![
            TitledTable { title: "Segments".into(), table: segments },
            TitledTable {
                title: "At risk and churned by tenure month (the Kaplan–Meier input)".into(), table: tenure
            },
        ],
        problems: problems_table(&report.problems),
        problems_csv: problems_csv(&report.problems),
    }
}
