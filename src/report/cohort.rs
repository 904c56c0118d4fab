//! Cohort tables as a report: per segment, each cohort's survivors by age, from its size (age 0)
//! to the last age observed, ready for retention fits (a shifted-beta-geometric fit reads a
//! cohort's survivors as they are).

use serde::{Deserialize, Serialize};

use super::{
    display_currency, major_to_minor, problems_csv, problems_table, Fact, InputReport, Table, TablesView, TitledTable,
};
use crate::import::cohort::CohortImport;
use crate::import::Problem;
use crate::money::group_thousands;

/// The conventions behind a cohort table's numbers.
pub const CONVENTIONS: &str = "Survivors: how many of a cohort are still subscribed at each age, counted in \
the segment's period (months or years) since the cohort started; age 0 is the cohort's size. Ages after a \
cohort's last row have not been observed yet. Price: the monthly price per subscriber, when the table gives one.";

/// The report of one cohort table: the documented JSON shape (README, "Cohort tables").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortReport {
    /// Always `cohorts`: what kind of report this is (a subscription history has no `kind`).
    pub kind: String,
    /// Always `cohort_table`: the input format.
    pub format: String,
    /// Lower-case ISO code, `null` when the currency is not known (never assumed).
    pub currency: Option<String>,
    /// The decimals prices are rounded to: the currency's minor unit, or without a currency the most
    /// decimals the file's prices have.
    pub decimals: u32,
    pub summary: CohortSummary,
    /// Sorted by name.
    pub segments: Vec<CohortSegmentReport>,
    pub inputs: Vec<InputReport>,
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortSummary {
    pub rows_read: u64,
    pub rows_set_aside: u64,
    pub segments: u64,
    pub cohorts: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortSegmentReport {
    pub name: String,
    /// `month` or `year`: the unit of the ages.
    pub period: String,
    /// Month cohorts first, in calendar order, then the other labels in the file's order.
    pub cohorts: Vec<CohortEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortEntry {
    /// The label as the file writes it.
    pub cohort: String,
    /// `YYYY-MM` when the label is a month, else `null`.
    pub month: Option<String>,
    /// `survivors[0]`.
    pub size: u64,
    /// `survivors[age]`, from age 0 to the last age observed.
    pub survivors: Vec<u64>,
    /// The monthly price per subscriber in major units, `null` when the table gives none.
    pub price: Option<f64>,
}

pub fn cohort_report(import: &CohortImport) -> CohortReport {
    let unit = &import.unit;
    let segments: Vec<CohortSegmentReport> = import
        .segments
        .iter()
        .map(|segment| CohortSegmentReport {
            name: segment.name.clone(),
            period: segment.period.name().to_owned(),
            cohorts: segment
                .cohorts
                .iter()
                .map(|cohort| CohortEntry {
                    cohort: cohort.label.clone(),
                    month: cohort.month.map(|m| m.label()),
                    size: cohort.survivors.first().copied().unwrap_or(0),
                    survivors: cohort.survivors.clone(),
                    price: cohort.price.map(|p| p.to_major_f64(unit)),
                })
                .collect(),
        })
        .collect();
    CohortReport {
        kind: "cohorts".into(),
        format: "cohort_table".into(),
        currency: import.currency.as_ref().map(|c| c.code.clone()),
        decimals: unit.minor_digits,
        summary: CohortSummary {
            rows_read: import.rows_read,
            rows_set_aside: import.rows_set_aside(),
            segments: segments.len() as u64,
            cohorts: segments.iter().map(|s| s.cohorts.len() as u64).sum(),
        },
        segments,
        inputs: vec![InputReport {
            file: import.file.clone(),
            format: "cohort_table".into(),
            confidence: "certain".into(),
        }],
        problems: import.problems.clone(),
    }
}

/// Everything shown of a cohort table, as display strings: one survivors table per segment.
pub fn cohort_view(report: &CohortReport) -> TablesView {
    let currency = display_currency(report.currency.as_deref(), report.decimals);
    let money = |major: f64| currency.format(major_to_minor(major, &currency));
    let count = |n: u64| group_thousands(u128::from(n));
    let s = &report.summary;
    let files: Vec<String> = report.inputs.iter().map(|i| i.file.clone()).collect();
    let has_price = report.segments.iter().flat_map(|s| &s.cohorts).any(|c| c.price.is_some());
    let mut facts = vec![
        Fact {
            label: "Format".into(),
            value: format!("{} (cohort table: survivors by segment, cohort and age)", files.join(", ")),
        },
        Fact {
            label: "Rows".into(),
            value: format!("{} read, {} set aside", count(s.rows_read), count(s.rows_set_aside)),
        },
        Fact {
            label: "Segments".into(),
            value: report
                .segments
                .iter()
                .map(|segment| {
                    let n = segment.cohorts.len();
                    let cohorts = if n == 1 { "1 cohort".to_owned() } else { format!("{n} cohorts") };
                    format!("{} ({cohorts}, ages in {}s)", segment.name, segment.period)
                })
                .collect::<Vec<_>>()
                .join("; "),
        },
    ];
    if has_price {
        facts.push(Fact {
            label: "Currency".into(),
            value: match &report.currency {
                Some(code) => code.to_uppercase(),
                None => {
                    "not stated: prices as the file writes them (name it with --currency or the currency choice)".into()
                }
            },
        });
    }
    let tables = report
        .segments
        .iter()
        .map(|segment| {
            let ages = segment.cohorts.iter().map(|c| c.survivors.len()).max().unwrap_or(0);
            let priced = segment.cohorts.iter().any(|c| c.price.is_some());
            let mut columns = vec!["Cohort".to_owned()];
            if priced {
                columns.push("Price".into());
            }
            columns.extend((0..ages).map(|age| if age == 0 { "Age 0".to_owned() } else { age.to_string() }));
            let rows = segment
                .cohorts
                .iter()
                .map(|cohort| {
                    let mut row = vec![cohort.cohort.clone()];
                    if priced {
                        row.push(cohort.price.map(money).unwrap_or_default());
                    }
                    row.extend((0..ages).map(|age| cohort.survivors.get(age).map(|&n| count(n)).unwrap_or_default()));
                    row
                })
                .collect();
            TitledTable {
                title: format!("{}: survivors by cohort and age ({}s)", segment.name, segment.period),
                table: Table { columns, rows },
            }
        })
        .collect();
    TablesView {
        facts,
        conventions: CONVENTIONS.to_owned(),
        tables,
        problems: problems_table(&report.problems),
        problems_csv: problems_csv(&report.problems),
    }
}
