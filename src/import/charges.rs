//! Stripe's invoices and payments exports, read beside a subscriptions export to refine its revenue.
//!
//! A subscriptions export shows each subscription's current list price and nothing of its past:
//! not a coupon, not the seats added last spring. Its invoices do. Given beside the subscriptions
//! export, each subscription's MRR follows what its recurring invoices billed ([`refine`]): the
//! first one in its paid span sets its MRR, each later one whose amount differs changes it (an
//! expansion or a contraction in the history), and a discount that ends shows as an expansion.
//!
//! What counts, and why:
//! - An invoice's recurring amount is what it billed before tax and after discounts: `Subtotal`
//!   less `Total Discount Amount`, else `Total` less `Tax`, else `Amount Due`, else `Amount Paid`
//!   (the first the export has). Divided by the subscription's billing interval, it is MRR.
//! - Draft and void invoices billed nothing; open and uncollectible ones billed the price all the
//!   same (a failed payment ends the subscription in the subscriptions export, not here).
//! - Only renewal invoices set the MRR: with a `Billing Reason` column, `subscription_create`,
//!   `subscription_cycle` and `subscription`; prorations (`subscription_update`) and manual
//!   invoices are one-off amounts. Without the column, and for payments, an amount that comes less
//!   than four fifths of a billing interval after the previous one is read as a proration and left
//!   out. Invoices dated before the paid start (the zero invoice of a trial) are left out too.
//! - A payment (`Amount` less `Amount Refunded`, which includes any tax) is used when its invoice
//!   is not in a given invoices export: it is matched to its customer's one subscription live at the
//!   payment's date, and left out when the customer had none or several.
//! - Amounts in other currencies than the analysis' are converted with the given exchange rates,
//!   or left out (as their subscriptions are).
//!
//! Every row left out is counted in a note; a row the analysis would use but cannot read is a
//! problem, with its line, column, value and a hint, as in every other import.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::sheet::{for_each_row, table_text, Header, SheetRow};
use super::text::candidate_layouts;
use super::values::{parse_instant_in, DateOrder, SECONDS_PER_DAY};
use super::{ImportError, ImportOptions, Instant, IntervalUnit, Problem, Progress, Status, Subscription};
use crate::money::{parse_major_amount, Currency, ExchangeRates, Minor};

/// Which export the charges come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeSource {
    StripeInvoices,
    StripePayments,
}

impl ChargeSource {
    /// The name reports use (`"format"` of an input).
    pub fn name(self) -> &'static str {
        match self {
            ChargeSource::StripeInvoices => "stripe_invoices",
            ChargeSource::StripePayments => "stripe_payments",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChargeSource::StripeInvoices => "Stripe invoices export",
            ChargeSource::StripePayments => "Stripe payments export",
        }
    }

    /// The source a name ([`ChargeSource::name`]) stands for.
    pub fn from_name(name: &str) -> Option<ChargeSource> {
        [ChargeSource::StripeInvoices, ChargeSource::StripePayments].into_iter().find(|s| s.name() == name)
    }

    fn noun(self) -> &'static str {
        match self {
            ChargeSource::StripeInvoices => "invoice",
            ChargeSource::StripePayments => "payment",
        }
    }
}

/// Header names, as [`Header`] matches them (case folded, ` (UTC)` dropped, spaces as underscores).
mod names {
    pub const ID: &[&str] = &["id"];
    pub const SUBSCRIPTION: &[&str] = &["subscription", "subscription_id"];
    pub const CUSTOMER: &[&str] = &["customer", "customer_id"];
    pub const INVOICE_DATE: &[&str] = &["date", "created", "created_date", "invoice_date"];
    pub const PAYMENT_DATE: &[&str] = &["created", "created_date", "date"];
    pub const STATUS: &[&str] = &["status"];
    pub const BILLING_REASON: &[&str] = &["billing_reason"];
    pub const CURRENCY: &[&str] = &["currency"];
    pub const SUBTOTAL: &[&str] = &["subtotal"];
    pub const DISCOUNT: &[&str] = &["total_discount_amount", "discount_amount", "discount"];
    pub const TOTAL: &[&str] = &["total"];
    pub const TAX: &[&str] = &["tax", "total_tax", "tax_amount"];
    pub const AMOUNT_DUE: &[&str] = &["amount_due"];
    pub const AMOUNT_PAID: &[&str] = &["amount_paid"];
    pub const AMOUNT: &[&str] = &["amount"];
    pub const AMOUNT_REFUNDED: &[&str] = &["amount_refunded"];
    pub const INVOICE: &[&str] = &["invoice_id", "invoice"];
    pub const CAPTURED: &[&str] = &["captured"];
}

