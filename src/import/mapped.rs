//! Any other table, read through a mapping the person gives: which column is the subscription id,
//! the start, the end, the status, the price, the interval, the quantity, the trial end, the
//! segment and the currency. Paddle's and ChartMogul's files, a warehouse extract, a spreadsheet
//! kept by hand: all come in this way.
//!
//! A mapping names a column for each role, or gives a fixed value with `@` (`interval=@month`,
//! `currency=@usd`) when the table has no such column. The command takes it as
//! `--map start="Signup Date",end="Cancelled On",price=MRR,...` or as a JSON file (`--map-file`),
//! the same JSON the page saves.
//!
//! Without a status column a subscription is active from its start until its end; without a
//! customer column each subscription is its own customer (so plan switches and reactivations,
//! which need a customer, are not seen).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::infer::{instant, interval_from_name};
use super::record::{finish, Draft, Problems, MAX_QUANTITY};
use super::table::{ColumnSpec, Columns, Field, FormatSpec, Parsed, Row};
use super::{Format, IntervalSource, Problem, Status};

/// What a mapped column means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Id,
    Customer,
    Start,
    End,
    Status,
    Price,
    Interval,
    Quantity,
    TrialEnd,
    Segment,
    Currency,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Id,
        Role::Customer,
        Role::Start,
        Role::End,
        Role::Status,
        Role::Price,
        Role::Interval,
        Role::Quantity,
        Role::TrialEnd,
        Role::Segment,
        Role::Currency,
    ];

    /// Roles a mapping cannot do without.
    pub const REQUIRED: [Role; 5] = [Role::Id, Role::Start, Role::Price, Role::Interval, Role::Currency];

    pub fn name(self) -> &'static str {
        match self {
            Role::Id => "id",
            Role::Customer => "customer",
            Role::Start => "start",
            Role::End => "end",
            Role::Status => "status",
            Role::Price => "price",
            Role::Interval => "interval",
            Role::Quantity => "quantity",
            Role::TrialEnd => "trial_end",
            Role::Segment => "segment",
            Role::Currency => "currency",
        }
    }

    /// What the role means, for the page's mapping form and for messages.
    pub fn description(self) -> &'static str {
        match self {
            Role::Id => "the subscription's id",
            Role::Customer => "the customer's id (optional: finds plan switches and returning customers)",
            Role::Start => "when the subscription started",
            Role::End => "when it ended (blank while active)",
            Role::Status => "its status (optional: active, trialing, canceled, ...)",
            Role::Price => "the price per billing interval, in major units (19.00)",
            Role::Interval => "the billing interval (month, year, ...), or a fixed value such as @month",
            Role::Quantity => "seats or units (optional, 1 when blank)",
            Role::TrialEnd => "when its trial ended (optional)",
            Role::Segment => "the plan or product to segment by (optional)",
            Role::Currency => "the currency's ISO code, or a fixed value such as @usd",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        let name = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    fn field(self) -> Field {
        match self {
            Role::Id => Field::Id,
            Role::Customer => Field::Customer,
            Role::Start => Field::Start,
            Role::End => Field::EndedAt,
            Role::Status => Field::Status,
            Role::Price => Field::Amount,
            Role::Interval => Field::Interval,
            Role::Quantity => Field::Quantity,
            Role::TrialEnd => Field::TrialEnd,
            Role::Segment => Field::Product,
            Role::Currency => Field::Currency,
        }
    }
}

/// Where a role's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The column with this header (matched trimmed and case-insensitively).
    Column(String),
    /// The same value on every row.
    Fixed(String),
}

/// A person's mapping of a table's columns to roles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub roles: BTreeMap<Role, Source>,
}

