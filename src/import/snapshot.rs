//! Snapshot tables: one row per customer, no dates, the shape of the widely used telco churn data
//! set (`customerID, ..., tenure, ..., Contract, ..., MonthlyCharges, TotalCharges, Churn`).
//!
//! Recognised from the header: a tenure column and a churn flag (a monthly price column is then
//! required). Tenure is in whole months. The survival convention is the standard one (lifelines,
//! R's survival): duration = tenure, event = churned; a customer who has not churned is censored at
//! their tenure. Segments come from the column the person names, else from a contract or plan
//! column when there is one (`Contract`, `plan`, `product`, `segment`).
//!
//! Only the columns read make a row a problem: the id (blank or repeated), the tenure, the churn
//! flag, the price. The telco set's `TotalCharges`, a single space for brand-new customers, is
//! not read, so it is not a problem.

use std::collections::HashMap;

use super::sheet::{for_each_row, table_text, whole_number, Header, Prices};
use super::text::{candidate_layouts, Layout};
use super::{ImportError, ImportOptions, Problem, Progress};
use crate::money::{Currency, Minor};

/// Accepted header names (after [`super::sheet::header_key`]), the first found winning.
pub const TENURE: &[&str] = &["tenure", "tenure_months", "months_subscribed", "tenure_in_months"];
pub const CHURNED: &[&str] = &["churn", "churned", "is_churned", "cancelled", "canceled", "churn_label", "churn_value"];
pub const PRICE: &[&str] = &["monthlycharges", "monthly_charges", "mrr", "price", "monthly_price", "monthly_charge"];
pub const ID: &[&str] = &["customerid", "customer_id", "id"];
/// Columns that segment the table by default, the first found winning.
pub const SEGMENT: &[&str] = &["contract", "plan", "product", "segment"];

/// Tenures above this many months (a century) are typos.
const MAX_TENURE_MONTHS: u64 = 1200;

/// The segment of every customer when the table has no segment column.
pub const ALL: &str = "All";
/// The segment of a customer whose segment cell is blank.
pub const BLANK_SEGMENT: &str = "(blank)";

/// One customer, as the analysis sees them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    /// The line where the row starts.
    pub line: u64,
    /// Index into [`SnapshotImport::segments`].
    pub segment: usize,
    /// Whole months subscribed.
    pub tenure: u32,
    pub churned: bool,
    /// The monthly price, in [`SnapshotImport::unit`].
    pub price: Minor,
}

/// Everything read from one snapshot table.
#[derive(Clone, Debug)]
pub struct SnapshotImport {
    pub file: String,
    /// Data rows in the file (empty lines excluded).
    pub rows_read: u64,
    /// The currency the person named; `None` when the file's currency is not known.
    pub currency: Option<Currency>,
    /// What prices are counted in: the named currency, or a nameless one with the file's decimals.
    pub unit: Currency,
    /// The columns read, as the file names them.
    pub tenure_column: String,
    pub churned_column: String,
    pub price_column: String,
    pub id_column: Option<String>,
    pub segment_column: Option<String>,
    /// Segment names, sorted.
    pub segments: Vec<String>,
    pub customers: Vec<Customer>,
    pub problems: Vec<Problem>,
}

impl SnapshotImport {
    /// Rows set aside: distinct lines with at least one problem.
    pub fn rows_set_aside(&self) -> u64 {
        super::lines_with_problems(&self.problems)
    }
}

/// Whether a header is a snapshot table's: it has a tenure and a churn flag.
pub(crate) fn recognise(header: &[String]) -> bool {
    let header = Header::new(header);
    header.find(TENURE).is_some() && header.find(CHURNED).is_some()
}

/// Reads a snapshot table. `options.currency` names the prices' currency; `options.segment` the
/// column to segment by.
pub fn import(
    file: &str,
    bytes: &[u8],
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<SnapshotImport, ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    let text = table_text(file, bytes)?;
    let layouts = candidate_layouts(text);
    let Some(layout) = layouts.iter().find(|l| recognise(&l.header)) else {
        return Err(fail(
            "this is not a snapshot table: it needs a tenure column (tenure, tenure_months or months_subscribed) and \
             a churn flag (Churn, churned, is_churned or cancelled)."
                .into(),
        ));
    };
    read(file, text, layout, options, on_progress)
}