/// Which export a file is, if either, from its header.
pub fn source_of(bytes: &[u8]) -> Option<ChargeSource> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    candidate_layouts(text).iter().find_map(|layout| recognise(&layout.header))
}

/// Which export a header belongs to, if either.
pub(crate) fn recognise(header: &[String]) -> Option<ChargeSource> {
    let header = Header::new(header);
    let has = |aliases: &[&str]| header.find(aliases).is_some();
    if has(names::SUBSCRIPTION)
        && has(names::INVOICE_DATE)
        && has(names::CURRENCY)
        && (has(names::AMOUNT_PAID) || has(names::AMOUNT_DUE))
    {
        return Some(ChargeSource::StripeInvoices);
    }
    if has(names::AMOUNT_REFUNDED) && has(names::AMOUNT) && has(names::PAYMENT_DATE) && has(names::CUSTOMER) {
        return Some(ChargeSource::StripePayments);
    }
    None
}

/// One amount billed (an invoice) or collected (a payment) for a subscription's recurring price.
#[derive(Clone, Debug, PartialEq)]
pub struct Charge {
    /// The line of the file where the row starts.
    pub line: u64,
    /// The subscription the row names (invoices name it; payments do not).
    pub subscription: Option<String>,
    pub customer: Option<String>,
    /// The invoice: an invoice's own id, or the one a payment paid.
    pub invoice: Option<String>,
    pub at: Instant,
    /// In the analysis currency: before tax and after discounts for an invoice; net of refunds for a
    /// payment.
    pub amount: Minor,
    /// `Some(true)` for a renewal invoice by its billing reason; `None` when the export does not say.
    pub renewal: Option<bool>,
}

/// Everything read from one invoices or payments export.
#[derive(Clone, Debug)]
pub struct ChargesImport {
    pub file: String,
    pub source: ChargeSource,
    /// Data rows in the file (empty lines excluded).
    pub rows_read: u64,
    pub charges: Vec<Charge>,
    pub problems: Vec<Problem>,
    /// What was left out and why, one sentence each.
    pub notes: Vec<String>,
}

impl ChargesImport {
    /// Rows set aside: distinct lines with at least one problem.
    pub fn rows_set_aside(&self) -> u64 {
        super::lines_with_problems(&self.problems)
    }
}

/// The columns of one export, found in its header.
struct Columns {
    id: Option<usize>,
    subscription: Option<usize>,
    customer: Option<usize>,
    invoice: Option<usize>,
    date: usize,
    status: Option<usize>,
    billing_reason: Option<usize>,
    currency: usize,
    captured: Option<usize>,
    /// The amount, and what is taken off it (a discount or tax; refunds for payments).
    amount: usize,
    less: Option<usize>,
}

const DATE_HINT: &str = "Stripe writes dates as YYYY-MM-DD HH:MM in UTC; a spreadsheet may have reformatted them: \
export again, or say the order of slashed dates with --date-order.";