impl ColumnMapping {
    /// Reads `start="Signup Date",end=Cancelled,price=MRR,interval=@month`: roles and columns
    /// separated by `=`, pairs by commas, names with commas or spaces in double quotes, fixed values
    /// after `@`.
    pub fn parse(spec: &str) -> Result<ColumnMapping, String> {
        let mut roles = BTreeMap::new();
        for pair in split_pairs(spec)? {
            let (role, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not ROLE=COLUMN; write such as start=\"Signup Date\"."))?;
            let role = Role::from_name(role).ok_or_else(|| {
                let known: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
                format!("`{}` is not a role; the roles are {}.", role.trim(), known.join(", "))
            })?;
            let value = unquote(value.trim());
            let source = match value.strip_prefix('@') {
                Some(fixed) => Source::Fixed(fixed.to_owned()),
                None => Source::Column(value),
            };
            if roles.insert(role, source).is_some() {
                return Err(format!("the role {} is mapped twice.", role.name()));
            }
        }
        ColumnMapping { roles }.checked()
    }

    /// Reads the JSON the page saves (`{"roles": {"start": {"column": "Signup Date"}, ...}}`).
    pub fn from_json(text: &str) -> Result<ColumnMapping, String> {
        let mapping: ColumnMapping =
            serde_json::from_str(text).map_err(|e| format!("the mapping file is not a subtwin mapping ({e})."))?;
        mapping.checked()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn checked(self) -> Result<ColumnMapping, String> {
        let missing: Vec<&str> =
            Role::REQUIRED.iter().filter(|r| !self.roles.contains_key(r)).map(|r| r.name()).collect();
        if missing.is_empty() {
            Ok(self)
        } else {
            Err(format!(
                "the mapping lacks the role(s) {}; give a column for each, or a fixed value such as interval=@month.",
                missing.join(", ")
            ))
        }
    }

    /// Finds the mapped columns in a header; the error names the columns the header lacks.
    pub(crate) fn columns(&self, header: &[String]) -> Result<Columns, String> {
        let position = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name.trim()));
        let mut index = HashMap::new();
        let mut fixed = HashMap::new();
        let mut absent = Vec::new();
        for (role, source) in &self.roles {
            match source {
                Source::Column(name) => match position(name) {
                    Some(at) => {
                        index.insert(role.field(), at);
                    }
                    None => absent.push(format!("`{name}` ({})", role.name())),
                },
                Source::Fixed(value) => {
                    fixed.insert(role.field(), value.clone());
                }
            }
        }
        if !absent.is_empty() {
            let found: Vec<&str> = header.iter().map(|h| h.trim()).take(40).collect();
            return Err(format!(
                "the mapping names column(s) the file does not have: {}. The file's header is: {}.",
                absent.join(", "),
                found.join(", ")
            ));
        }
        Ok(Columns::from_parts(index, header, fixed))
    }
}

/// A first guess at a mapping from a header's names, for the page's mapping form to start from: the
/// person confirms or corrects it before anything is read. Each role takes the first unused column
/// whose name contains one of its words; roles with no such column stay unmapped.
pub fn suggest(header: &[String]) -> ColumnMapping {
    const WORDS: [(Role, &[&str]); 11] = [
        (Role::TrialEnd, &["trial end", "trial_end", "trialend", "trial ends"]),
        (Role::Id, &["subscription id", "subscription_id", "subscription external id", "sub id", "id"]),
        (Role::Customer, &["customer", "user", "account", "email", "client"]),
        (Role::Start, &["start", "signup", "sign up", "created", "activated", "began", "joined"]),
        (Role::End, &["ended", "end", "cancel", "churn", "expire", "terminated"]),
        (Role::Status, &["status", "state"]),
        (Role::Price, &["mrr", "price", "amount", "monthly", "fee", "charge"]),
        (Role::Interval, &["interval", "billing period", "frequency", "cycle"]),
        (Role::Quantity, &["quantity", "seats", "units", "licenses"]),
        (Role::Segment, &["plan", "product", "tier", "segment", "package"]),
        (Role::Currency, &["currency"]),
    ];
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase().replace('_', " ")).collect();
    let mut taken = vec![false; names.len()];
    let mut roles = BTreeMap::new();
    for (role, words) in WORDS {
        let found = words.iter().find_map(|word| {
            let word = word.replace('_', " ");
            (0..names.len())
                .find(|&i| !taken[i] && (names[i] == word || (word.len() > 2 && names[i].contains(word.as_str()))))
        });
        if let Some(i) = found {
            taken[i] = true;
            roles.insert(role, Source::Column(header[i].trim().to_owned()));
        }
    }
    ColumnMapping { roles }
}

/// Splits at commas outside double quotes.
fn split_pairs(spec: &str) -> Result<Vec<String>, String> {
    let mut pairs = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in spec.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => pairs.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if quoted {
        return Err("a quote in the mapping is not closed.".into());
    }
    pairs.push(current);
    Ok(pairs.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect())
}

fn unquote(text: &str) -> String {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text).to_owned()
}

pub(crate) static SPEC: FormatSpec = FormatSpec {
    format: Format::Mapped,
    columns: COLUMNS,
    required: &[],
    distinctive: &[],
    how_to_export: "any table with one row per subscription, mapped column by column",
    parse_row,
};

/// The roles' names, for messages about mapped columns.
const COLUMNS: &[ColumnSpec] = &[
    ColumnSpec { field: Field::Id, name: "id", aliases: &[] },
    ColumnSpec { field: Field::Customer, name: "customer", aliases: &[] },
    ColumnSpec { field: Field::Start, name: "start", aliases: &[] },
    ColumnSpec { field: Field::EndedAt, name: "end", aliases: &[] },
    ColumnSpec { field: Field::Status, name: "status", aliases: &[] },
    ColumnSpec { field: Field::Amount, name: "price", aliases: &[] },
    ColumnSpec { field: Field::Interval, name: "interval", aliases: &[] },
    ColumnSpec { field: Field::Quantity, name: "quantity", aliases: &[] },
    ColumnSpec { field: Field::TrialEnd, name: "trial_end", aliases: &[] },
    ColumnSpec { field: Field::Product, name: "segment", aliases: &[] },
    ColumnSpec { field: Field::Currency, name: "currency", aliases: &[] },
];