fn read(
    file: &str,
    text: &[u8],
    layout: &Layout,
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<SnapshotImport, ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    let header = Header::new(&layout.header);
    let (Some(tenure), Some(churned)) = (header.find(TENURE), header.find(CHURNED)) else {
        return Err(fail("a snapshot table needs a tenure column and a churn flag.".into()));
    };
    let Some(price) = header.find(PRICE) else {
        return Err(fail(format!(
            "this looks like a snapshot table (it has {} and {}), but it lacks a monthly price column: \
             MonthlyCharges, monthly_charges, mrr, price or monthly_price. The file's header is: {}.",
            header.name(tenure),
            header.name(churned),
            header.listed()
        )));
    };
    let segment = match &options.segment {
        Some(name) => Some(header.find_named(name).ok_or_else(|| {
            fail(format!("--segment: the table has no column `{name}`. The file's header is: {}.", header.listed()))
        })?),
        None => header.find(SEGMENT),
    };
    let id = header.find(ID);
    let mut prices = Prices::new(file, options.currency.as_deref())?;
    let mut problems = Vec::new();
    // Problems in the cells, apart from the shape problems the walk itself finds.
    let mut cell_problems = Vec::new();
    let mut customers = Vec::new();
    let mut segment_index: HashMap<String, usize> = HashMap::new();
    let mut segment_names: Vec<String> = Vec::new();
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    let rows_read = for_each_row(file, text, layout, &header, &mut problems, on_progress, |row| {
        let mut row_problems = Vec::new();
        let id_text = id.map(|column| (column, row.text(column)));
        match &id_text {
            Some((column, None)) => row_problems.push(row.problem(
                *column,
                "the customer id is blank".into(),
                "Every row needs its customer's id.",
            )),
            Some((column, Some(text))) => {
                if let Some(first) = seen_ids.get(text) {
                    row_problems.push(row.problem(
                        *column,
                        format!("this customer id already appeared on line {first}"),
                        "Each customer should appear once; remove the repeated row or export again.",
                    ));
                }
            }
            None => {}
        }
        let months = whole_number(&row.raw(tenure), MAX_TENURE_MONTHS)
            .map_err(|reason| {
                row_problems.push(row.problem(
                    tenure,
                    format!("{reason}: tenure is a whole number of months from 0 to {MAX_TENURE_MONTHS}"),
                    "Tenure is how many whole months the customer has been subscribed, such as 12.",
                ))
            })
            .ok();
        let flag = match row.text(churned) {
            None => {
                row_problems.push(row.problem(
                    churned,
                    "the churn flag is blank".into(),
                    "Write Yes or No (also true/false, 1/0): whether the customer has left.",
                ));
                None
            }
            Some(text) => super::values::parse_bool(&text)
                .ok_or_else(|| {
                    row_problems.push(row.problem(
                        churned,
                        "not a churn flag (expected Yes or No)".into(),
                        "Write Yes or No (also true/false, 1/0): whether the customer has left.",
                    ))
                })
                .ok(),
        };
        let amount = prices
            .parse(&row.raw(price))
            .map_err(|reason| {
                row_problems.push(row.problem(
                    price,
                    reason,
                    "The monthly price is what the customer pays per month, such as 29.85.",
                ))
            })
            .ok();
        if !row_problems.is_empty() {
            cell_problems.append(&mut row_problems);
            return;
        }
        let (Some(months), Some(flag), Some(amount)) = (months, flag, amount) else {
            return;
        };
        if let Some((_, Some(text))) = id_text {
            seen_ids.insert(text, row.line());
        }
        let name = match segment {
            None => ALL.to_owned(),
            Some(column) => row.text(column).unwrap_or_else(|| BLANK_SEGMENT.to_owned()),
        };
        let next = segment_names.len();
        let index = *segment_index.entry(name).or_insert_with_key(|name| {
            segment_names.push(name.clone());
            next
        });
        customers.push(Customer {
            line: row.line(),
            segment: index,
            tenure: months as u32,
            churned: flag,
            price: amount,
        });
    });
    problems.append(&mut cell_problems);
    problems.sort_by_key(|p| p.line);
    if rows_read == 0 {
        return Err(fail("the file has a header but no rows. Export the table again, with data.".into()));
    }
    if customers.is_empty() {
        return Err(ImportError {
            file: file.to_owned(),
            message: format!(
                "none of the file's {rows_read} rows could be read; they were all set aside. Fix them and import again."
            ),
            problems,
        });
    }
    // Segments sorted by name; customers renumbered to match.
    let mut order: Vec<usize> = (0..segment_names.len()).collect();
    order.sort_by(|a, b| segment_names[*a].cmp(&segment_names[*b]));
    let mut renumber = vec![0; order.len()];
    for (new, old) in order.iter().enumerate() {
        renumber[*old] = new;
    }
    for customer in &mut customers {
        customer.segment = renumber[customer.segment];
        customer.price = prices.finish(customer.price);
    }
    let segments = order.into_iter().map(|old| segment_names[old].clone()).collect();
    Ok(SnapshotImport {
        file: file.to_owned(),
        rows_read,
        currency: prices.named().cloned(),
        unit: prices.unit(),
        tenure_column: header.name(tenure).to_owned(),
        churned_column: header.name(churned).to_owned(),
        price_column: header.name(price).to_owned(),
        id_column: id.map(|column| header.name(column).to_owned()),
        segment_column: segment.map(|column| header.name(column).to_owned()),
        segments,
        customers,
        problems,
    })
}