/// Reads an invoices or payments export. `currency` is the analysis currency (the subscriptions
/// export's); `options` gives the exchange rates and the order of slashed dates.
pub fn import(
    file: &str,
    bytes: &[u8],
    currency: &Currency,
    options: &ImportOptions,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<ChargesImport, ImportError> {
    let fail = |message: String| ImportError::new(file, message);
    let text = table_text(file, bytes)?;
    let layouts = candidate_layouts(text);
    let Some((layout, source)) = layouts.iter().find_map(|l| recognise(&l.header).map(|source| (l, source))) else {
        return Err(fail(
            "this is neither a Stripe invoices export (Subscription, Date, Currency, Amount Paid) nor a payments \
             export (Created, Amount, Amount Refunded, Customer ID)."
                .into(),
        ));
    };
    let header = Header::new(&layout.header);
    let columns = find_columns(&header, source).map_err(fail)?;
    let mut reading = Reading {
        source,
        columns: &columns,
        currency,
        fx: options.fx.as_ref(),
        date_order: options.date_order.unwrap_or(DateOrder::IsoOnly),
        charges: Vec::new(),
        cell_problems: Vec::new(),
        left_out: LeftOut::default(),
        seen: HashMap::new(),
    };
    let mut problems = Vec::new();
    let rows_read = for_each_row(file, text, layout, &header, &mut problems, on_progress, |row| reading.row(row));
    if rows_read == 0 {
        return Err(fail(format!(
            "the file has a header but no rows. Export the {}s again, with data.",
            source.noun()
        )));
    }
    problems.append(&mut reading.cell_problems);
    problems.sort_by_key(|p| p.line);
    let notes = reading.left_out.notes(source, currency);
    Ok(ChargesImport { file: file.to_owned(), source, rows_read, charges: reading.charges, problems, notes })
}

fn find_columns(header: &Header, source: ChargeSource) -> Result<Columns, String> {
    let missing = |what: &str| {
        format!("the {} lacks a {what} column. The file's header is: {}.", source.label(), header.listed())
    };
    let currency = header.find(names::CURRENCY).ok_or_else(|| missing("Currency"))?;
    Ok(match source {
        ChargeSource::StripeInvoices => {
            let (amount, less) = if let Some(subtotal) = header.find(names::SUBTOTAL) {
                (subtotal, header.find(names::DISCOUNT))
            } else if let Some(total) = header.find(names::TOTAL) {
                (total, header.find(names::TAX))
            } else {
                let due_or_paid = header.find(names::AMOUNT_DUE).or_else(|| header.find(names::AMOUNT_PAID));
                (due_or_paid.ok_or_else(|| missing("Subtotal, Total, Amount Due or Amount Paid"))?, None)
            };
            Columns {
                id: header.find(names::ID),
                subscription: header.find(names::SUBSCRIPTION),
                customer: header.find(names::CUSTOMER),
                invoice: header.find(names::ID),
                date: header.find(names::INVOICE_DATE).ok_or_else(|| missing("Date"))?,
                status: header.find(names::STATUS),
                billing_reason: header.find(names::BILLING_REASON),
                currency,
                captured: None,
                amount,
                less,
            }
        }
        ChargeSource::StripePayments => Columns {
            id: header.find(names::ID),
            subscription: None,
            customer: header.find(names::CUSTOMER),
            invoice: header.find(names::INVOICE),
            date: header.find(names::PAYMENT_DATE).ok_or_else(|| missing("Created"))?,
            status: header.find(names::STATUS),
            billing_reason: None,
            currency,
            captured: header.find(names::CAPTURED),
            amount: header.find(names::AMOUNT).ok_or_else(|| missing("Amount"))?,
            less: header.find(names::AMOUNT_REFUNDED),
        },
    })
}

/// Rows left out of the revenue, by reason: none of them is a problem.
#[derive(Default)]
struct LeftOut {
    /// Draft or void invoices; failed, pending or uncaptured payments.
    not_billed: u64,
    /// Invoices for no subscription (one-off sales).
    no_subscription: u64,
    /// Prorations and manual invoices, by their billing reason.
    not_renewal: u64,
    /// A payment fully refunded.
    refunded: u64,
    /// Rows in a currency with no exchange rate, by currency code.
    other_currencies: BTreeMap<String, u64>,
}

impl LeftOut {
    fn notes(&self, source: ChargeSource, currency: &Currency) -> Vec<String> {
        let noun = source.noun();
        let mut notes = Vec::new();
        let mut say = |count: u64, what: String| {
            if count > 0 {
                notes.push(format!("{count} {noun}{} {what}", if count == 1 { "" } else { "s" }));
            }
        };
        match source {
            ChargeSource::StripeInvoices => {
                say(self.not_billed, "left out: draft or void, they billed nothing".into());
                say(self.no_subscription, "left out: they belong to no subscription (one-off sales)".into());
                say(
                    self.not_renewal,
                    "left out: prorations or manual invoices by their billing reason, not a recurring price".into(),
                );
            }
            ChargeSource::StripePayments => {
                say(self.not_billed, "left out: failed, pending or not captured".into());
                say(self.refunded, "left out: refunded in full".into());
            }
        }
        for (code, count) in &self.other_currencies {
            say(
                *count,
                format!("in {code} left out: not the analysis currency ({}) and no exchange rate", currency.code),
            );
        }
        notes
    }
}

/// The state of one export's read.
struct Reading<'a> {
    source: ChargeSource,
    columns: &'a Columns,
    currency: &'a Currency,
    fx: Option<&'a ExchangeRates>,
    date_order: DateOrder,
    charges: Vec<Charge>,
    cell_problems: Vec<Problem>,
    left_out: LeftOut,
    /// Row ids seen so far, with their line: a repeated id is a problem.
    seen: HashMap<String, u64>,
}