const DATE_HINT: &str = "Dates are read as YYYY-MM-DD (with or without a time, UTC) or as 31/12/2025 or \
12/31/2025 in the file's order.";

#[allow(clippy::result_large_err)]
fn parse_row(row: &Row) -> Result<Parsed, Vec<Problem>> {
    let mut problems = Problems::default();
    let start = problems.keep(instant(row, Field::Start, DATE_HINT)).flatten();
    if start.is_none() && row.raw(Field::Start).trim().is_empty() {
        problems.push(row.problem(
            Field::Start,
            "the start date is blank".into(),
            "Every subscription needs its start.",
        ));
    }
    let ended_at = problems.keep(instant(row, Field::EndedAt, DATE_HINT)).flatten();
    let trial_end = problems.keep(instant(row, Field::TrialEnd, DATE_HINT)).flatten();
    let status = match row.text(Field::Status) {
        None => Some(if ended_at.is_some() { Status::Canceled } else { Status::Active }),
        Some(text) => problems.keep(status(row, &text)),
    };
    let interval = match row.text(Field::Interval) {
        Some(text) => match interval_from_name(&text) {
            Some(interval) => Some(interval),
            None => {
                problems.push(row.problem(
                    Field::Interval,
                    "not a billing interval".into(),
                    "Expected month, year, week, day, quarter, or such as `3 months`.",
                ));
                None
            }
        },
        None => {
            problems.push(row.problem(
                Field::Interval,
                "the billing interval is blank".into(),
                "Map the interval to a column, or give a fixed one such as interval=@month.",
            ));
            None
        }
    };
    let currency = problems.keep(
        row.currency("Map the currency to a column of codes such as usd, or give a fixed one such as currency=@usd."),
    );
    let price_per_interval = currency.as_ref().and_then(|c| {
        problems.keep(row.major_amount(Field::Amount, c, "The price is per billing interval, such as 19.00."))
    });
    let quantity = problems.keep(row.count(
        Field::Quantity,
        1,
        MAX_QUANTITY,
        "Quantity is the number of seats or units, such as 1.",
    ));
    let id = row.text(Field::Id);
    let draft = Draft {
        customer: row.text(Field::Customer).or_else(|| id.clone()),
        product: row.text(Field::Product).or_else(|| Some("All".to_owned())),
        id,
        status,
        start,
        trial_start: trial_end.and(start),
        trial_end,
        ended_at,
        interval,
        currency,
        price_per_interval,
        quantity,
        ..Draft::default()
    };
    let mut parsed = finish(row, draft, problems)?;
    parsed.subscription.interval_source = IntervalSource::Stated;
    Ok(parsed)
}

/// Status words of the common billing systems and of hand-kept tables.
#[allow(clippy::result_large_err)]
fn status(row: &Row, text: &str) -> Result<Status, Problem> {
    let word = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    Ok(match word.as_str() {
        "active" | "live" | "paying" | "paid" | "current" | "renewing" => Status::Active,
        "past_due" | "pastdue" | "unpaid" | "dunning" => Status::PastDue,
        "trial" | "trialing" | "trialling" | "in_trial" => Status::Trialing,
        "canceled" | "cancelled" | "churned" | "ended" | "expired" | "inactive" | "deleted" => Status::Canceled,
        "paused" => Status::Paused,
        "future" | "scheduled" => Status::Scheduled,
        "incomplete" | "incomplete_expired" | "failed" => Status::IncompleteExpired,
        _ => {
            return Err(row.problem(
                Field::Status,
                "not a status subtwin knows".into(),
                "Expected a word such as active, trialing, past_due, canceled, paused or future; or leave the status \
                 unmapped to read ends alone.",
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn suggestions_start_from_the_header_names() {
        let paddle = suggest(&header(&[
            "subscription_id",
            "plan_id",
            "user_id",
            "user_email",
            "state",
            "signup_date",
            "next_payment",
        ]));
        let column = |role| match paddle.roles.get(&role) {
            Some(Source::Column(name)) => Some(name.as_str()),
            _ => None,
        };
        assert_eq!(column(Role::Id), Some("subscription_id"));
        assert_eq!(column(Role::Customer), Some("user_id"));
        assert_eq!(column(Role::Status), Some("state"));
        assert_eq!(column(Role::Start), Some("signup_date"));
        assert_eq!(column(Role::Segment), Some("plan_id"));
        assert_eq!(column(Role::Price), None, "no price column: the person must say");
    }

    #[test]
    fn mappings_round_trip_through_the_saved_json() {
        let mapping = ColumnMapping::parse("id=ID,start=\"Signup, Date\",price=MRR,interval=@month,currency=@usd")
            .expect("valid");
        assert_eq!(mapping.roles.get(&Role::Start), Some(&Source::Column("Signup, Date".into())));
        assert_eq!(mapping.roles.get(&Role::Interval), Some(&Source::Fixed("month".into())));
        assert_eq!(ColumnMapping::from_json(&mapping.to_json()), Ok(mapping));
    }
}