/// What a row's status says.
enum Billed {
    Yes,
    No,
}

impl Reading<'_> {
    fn row(&mut self, row: &SheetRow<'_>) {
        let columns = self.columns;
        let mut problems = Vec::new();
        if let Some(column) = columns.id {
            if let Some(id) = row.text(column) {
                match self.seen.get(&id) {
                    Some(first) => {
                        let noun = self.source.noun();
                        self.cell_problems.push(row.problem(
                            column,
                            format!("this {noun} id already appeared on line {first}"),
                            &format!("Each {noun} should appear once; remove the repeated row or export again."),
                        ));
                        return;
                    }
                    None => {
                        self.seen.insert(id, row.line());
                    }
                }
            }
        }
        match self.status(row) {
            Ok(Billed::Yes) => {}
            Ok(Billed::No) => {
                self.left_out.not_billed += 1;
                return;
            }
            Err(problem) => problems.push(problem),
        }
        let subscription = columns.subscription.and_then(|c| row.text(c));
        if self.source == ChargeSource::StripeInvoices && subscription.is_none() {
            self.left_out.no_subscription += 1;
            return;
        }
        let renewal = match columns.billing_reason.and_then(|c| row.text(c)) {
            None => None,
            Some(reason) => match reason.to_ascii_lowercase().as_str() {
                "subscription_create" | "subscription_cycle" | "subscription" => Some(true),
                _ => {
                    self.left_out.not_renewal += 1;
                    return;
                }
            },
        };
        let row_currency = Currency::from_code(&row.raw(columns.currency));
        let Some(row_currency) = row_currency else {
            problems.push(row.problem(
                columns.currency,
                "not an ISO 4217 currency code".into(),
                "Stripe writes lower-case ISO codes such as usd or eur.",
            ));
            self.cell_problems.append(&mut problems);
            return;
        };
        let at = self.instant(row).map_err(|p| problems.push(p)).ok();
        let amount = self.amount(row, &row_currency).map_err(|p| problems.push(p)).ok();
        if !problems.is_empty() {
            self.cell_problems.append(&mut problems);
            return;
        }
        let (Some(at), Some(amount)) = (at, amount) else { return };
        if self.source == ChargeSource::StripePayments && amount.is_zero() {
            self.left_out.refunded += 1;
            return;
        }
        let amount = if row_currency == *self.currency {
            amount
        } else {
            match self.fx.and_then(|fx| fx.convert(amount, &row_currency)) {
                Some(converted) => converted,
                None => {
                    *self.left_out.other_currencies.entry(row_currency.code.clone()).or_default() += 1;
                    return;
                }
            }
        };
        self.charges.push(Charge {
            line: row.line(),
            subscription,
            customer: columns.customer.and_then(|c| row.text(c)),
            invoice: columns.invoice.and_then(|c| row.text(c)),
            at,
            amount,
            renewal,
        });
    }

    #[allow(clippy::result_large_err)]
    fn status(&self, row: &SheetRow<'_>) -> Result<Billed, Problem> {
        let columns = self.columns;
        if let Some(captured) = columns.captured {
            if row.text(captured).is_some_and(|c| c.eq_ignore_ascii_case("false")) {
                return Ok(Billed::No);
            }
        }
        let Some(column) = columns.status else { return Ok(Billed::Yes) };
        let status = row.text(column).unwrap_or_default().to_ascii_lowercase().replace(' ', "_");
        let billed = match self.source {
            ChargeSource::StripeInvoices => match status.as_str() {
                "paid" | "open" | "uncollectible" | "past_due" => Some(Billed::Yes),
                "draft" | "void" | "deleted" => Some(Billed::No),
                _ => None,
            },
            ChargeSource::StripePayments => match status.as_str() {
                "paid" | "succeeded" | "refunded" | "partially_refunded" => Some(Billed::Yes),
                "failed" | "canceled" | "cancelled" | "pending" | "requires_payment_method" | "blocked" => {
                    Some(Billed::No)
                }
                _ => None,
            },
        };
        billed.ok_or_else(|| {
            let known = match self.source {
                ChargeSource::StripeInvoices => "paid, open, uncollectible, draft or void",
                ChargeSource::StripePayments => "Paid, Refunded, Failed, Pending or Canceled",
            };
            row.problem(
                column,
                format!("not a status Stripe writes here ({known})"),
                "Export again, with the Status column as Stripe writes it.",
            )
        })
    }

    #[allow(clippy::result_large_err)]
    fn instant(&self, row: &SheetRow<'_>) -> Result<Instant, Problem> {
        let column = self.columns.date;
        let raw = row.raw(column);
        let text = raw.trim();
        if text.is_empty() {
            return Err(row.problem(column, "the date is blank".into(), DATE_HINT));
        }
        match parse_instant_in(text, self.date_order) {
            Some(at) if (0..7_258_118_400).contains(&at) => Ok(at),
            Some(_) => Err(row.problem(column, "the year lies outside 1970 to 2199".into(), DATE_HINT)),
            None => Err(row.problem(column, "not a date subtwin can read".into(), DATE_HINT)),
        }
    }

    #[allow(clippy::result_large_err)]
    fn amount(&self, row: &SheetRow<'_>, currency: &Currency) -> Result<Minor, Problem> {
        let columns = self.columns;
        let hint = "Amounts are in major units, such as 49.00.";
        let amount = parse_major_amount(&row.raw(columns.amount), currency.minor_digits)
            .map_err(|reason| row.problem(columns.amount, reason, hint))?;
        let Some(less_column) = columns.less else { return Ok(amount) };
        let less = match row.text(less_column) {
            None => Minor::ZERO,
            Some(text) => parse_major_amount(&text, currency.minor_digits)
                .map_err(|reason| row.problem(less_column, reason, hint))?,
        };
        let net = amount - less;
        if net.is_negative() {
            return Err(row.problem(
                less_column,
                "what is taken off is more than the amount on this row".into(),
                "Check the row: what is taken off cannot exceed the amount.",
            ));
        }
        Ok(net)
    }
}

/// An amount that comes sooner than this share of a billing interval after the previous one, for
/// an export that does not say which invoices renew, is a proration or a one-off charge.
const RENEWAL_GAP_SHARE: (i64, i64) = (4, 5);

/// Invoices up to this long before the paid start belong to it (Stripe invoices at the trial's end).
const PAID_START_SLACK_SECONDS: Instant = SECONDS_PER_DAY;

/// A charge as a subscription's refinement needs it: when, the line (to order charges at one
/// instant), the amount, and whether it renews (by its billing reason).
type ChargeOf = (Instant, u64, Minor, Option<bool>);

/// What refining did, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refinement {
    /// Subscriptions whose MRR now follows their charges.
    pub refined: u64,
    /// Paid subscriptions with no charge in their paid span: their MRR stays at list price.
    pub unrefined: u64,
    pub notes: Vec<String>,
}

/// Makes each subscription's MRR follow its recurring charges (see the module's documentation).
/// Charges naming a subscription the subscriptions export does not hold become problems of their
/// file.
pub fn refine(subscriptions: &mut [Subscription], imports: &mut [ChargesImport]) -> Refinement {
    let by_id: HashMap<&str, usize> = subscriptions.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
    let mut by_customer: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, subscription) in subscriptions.iter().enumerate() {
        by_customer.entry(subscription.customer.as_str()).or_default().push(index);
    }
    let invoiced: HashSet<&str> = imports
        .iter()
        .filter(|i| i.source == ChargeSource::StripeInvoices)
        .flat_map(|i| i.charges.iter().filter_map(|c| c.invoice.as_deref()))
        .collect();
    let mut per_subscription: Vec<Vec<ChargeOf>> = vec![Vec::new(); subscriptions.len()];
    let mut notes = Vec::new();
    let mut unknown_problems: Vec<Vec<Problem>> = vec![Vec::new(); imports.len()];
    let (mut through_invoice, mut unmatched, mut ambiguous) = (0u64, 0u64, 0u64);
    for (file_index, import) in imports.iter().enumerate() {
        for charge in &import.charges {
            let target = match (&charge.subscription, import.source) {
                (Some(id), _) => match by_id.get(id.as_str()) {
                    Some(&index) => Some(index),
                    None => {
                        unknown_problems[file_index].push(Problem {
                            file: import.file.clone(),
                            line: charge.line,
                            column: "Subscription".into(),
                            value: id.clone(),
                            reason: "no subscription with this id was imported".into(),
                            hint: "Give the subscriptions export that holds it (its row may have been set aside: see \
                                   its problems), or leave this invoice out."
                                .into(),
                        });
                        None
                    }
                },
                (None, ChargeSource::StripePayments) => {
                    if charge.invoice.as_deref().is_some_and(|invoice| invoiced.contains(invoice)) {
                        through_invoice += 1;
                        continue;
                    }
                    let live: Vec<usize> = charge
                        .customer
                        .as_deref()
                        .and_then(|customer| by_customer.get(customer))
                        .map(|candidates| {
                            candidates.iter().copied().filter(|&i| live_at(&subscriptions[i], charge.at)).collect()
                        })
                        .unwrap_or_default();
                    match live.as_slice() {
                        [one] => Some(*one),
                        [] => {
                            unmatched += 1;
                            None
                        }
                        _ => {
                            ambiguous += 1;
                            None
                        }
                    }
                }
                (None, ChargeSource::StripeInvoices) => None,
            };
            if let Some(index) = target {
                per_subscription[index].push((charge.at, charge.line, charge.amount, charge.renewal));
            }
        }
    }
    for (import, mut problems) in imports.iter_mut().zip(unknown_problems) {
        import.problems.append(&mut problems);
        import.problems.sort_by_key(|p| p.line);
    }
    let say = |notes: &mut Vec<String>, count: u64, text: &str| {
        if count > 0 {
            notes.push(format!("{count} payment{} {text}", if count == 1 { "" } else { "s" }));
        }
    };
    say(&mut notes, through_invoice, "already counted through their invoices");
    say(&mut notes, unmatched, "left out: their customer had no subscription live at the payment's date");
    say(&mut notes, ambiguous, "left out: their customer had several subscriptions live at the payment's date");

    let mut refinement = Refinement::default();
    let (mut prorations, mut late_first) = (0u64, 0u64);
    // A subscription paid from before the last charge any file holds should have been charged.
    let latest_charge = imports.iter().flat_map(|i| i.charges.iter().map(|c| c.at)).max();
    for (subscription, mut charges) in subscriptions.iter_mut().zip(per_subscription) {
        charges.sort_by_key(|&(at, line, _, _)| (at, line));
        let paid_start = subscription.trial_end.filter(|&t| t > subscription.start).unwrap_or(subscription.start);
        let end = crate::history::effective_end(subscription);
        let interval = interval_seconds(subscription);
        let mut steps: Vec<(Instant, Minor)> = Vec::new();
        let mut previous: Option<Instant> = None;
        for (at, _, amount, renewal) in charges {
            if at < paid_start - PAID_START_SLACK_SECONDS || end.is_some_and(|end| at >= end) {
                continue;
            }
            let too_soon = previous.is_some_and(|p| (at - p) * RENEWAL_GAP_SHARE.1 < interval * RENEWAL_GAP_SHARE.0);
            if renewal.is_none() && too_soon {
                prorations += 1;
                continue;
            }
            previous = Some(at);
            let Some(monthly) = subscription.interval.monthly(amount) else { continue };
            match steps.last_mut() {
                // Two renewal amounts at one instant (split invoices) add up.
                Some((last_at, last)) if *last_at == at => *last += monthly,
                _ => steps.push((at, monthly)),
            }
        }
        let Some(&(first_at, first)) = steps.first() else {
            let should_have_been_charged = latest_charge
                .is_some_and(|latest| paid_start + PAID_START_SLACK_SECONDS < latest)
                && !subscription.status.never_paid()
                && subscription.status != Status::Scheduled
                && end.is_none_or(|end| end > paid_start)
                && !subscription.mrr.is_zero();
            if should_have_been_charged {
                refinement.unrefined += 1;
            }
            continue;
        };
        if first_at > paid_start + interval + PAID_START_SLACK_SECONDS {
            late_first += 1;
        }
        refinement.refined += 1;
        subscription.mrr = first;
        let mut current = first;
        subscription.mrr_changes = steps[1..]
            .iter()
            .filter(|&&(_, mrr)| {
                let changed = mrr != current;
                current = mrr;
                changed
            })
            .map(|&(at, mrr)| (at.max(paid_start), mrr))
            .collect();
    }
    if refinement.refined > 0 {
        notes.push(format!(
            "MRR follows invoiced amounts (before tax, after discounts) for {} subscriptions",
            refinement.refined
        ));
    }
    if refinement.unrefined > 0 {
        notes.push(format!(
            "{} paid subscriptions have no recurring charge in their paid span: their MRR stays at list price",
            refinement.unrefined
        ));
    }
    if late_first > 0 {
        notes.push(format!(
            "{late_first} subscriptions' first charge in the file comes more than a billing interval after their paid \
             start: their earlier MRR is taken from that charge"
        ));
    }
    if prorations > 0 {
        notes.push(format!(
            "{prorations} charges came less than four fifths of a billing interval after the previous one: read as \
             prorations or one-off charges and left out"
        ));
    }
    refinement.notes = notes;
    refinement
}

/// Whether a subscription was live (signed up and not ended) at an instant, a day's slack before.
fn live_at(subscription: &Subscription, at: Instant) -> bool {
    let end = crate::history::effective_end(subscription);
    subscription.start - PAID_START_SLACK_SECONDS <= at && end.is_none_or(|end| at < end)
}

/// A billing interval's length, for spacing renewals: a month as 365.25 / 12 days.
fn interval_seconds(subscription: &Subscription) -> i64 {
    let count = i64::from(subscription.interval.count.max(1));
    let unit = match subscription.interval.unit {
        IntervalUnit::Day => SECONDS_PER_DAY,
        IntervalUnit::Week => 7 * SECONDS_PER_DAY,
        IntervalUnit::Month => 2_629_800,
        IntervalUnit::Year => 31_557_600,
    };
    unit * count
}
