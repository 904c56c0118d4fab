//! The built-in demo company: a seeded generator of a realistic but entirely fictitious SaaS
//! business, written out as a Stripe Dashboard subscriptions export (CSV), or as the same company's
//! Chargebee, Recurly or Baremetrics export ([`write_csv`]).
//!
//! It serves three purposes. It is the demo file shipped with the app (`www/demo-stripe.csv`,
//! produced with [`DemoConfig::default`]), it is the fixture that tests run the importer and the
//! models on, and it is the workload for benchmarks at any size, up to a million rows and more.
//! Rows are streamed to the writer as they are generated, so memory stays small whatever the size:
//! only the follow-on subscriptions of customers who have already signed up (plan switches and
//! reactivations dated later than the current signup) are held until their turn comes.
//!
//! The output is a pure function of the [`DemoConfig`]: the same configuration gives the same bytes
//! on every platform. All randomness comes from one `ChaCha8Rng` seeded with `seed_from_u64`, and
//! every sampler (uniform, exponential, normal, gamma, beta, geometric) is written here on `libm`,
//! whose functions are the same software implementations everywhere. Nothing reads the clock.
//!
//! The company, in brief (all times relative to `as_of`):
//! - Sales start 48 months before `as_of`; new customers arrive at a log-linearly growing rate
//!   (about 3% a month) with persistent monthly noise, mild seasonality and quieter weekends.
//! - Products: `Starter` ($19 a month or $190 a year), `Pro` ($49 / $490) and `Team` (per seat,
//!   $15 / $150 per seat, 2 to 50 seats, mostly few). About a quarter of signups are annual.
//! - Pro's price rises 18 months before `as_of`: new Pro subscriptions from then on pay $59 / $590
//!   under new price ids, while existing ones keep $49 / $490 (grandfathered).
//! - About 40% of new Pro and Team signups start with a 14-day trial, of which about 57% convert.
//! - Each paid subscription draws its own churn probability per renewal, theta, from a Beta
//!   distribution per product and interval, and then renews until its first failed Bernoulli(theta)
//!   draw: a shifted-beta-geometric population, so older cohorts retain better. Annual plans can
//!   only churn at an anniversary. A churned subscription mostly ends exactly at the end of a paid
//!   period (`Cancel At Period End` true), some are canceled immediately mid-period, and some end
//!   after failed renewal payments (`past_due`, sometimes `unpaid`, then canceled with reason
//!   `payment_failed`).
//! - A few percent of Starter subscribers upgrade to Pro, and a few Pro monthly ones move to Team:
//!   the old subscription is canceled (blank reason) at the switch and the same customer's new one
//!   starts at that instant or up to two days later. Some churned customers come back months later
//!   with a new subscription under the same customer id.
//! - A few signups never pay their first invoice and end `incomplete_expired` 23 hours later.
//!
//! The `Amount` column is the unit price per billing interval in dollars (for `Team`, per seat;
//! multiply by `Quantity`). Price ids read `price_{product}_{monthly|yearly}_{year}`, the year being
//! that of the first full month of sales (2022 by default) or, for the risen Pro prices, of the rise
//! (2024 by default). Current Period Start/End of a live subscription bracket `as_of`; of an
//! ended one, the period in which it ended (a trial's period is the trial). No date in the file lies
//! after `as_of` except Current Period End and, for `trialing` rows, Trial End. Rows are written in
//! order of `Created`, ties in generation order.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};

use crate::sim::sample::{standard_normal as normal, uniform, uniform_open};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::OffsetDateTime;

/// What to generate: how many subscription rows, from which seed, seen at which instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoConfig {
    /// The exact number of data rows (subscriptions) written.
    pub subscriptions: usize,
    /// The seed of the one random stream the whole company is drawn from.
    pub seed: u64,
    /// The instant the export is taken at. The history covers the 48 months before it; it is
    /// truncated to the minute (and taken in UTC).
    pub as_of: OffsetDateTime,
}

/// The number of rows in the shipped demo file: about 1.5 MB of CSV (1,493,634 bytes with the
/// default seed and as-of).
const DEFAULT_SUBSCRIPTIONS: usize = 5_500;

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            subscriptions: DEFAULT_SUBSCRIPTIONS,
            seed: 1,
            as_of: time::macros::datetime!(2025-12-31 18:04 UTC),
        }
    }
}

/// The export's header line, in Stripe's column order.
const HEADER: &str = "id,Customer ID,Customer Name,Customer Email,Status,Cancellation Reason,\
Cancel At Period End,Created (UTC),Start Date (UTC),Current Period Start (UTC),\
Current Period End (UTC),Trial Start (UTC),Trial End (UTC),Canceled At (UTC),Ended At (UTC),\
Plan,Product,Product ID,Quantity,Interval,Amount,Currency,signup_channel (metadata)\n";

/// Chargebee's `Subscriptions.csv` (Export Data): dotted names, a custom field `cf_`.
const CHARGEBEE_HEADER: &str = "subscriptions.id,subscriptions.customer_id,subscriptions.plan_id,\
subscriptions.plan_quantity,subscriptions.plan_unit_price,subscriptions.currency_code,subscriptions.status,\
subscriptions.start_date,subscriptions.trial_start,subscriptions.trial_end,subscriptions.current_term_start,\
subscriptions.current_term_end,subscriptions.created_at,subscriptions.started_at,subscriptions.activated_at,\
subscriptions.cancelled_at,subscriptions.cancel_reason,customers.id,customers.email,subscriptions.cf_signup_channel\n";

/// Recurly's subscriptions export, version 6, then one custom field.
const RECURLY_HEADER: &str = "uuid,account_code,email,plan_code,state,auto_renew,currency,quantity,unit_amount,\
add_on_amount,total_recurring_amount,current_period_started_at,current_period_ends_at,trial_started_at,\
trial_ends_at,total_billing_cycles,remaining_billing_cycles,activated_at,modified_at,canceled_at,expires_at,\
maintenance_url,net_terms,po_number,collection_method,plan_name,started_with_gift,no_billing_info_reason,\
converted_at,paused_at,remaining_pause_cycles,current_term_started_at,current_term_ends_at,\
renewal_billing_cycles,shipping_amount_in_cents,shipping_method_code,pricing_model,current_ramp_id,\
tax_inclusive,subscription_api_id,gateway_code,custom_field_signup_channel\n";

/// The Baremetrics CSV import template.
const BAREMETRICS_HEADER: &str = "plan_oid,plan_name,plan_currency,plan_amount,plan_interval,plan_interval_count,\
customer_oid,customer_name,customer_email,subscription_oid,subscription_started_at,subscription_canceled_at,\
subscription_quantity\n";

// ---------------------------------------------------------------------------------------------
// The company's parameters.

const MINUTES_PER_DAY: i64 = 1440;
/// An average month (365.25 / 12 days), for rates and delays expressed in months.
const MINUTES_PER_MONTH: f64 = 43_830.0;
const HISTORY_MONTHS: i64 = 48;
const PRICE_RISE_MONTHS_BEFORE: i64 = 18;

/// Log growth of the acquisition rate per month.
const GROWTH_PER_MONTH: f64 = 0.03;
/// The acquisition rate's log noise is AR(1) by month: this share of last month's level
/// carries over, plus a fresh normal draw with this standard deviation.
const NOISE_PERSISTENCE: f64 = 0.5;
const MONTHLY_NOISE_SD: f64 = 0.05;
/// Multipliers of the acquisition rate by calendar month, January first.
const SEASON: [f64; 12] = [1.10, 1.05, 1.06, 1.00, 0.98, 0.95, 0.90, 0.88, 1.04, 1.07, 1.02, 0.86];
/// Multipliers of the acquisition rate by weekday, Sunday first.
const WEEKDAY: [f64; 7] = [0.50, 1.08, 1.06, 1.04, 1.02, 0.96, 0.55];

/// New signups by product (Starter, Pro, Team).
const PRODUCT_MIX: [f64; 3] = [0.45, 0.40, 0.15];
/// Share of new signups on the annual interval, by product.
const ANNUAL_SHARE: [f64; 3] = [0.22, 0.27, 0.32];
/// Signup channels and their shares.
const CHANNELS: [&str; 4] = ["organic", "ads", "referral", "partner"];
const CHANNEL_MIX: [f64; 4] = [0.42, 0.28, 0.18, 0.12];

/// Beta(a, b) of theta, the churn probability per renewal, by product then interval
/// (month, year). Monthly means: 6%, 3.5%, 2%; annual means: 30%, 25%, 20%.
const THETA_BETA: [[(f64, f64); 2]; 3] =
    [[(0.60, 9.40), (1.80, 4.20)], [(0.63, 17.37), (1.50, 4.50)], [(0.60, 29.40), (1.40, 5.60)]];

const TRIAL_DAYS: i64 = 14;
const P_TRIAL: f64 = 0.40;
const P_TRIAL_CONVERTS: f64 = 0.57;
const P_INCOMPLETE: f64 = 0.015;
const INCOMPLETE_MINUTES: i64 = 23 * 60;

/// How a churning paid subscription leaves: at period end, immediately, or by failed payments.
const P_EXIT_AT_PERIOD_END: f64 = 0.62;
const P_EXIT_IMMEDIATE: f64 = 0.10;
/// Of the failed-payment exits, the share that sits `unpaid` before being canceled.
const P_UNPAID: f64 = 0.25;
/// Of the voluntary cancellations, the share with a blank reason.
const P_BLANK_REASON: f64 = 0.15;
/// Of live subscriptions within 4 days of a renewal, the share whose renewal is being retried.
const P_TRANSIENT_PAST_DUE: f64 = 0.12;

/// Mean waiting time, in months of paid life, before a Starter subscriber upgrades to Pro, and
/// before a monthly Pro subscriber moves to Team.
const UPGRADE_MEAN_MONTHS_STARTER: f64 = 180.0;
const UPGRADE_MEAN_MONTHS_PRO: f64 = 450.0;
/// Share of switches whose new subscription starts at the very instant of the old one's end;
/// the rest start up to two days later.
const P_SWITCH_SAME_INSTANT: f64 = 0.6;

/// Chance that a churned paid (or lost-trial) customer comes back, and the delay: one month plus
/// an exponential wait with this mean.
const P_REACTIVATE_PAID: f64 = 0.12;
const P_REACTIVATE_TRIAL: f64 = 0.04;
const REACTIVATE_MEAN_MONTHS: f64 = 6.0;

const FIRST_NAMES: [&str; 16] = [
    "Avery", "Jordan", "Riley", "Casey", "Morgan", "Quinn", "Taylor", "Jamie", "Rowan", "Sage", "Parker", "Reese",
    "Skyler", "Emerson", "Finley", "Harper",
];
/// Company-style names: they contain commas, so the writer's quoting is exercised.
const COMPANY_NAMES: [&str; 4] =
    ["Example Labs, Inc.", "Example Works, LLC", "Example Studio, Ltd.", "Example Partners, LLP"];
const P_COMPANY_NAME: f64 = 0.05;
/// A rare name with a quoted nickname: quotes inside a quoted field are doubled.
const P_NICKNAME: f64 = 0.005;
const NAME_NICKNAME: u8 = 255;
const NAME_COMPANY: u8 = 128;

const ID_ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// ---------------------------------------------------------------------------------------------
// The public entry point.

/// The billing systems the demo company can be exported from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoFormat {
    /// Stripe's subscriptions export (the shipped demo file).
    Stripe,
    /// Chargebee's `Subscriptions.csv` (Export Data).
    Chargebee,
    /// Recurly's subscriptions export, version 6.
    Recurly,
    /// The Baremetrics CSV import template.
    Baremetrics,
}

impl DemoFormat {
    pub const ALL: [DemoFormat; 4] =
        [DemoFormat::Stripe, DemoFormat::Chargebee, DemoFormat::Recurly, DemoFormat::Baremetrics];

    pub fn name(self) -> &'static str {
        match self {
            DemoFormat::Stripe => "stripe",
            DemoFormat::Chargebee => "chargebee",
            DemoFormat::Recurly => "recurly",
            DemoFormat::Baremetrics => "baremetrics",
        }
    }

    /// The format a name (`stripe`, `chargebee`, `recurly`, `baremetrics`) stands for, in any case.
    pub fn from_name(name: &str) -> Option<DemoFormat> {
        DemoFormat::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// Writes the demo company's Stripe subscriptions export to `out`: the header, then exactly
/// `config.subscriptions` rows, in order of creation. The output is buffered internally and
/// flushed before returning; the only errors are the writer's.
pub fn write_stripe_csv<W: Write>(out: W, config: &DemoConfig) -> io::Result<()> {
    write_csv(out, config, DemoFormat::Stripe)
}

/// Writes the same company, the same subscriptions with the same dates and prices, as `format`'s
/// export, in that vendor's shape: its header, its status words, its date format (Chargebee
/// `YYYY-MM-DD HH:MM:SS`, Recurly with a ` UTC` zone, Baremetrics dates alone) and its units
/// (Baremetrics cents). Rows a vendor would not hold are left out: Chargebee creates no
/// subscription for a first payment that fails (Stripe's `incomplete_expired`), and the Baremetrics
/// template holds paying subscriptions only (no trials: a converted trial starts at its end, a lost
/// or running one is not there). Every other vendor's row is one of Stripe's, in the same order.
pub fn write_csv<W: Write>(out: W, config: &DemoConfig, format: DemoFormat) -> io::Result<()> {
    let (header, push_row): (&str, RowWriter) = match format {
        DemoFormat::Stripe => (HEADER, push_stripe_row),
        DemoFormat::Chargebee => (CHARGEBEE_HEADER, push_chargebee_row),
        DemoFormat::Recurly => (RECURLY_HEADER, push_recurly_row),
        DemoFormat::Baremetrics => (BAREMETRICS_HEADER, push_baremetrics_row),
    };
    let mut out = BufWriter::with_capacity(1 << 16, out);
    out.write_all(header.as_bytes())?;
    let write_row = |out: &mut BufWriter<W>, buf: &mut Vec<u8>, ctx: &Company, row: &Row| {
        buf.clear();
        push_row(buf, ctx, row);
        out.write_all(buf)
    };

    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let ctx = Company::new(config.as_of, &mut rng);

    // Rows not yet accounted for: each signup takes one, and so does each follow-on
    // subscription (switch or reactivation) when it is decided.
    let mut budget = config.subscriptions;
    // Signups are the order statistics of `budget` draws from the acquisition curve, generated
    // in increasing order: `s` is the curve's cumulative share reached so far.
    let mut s = 0.0_f64;
    let mut pending: BinaryHeap<Pending> = BinaryHeap::new();
    let mut seq: u64 = 0;
    let mut customers: u64 = 0;
    let mut buf: Vec<u8> = Vec::with_capacity(512);

    while budget > 0 {
        let u = uniform_open(&mut rng);
        s += (1.0 - s) * -libm::expm1(libm::log(u) / budget as f64);
        let created = ctx.time_at(s);
        budget -= 1;
        customers += 1;
        let customer = Customer::draw(&mut rng, customers);
        let plan = Plan::draw_new(&mut rng);

        while let Some(top) = pending.peek() {
            if top.0.created > created {
                break;
            }
            if let Some(Pending(row)) = pending.pop() {
                write_row(&mut out, &mut buf, &ctx, &row)?;
            }
        }

        let mut spec = Some(Spec { customer, created, plan, fresh: true });
        let mut first = true;
        while let Some(sp) = spec.take() {
            let (mut row, next) = simulate(&mut rng, &ctx, &sp, &mut budget);
            if first {
                write_row(&mut out, &mut buf, &ctx, &row)?;
                first = false;
            } else {
                row.seq = seq;
                seq += 1;
                pending.push(Pending(row));
            }
            spec = next;
        }
    }
    while let Some(Pending(row)) = pending.pop() {
        write_row(&mut out, &mut buf, &ctx, &row)?;
    }
    out.flush()
}

// ---------------------------------------------------------------------------------------------
// The company's timeline.

/// Fixed facts of one generated company: its dates and its acquisition curve.
struct Company {
    /// `as_of`, in minutes since the Unix epoch.
    as_of: i64,
    /// When the Pro price rise takes effect.
    rise: i64,
    /// Year labels of the launch prices and of the risen Pro prices, as used in price ids.
    launch_label: i64,
    rise_label: i64,
    /// The acquisition curve: cumulative share of signups (0 to 1) at each knot time, linear
    /// in between. Knots are UTC midnights, plus the history's start and `as_of`.
    knot_times: Vec<i64>,
    knot_shares: Vec<f64>,
}

impl Company {
    fn new(as_of: OffsetDateTime, rng: &mut ChaCha8Rng) -> Self {
        let as_of = as_of.unix_timestamp().div_euclid(60);
        let anchor = Anchor::new(as_of);
        let start = anchor.boundary(-HISTORY_MONTHS, 1);
        let rise = anchor.boundary(-PRICE_RISE_MONTHS_BEFORE, 1);
        // Price ids carry the year of the first full month of sales and of the rise.
        let launch_label = civil_from_days(anchor.boundary(1 - HISTORY_MONTHS, 1).div_euclid(MINUTES_PER_DAY)).0;
        let rise_label = civil_from_days(rise.div_euclid(MINUTES_PER_DAY)).0;

        let start_month = month_index(start);
        let mut noise = Vec::with_capacity(HISTORY_MONTHS as usize + 1);
        let mut level = 0.0;
        for _ in 0..=HISTORY_MONTHS {
            level = NOISE_PERSISTENCE * level + MONTHLY_NOISE_SD * normal(rng);
            noise.push(level);
        }

        let mut knot_times = vec![start];
        let mut knot_shares = vec![0.0];
        let mut total = 0.0;
        let mut t = start;
        while t < as_of {
            let day = t.div_euclid(MINUTES_PER_DAY);
            let next = ((day + 1) * MINUTES_PER_DAY).min(as_of);
            let (_, month, _) = civil_from_days(day);
            let m = (month_index(t) - start_month).clamp(0, HISTORY_MONTHS) as usize;
            let trend = GROWTH_PER_MONTH * (t - start) as f64 / MINUTES_PER_MONTH;
            let weekday = (day + 4).rem_euclid(7) as usize;
            let rate = libm::exp(trend + noise[m]) * SEASON[month as usize - 1] * WEEKDAY[weekday];
            total += rate * (next - t) as f64;
            knot_times.push(next);
            knot_shares.push(total);
            t = next;
        }
        if total > 0.0 {
            for share in &mut knot_shares {
                *share /= total;
            }
        }
        Company { as_of, rise, launch_label, rise_label, knot_times, knot_shares }
    }

    /// The instant at which the acquisition curve's cumulative share reaches `s` (0 to 1).
    fn time_at(&self, s: f64) -> i64 {
        let i = self.knot_shares.partition_point(|&c| c <= s);
        if i == 0 {
            return self.knot_times[0];
        }
        if i >= self.knot_shares.len() {
            return self.as_of;
        }
        let (c0, c1) = (self.knot_shares[i - 1], self.knot_shares[i]);
        let (t0, t1) = (self.knot_times[i - 1], self.knot_times[i]);
        let frac = if c1 > c0 { (s - c0) / (c1 - c0) } else { 0.0 };
        let t = t0 + libm::floor(frac * (t1 - t0) as f64) as i64;
        t.clamp(t0, t1).min(self.as_of)
    }
}

// ---------------------------------------------------------------------------------------------
// Customers, plans and rows.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Product {
    Starter,
    Pro,
    Team,
}

impl Product {
    fn index(self) -> usize {
        match self {
            Product::Starter => 0,
            Product::Pro => 1,
            Product::Team => 2,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Product::Starter => "Starter",
            Product::Pro => "Pro",
            Product::Team => "Team",
        }
    }
    fn slug(self) -> &'static str {
        match self {
            Product::Starter => "starter",
            Product::Pro => "pro",
            Product::Team => "team",
        }
    }
    fn id(self) -> &'static str {
        match self {
            Product::Starter => "prod_Qb7sTrtr2KdL0e",
            Product::Pro => "prod_Qb7sPr0mX4vN9a",
            Product::Team => "prod_Qb7sT3amW8hJ2c",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Interval {
    Month,
    Year,
}

impl Interval {
    fn months(self) -> i64 {
        match self {
            Interval::Month => 1,
            Interval::Year => 12,
        }
    }
    fn index(self) -> usize {
        match self {
            Interval::Month => 0,
            Interval::Year => 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Active,
    Trialing,
    PastDue,
    Unpaid,
    Canceled,
    IncompleteExpired,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Trialing => "trialing",
            Status::PastDue => "past_due",
            Status::Unpaid => "unpaid",
            Status::Canceled => "canceled",
            Status::IncompleteExpired => "incomplete_expired",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    Blank,
    Requested,
    PaymentFailed,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Blank => "",
            Reason::Requested => "cancellation_requested",
            Reason::PaymentFailed => "payment_failed",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Customer {
    /// 1-based signup order; shown in the name and the email.
    number: u64,
    id: [u8; 14],
    /// A first-name index, `NAME_COMPANY + i` for a company name, or `NAME_NICKNAME`.
    name: u8,
    channel: u8,
}

impl Customer {
    fn draw(rng: &mut ChaCha8Rng, number: u64) -> Self {
        let id = random_id(rng);
        let u = uniform(rng);
        let name = if u < P_NICKNAME {
            NAME_NICKNAME
        } else if u < P_NICKNAME + P_COMPANY_NAME {
            NAME_COMPANY + below(rng, COMPANY_NAMES.len()) as u8
        } else {
            below(rng, FIRST_NAMES.len()) as u8
        };
        let channel = pick(rng, &CHANNEL_MIX) as u8;
        Customer { number, id, name, channel }
    }
}

#[derive(Clone, Copy, Debug)]
struct Plan {
    product: Product,
    interval: Interval,
    quantity: u32,
}

impl Plan {
    fn draw_new(rng: &mut ChaCha8Rng) -> Self {
        let product = match pick(rng, &PRODUCT_MIX) {
            0 => Product::Starter,
            1 => Product::Pro,
            _ => Product::Team,
        };
        let interval = if uniform(rng) < ANNUAL_SHARE[product.index()] { Interval::Year } else { Interval::Month };
        Plan::with(rng, product, interval)
    }

    fn with(rng: &mut ChaCha8Rng, product: Product, interval: Interval) -> Self {
        let quantity = if product == Product::Team { seats(rng) } else { 1 };
        Plan { product, interval, quantity }
    }
}

/// A subscription to simulate: who, when, on what, and whether it is a first signup (only
/// first signups can have a trial or fail their first payment).
struct Spec {
    customer: Customer,
    created: i64,
    plan: Plan,
    fresh: bool,
}

/// One output row, every date in minutes since the Unix epoch (UTC).
#[derive(Clone, Debug)]
struct Row {
    created: i64,
    /// Tie-break among held rows with the same `created`: generation order.
    seq: u64,
    id: [u8; 14],
    customer: Customer,
    plan: Plan,
    /// Pro at the risen price.
    risen: bool,
    status: Status,
    reason: Reason,
    cancel_at_period_end: bool,
    period_start: i64,
    period_end: i64,
    trial_end: Option<i64>,
    canceled_at: Option<i64>,
    ended_at: Option<i64>,
}

impl Row {
    fn amount_cents(&self) -> u64 {
        match (self.plan.product, self.plan.interval, self.risen) {
            (Product::Starter, Interval::Month, _) => 1900,
            (Product::Starter, Interval::Year, _) => 19_000,
            (Product::Pro, Interval::Month, false) => 4900,
            (Product::Pro, Interval::Year, false) => 49_000,
            (Product::Pro, Interval::Month, true) => 5900,
            (Product::Pro, Interval::Year, true) => 59_000,
            (Product::Team, Interval::Month, _) => 1500,
            (Product::Team, Interval::Year, _) => 15_000,
        }
    }
}

/// A row held until its creation time comes; the heap pops the earliest first.
struct Pending(Row);

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> Ordering {
        (other.0.created, other.0.seq).cmp(&(self.0.created, self.0.seq))
    }
}

// ---------------------------------------------------------------------------------------------
// One subscription's life.

/// Simulates one subscription up to `as_of` and returns its row, plus the same customer's next
/// subscription (a switch or a reactivation) if there is one and `budget` has room for it.
fn simulate(rng: &mut ChaCha8Rng, ctx: &Company, spec: &Spec, budget: &mut usize) -> (Row, Option<Spec>) {
    let as_of = ctx.as_of;
    let c = spec.created;
    let plan = spec.plan;
    let step = plan.interval.months();
    let mut row = Row {
        created: c,
        seq: 0,
        id: random_id(rng),
        customer: spec.customer,
        plan,
        risen: plan.product == Product::Pro && c >= ctx.rise,
        status: Status::Active,
        reason: Reason::Blank,
        cancel_at_period_end: false,
        period_start: c,
        period_end: c,
        trial_end: None,
        canceled_at: None,
        ended_at: None,
    };

    // A first invoice that is never paid.
    if spec.fresh && uniform(rng) < P_INCOMPLETE && c + INCOMPLETE_MINUTES <= as_of {
        row.status = Status::IncompleteExpired;
        row.period_end = Anchor::new(c).boundary(1, step);
        row.canceled_at = Some(c + INCOMPLETE_MINUTES);
        row.ended_at = Some(c + INCOMPLETE_MINUTES);
        return (row, None);
    }

    // The trial, if any.
    let mut paid_start = c;
    if spec.fresh && plan.product != Product::Starter && uniform(rng) < P_TRIAL {
        let trial_end = c + TRIAL_DAYS * MINUTES_PER_DAY;
        row.trial_end = Some(trial_end);
        row.period_end = trial_end;
        if uniform(rng) >= P_TRIAL_CONVERTS {
            return lost_trial(rng, ctx, row, budget);
        }
        if trial_end > as_of {
            row.status = Status::Trialing;
            return (row, None);
        }
        paid_start = trial_end;
    }

    // Paid life: renewals until the first churn draw.
    let anchor = Anchor::new(paid_start);
    let (a, b) = THETA_BETA[plan.product.index()][plan.interval.index()];
    let theta = beta(rng, a, b);
    let horizon_periods = (HISTORY_MONTHS + 24) / step + 2;
    let paid_periods = geometric(rng, theta, horizon_periods);
    let last_start = anchor.boundary(paid_periods - 1, step);
    let boundary = anchor.boundary(paid_periods, step);

    let exit = uniform(rng);
    let in_last_period = last_start + uniform_below(rng, boundary - last_start);
    let voluntary_reason = if uniform(rng) < P_BLANK_REASON { Reason::Blank } else { Reason::Requested };
    // (canceled at, ended at, at period end?, reason, unpaid from, leaves before)
    let (cancel, end, at_period_end, reason, unpaid_from, limit) = if exit < P_EXIT_AT_PERIOD_END {
        (in_last_period, boundary, true, voluntary_reason, None, in_last_period)
    } else if exit < P_EXIT_AT_PERIOD_END + P_EXIT_IMMEDIATE {
        (in_last_period, in_last_period, false, voluntary_reason, None, in_last_period)
    } else {
        let retries = 7 * MINUTES_PER_DAY + uniform_below(rng, 14 * MINUTES_PER_DAY);
        let (end, unpaid_from) = if uniform(rng) < P_UNPAID {
            let unpaid = 20 * MINUTES_PER_DAY + uniform_below(rng, 70 * MINUTES_PER_DAY);
            (boundary + retries + unpaid, Some(boundary + retries))
        } else {
            (boundary + retries, None)
        };
        (end, end, false, Reason::PaymentFailed, unpaid_from, boundary)
    };

    // A plan switch, if it comes before the customer decides to leave.
    let target = match (plan.product, plan.interval) {
        (Product::Starter, _) => Some((Product::Pro, UPGRADE_MEAN_MONTHS_STARTER)),
        (Product::Pro, Interval::Month) => Some((Product::Team, UPGRADE_MEAN_MONTHS_PRO)),
        _ => None,
    };
    if let Some((product, mean_months)) = target {
        let at = paid_start + exponential_minutes(rng, mean_months * MINUTES_PER_MONTH);
        if at < limit.min(as_of) && *budget > 0 {
            *budget -= 1;
            row.status = Status::Canceled;
            row.canceled_at = Some(at);
            row.ended_at = Some(at);
            let k = anchor.period_index(at, step);
            row.period_start = anchor.boundary(k, step);
            row.period_end = anchor.boundary(k + 1, step);
            let delay = if uniform(rng) < P_SWITCH_SAME_INSTANT { 0 } else { uniform_below(rng, 2 * MINUTES_PER_DAY) };
            let next = Spec {
                customer: spec.customer,
                created: (at + delay).min(as_of),
                plan: Plan::with(rng, product, plan.interval),
                fresh: false,
            };
            return (row, Some(next));
        }
    }

    if end <= as_of {
        row.status = Status::Canceled;
        row.reason = reason;
        row.cancel_at_period_end = at_period_end;
        row.canceled_at = Some(cancel);
        row.ended_at = Some(end);
        if reason == Reason::PaymentFailed {
            let k = anchor.period_index(end, step);
            row.period_start = anchor.boundary(k, step);
            row.period_end = anchor.boundary(k + 1, step);
        } else {
            row.period_start = last_start;
            row.period_end = boundary;
        }
        let next = reactivation(rng, ctx, &row, P_REACTIVATE_PAID, budget);
        return (row, next);
    }

    // Live at as_of.
    let k = anchor.period_index(as_of, step);
    row.period_start = anchor.boundary(k, step);
    row.period_end = anchor.boundary(k + 1, step);
    if reason == Reason::PaymentFailed && as_of >= boundary {
        row.status = match unpaid_from {
            Some(u) if as_of >= u => Status::Unpaid,
            _ => Status::PastDue,
        };
    } else if at_period_end && cancel <= as_of {
        row.cancel_at_period_end = true;
        row.canceled_at = Some(cancel);
        row.reason = reason;
    } else if k >= 1 && as_of - row.period_start < 4 * MINUTES_PER_DAY && uniform(rng) < P_TRANSIENT_PAST_DUE {
        row.status = Status::PastDue;
    }
    (row, None)
}

/// Finishes a trial that does not convert: most lapse at the trial's end, some are canceled
/// for the trial's end, a few are canceled on the spot.
fn lost_trial(rng: &mut ChaCha8Rng, ctx: &Company, mut row: Row, budget: &mut usize) -> (Row, Option<Spec>) {
    let as_of = ctx.as_of;
    let trial_end = row.period_end;
    let during = row.created + uniform_below(rng, trial_end - row.created);
    let how = uniform(rng);
    // An immediate cancellation is only used when the trial would have ended by as_of, so
    // that Trial End never lies after as_of on a canceled row.
    let (cancel, end, at_period_end, reason) = if how < 0.60 {
        (trial_end, trial_end, false, Reason::Blank)
    } else if how < 0.85 || trial_end > as_of {
        (during, trial_end, true, Reason::Requested)
    } else {
        (during, during, false, Reason::Requested)
    };
    if end <= as_of {
        row.status = Status::Canceled;
        row.reason = reason;
        row.cancel_at_period_end = at_period_end;
        row.canceled_at = Some(cancel);
        row.ended_at = Some(end);
        let next = reactivation(rng, ctx, &row, P_REACTIVATE_TRIAL, budget);
        (row, next)
    } else {
        row.status = Status::Trialing;
        if at_period_end && cancel <= as_of {
            row.cancel_at_period_end = true;
            row.canceled_at = Some(cancel);
            row.reason = reason;
        }
        (row, None)
    }
}

/// Whether the customer of an ended subscription comes back, and on what.
fn reactivation(rng: &mut ChaCha8Rng, ctx: &Company, ended: &Row, chance: f64, budget: &mut usize) -> Option<Spec> {
    let end = ended.ended_at?;
    if *budget == 0 || uniform(rng) >= chance {
        return None;
    }
    let delay = MINUTES_PER_MONTH as i64 + exponential_minutes(rng, REACTIVATE_MEAN_MONTHS * MINUTES_PER_MONTH);
    let at = end.checked_add(delay)?;
    if at > ctx.as_of {
        return None;
    }
    *budget -= 1;
    let mut plan = Plan::draw_new(rng);
    if uniform(rng) < 0.75 {
        plan = Plan::with(rng, ended.plan.product, plan.interval);
    }
    if uniform(rng) < 0.8 {
        plan.interval = ended.plan.interval;
    }
    Some(Spec { customer: ended.customer, created: at, plan, fresh: false })
}

/// Team seats: 2 to 50, log-normally skewed towards few (median about 4).
fn seats(rng: &mut ChaCha8Rng) -> u32 {
    let extra = libm::exp(0.9 + 0.9 * normal(rng));
    (2.0 + libm::floor(extra)).min(50.0) as u32
}

// ---------------------------------------------------------------------------------------------
// Samplers, all on the one ChaCha8 stream and libm: the uniform and normal draws are the simulation
// engine's (`sim::sample`); gamma and beta stay the demo's own, as the shipped demo file was drawn
// with them.

/// Uniform integer in 0..n (0 when n is 0).
fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    ((uniform(rng) * n as f64) as usize).min(n.saturating_sub(1))
}

/// Uniform integer in 0..n for a non-negative span of minutes (0 when n ≤ 0).
fn uniform_below(rng: &mut ChaCha8Rng, n: i64) -> i64 {
    if n <= 0 {
        return 0;
    }
    (libm::floor(uniform(rng) * n as f64) as i64).min(n - 1)
}

/// An index drawn with the given weights (which need not sum to 1).
fn pick(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = uniform(rng) * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len().saturating_sub(1)
}

/// Exponential with the given mean, by inversion.
fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    -mean * libm::log(uniform_open(rng))
}

/// An exponential wait in whole minutes, capped far beyond any history.
fn exponential_minutes(rng: &mut ChaCha8Rng, mean: f64) -> i64 {
    libm::floor(exponential(rng, mean)).min(1e12) as i64
}

/// Gamma(shape, 1), by Marsaglia–Tsang; shapes below 1 by the boost
/// Gamma(a) = Gamma(a + 1) · U^(1/a).
fn gamma(rng: &mut ChaCha8Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = uniform_open(rng);
        return gamma(rng, shape + 1.0) * libm::pow(u, 1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let x = normal(rng);
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = uniform_open(rng);
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

/// Beta(a, b), from two gammas.
fn beta(rng: &mut ChaCha8Rng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    if x + y > 0.0 {
        x / (x + y)
    } else {
        a / (a + b)
    }
}

/// The number of periods paid before churning, when each renewal fails with probability
/// `theta`: 1, 2, 3, ... (geometric, by inversion), capped at `cap` (≥ 1).
fn geometric(rng: &mut ChaCha8Rng, theta: f64, cap: i64) -> i64 {
    let cap = cap.max(1);
    if theta >= 1.0 {
        return 1;
    }
    if theta <= 0.0 {
        return cap;
    }
    let k = libm::floor(libm::log(uniform_open(rng)) / libm::log1p(-theta));
    if k >= (cap - 1) as f64 {
        cap
    } else {
        1 + k as i64
    }
}

/// Stripe-like ids: 14 characters from 62, from the random stream.
fn random_id(rng: &mut ChaCha8Rng) -> [u8; 14] {
    let mut id = [0u8; 14];
    let mut bits = rng.next_u64();
    for (i, c) in id.iter_mut().enumerate() {
        if i == 7 {
            bits = rng.next_u64();
        }
        *c = ID_ALPHABET[(bits % 62) as usize];
        bits /= 62;
    }
    id
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic on minutes since the Unix epoch (proleptic Gregorian, UTC).

/// Days since 1970-01-01 of a civil date (Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Months since year 0 (year × 12 + month − 1) of an instant.
fn month_index(t: i64) -> i64 {
    let (y, m, _) = civil_from_days(t.div_euclid(MINUTES_PER_DAY));
    y * 12 + i64::from(m) - 1
}

/// A billing cycle anchor: renewals fall on the same day of the month and time of day, the day
/// clamped to the month's last (an anchor on the 31st renews on Feb 28/29, then Mar 31).
#[derive(Clone, Copy, Debug)]
struct Anchor {
    month: i64,
    day: u32,
    minute_of_day: i64,
}

impl Anchor {
    fn new(t: i64) -> Self {
        let (y, m, d) = civil_from_days(t.div_euclid(MINUTES_PER_DAY));
        Anchor { month: y * 12 + i64::from(m) - 1, day: d, minute_of_day: t.rem_euclid(MINUTES_PER_DAY) }
    }

    /// The start of period `k` (0 is the anchor itself) for periods of `step` months.
    fn boundary(&self, k: i64, step: i64) -> i64 {
        let month = self.month + k * step;
        let y = month.div_euclid(12);
        let m = (month.rem_euclid(12) + 1) as u32;
        let d = self.day.min(days_in_month(y, m));
        days_from_civil(y, m, d) * MINUTES_PER_DAY + self.minute_of_day
    }

    /// The period containing `t`: the largest k ≥ 0 with `boundary(k) ≤ t`.
    fn period_index(&self, t: i64, step: i64) -> i64 {
        let mut k = ((month_index(t) - self.month) / step).max(0);
        while k > 0 && self.boundary(k, step) > t {
            k -= 1;
        }
        while self.boundary(k + 1, step) <= t {
            k += 1;
        }
        k
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Appends one row of an export to the buffer (nothing, for a row the vendor would not hold).
type RowWriter = fn(&mut Vec<u8>, &Company, &Row);

fn push_stripe_row(buf: &mut Vec<u8>, ctx: &Company, row: &Row) {
    buf.extend_from_slice(b"sub_");
    buf.extend_from_slice(&row.id);
    buf.extend_from_slice(b",cus_");
    buf.extend_from_slice(&row.customer.id);
    buf.push(b',');
    push_name(buf, &row.customer);
    buf.extend_from_slice(b",customer");
    push_padded(buf, row.customer.number);
    buf.extend_from_slice(b"@example.com,");
    buf.extend_from_slice(row.status.as_str().as_bytes());
    buf.push(b',');
    buf.extend_from_slice(row.reason.as_str().as_bytes());
    buf.push(b',');
    buf.extend_from_slice(if row.cancel_at_period_end { b"true," } else { b"false," });
    push_datetime(buf, row.created);
    buf.push(b',');
    push_datetime(buf, row.created);
    buf.push(b',');
    push_datetime(buf, row.period_start);
    buf.push(b',');
    push_datetime(buf, row.period_end);
    buf.push(b',');
    if row.trial_end.is_some() {
        push_datetime(buf, row.created);
    }
    buf.push(b',');
    push_opt_datetime(buf, row.trial_end);
    buf.push(b',');
    push_opt_datetime(buf, row.canceled_at);
    buf.push(b',');
    push_opt_datetime(buf, row.ended_at);
    buf.push(b',');
    let product = row.plan.product;
    let (interval, per) = match row.plan.interval {
        Interval::Month => ("month", "monthly"),
        Interval::Year => ("year", "yearly"),
    };
    buf.extend_from_slice(b"price_");
    buf.extend_from_slice(product.slug().as_bytes());
    buf.push(b'_');
    buf.extend_from_slice(per.as_bytes());
    buf.push(b'_');
    push_int(buf, if row.risen { ctx.rise_label } else { ctx.launch_label });
    buf.push(b',');
    buf.extend_from_slice(product.name().as_bytes());
    buf.push(b',');
    buf.extend_from_slice(product.id().as_bytes());
    buf.push(b',');
    push_int(buf, i64::from(row.plan.quantity));
    buf.push(b',');
    buf.extend_from_slice(interval.as_bytes());
    buf.push(b',');
    let cents = row.amount_cents();
    push_int(buf, (cents / 100) as i64);
    buf.push(b'.');
    push_two(buf, (cents % 100) as i64);
    buf.extend_from_slice(b",usd,");
    buf.extend_from_slice(CHANNELS[usize::from(row.customer.channel) % CHANNELS.len()].as_bytes());
    buf.push(b'\n');
}

/// The plan id the other vendors use: `pro-monthly-2022` (the interval is in the name, as is common).
fn push_plan_code(buf: &mut Vec<u8>, ctx: &Company, row: &Row) {
    buf.extend_from_slice(row.plan.product.slug().as_bytes());
    buf.extend_from_slice(match row.plan.interval {
        Interval::Month => b"-monthly-",
        Interval::Year => b"-yearly-",
    });
    push_int(buf, if row.risen { ctx.rise_label } else { ctx.launch_label });
}

/// `49.00`.
fn push_dollars(buf: &mut Vec<u8>, cents: u64) {
    push_int(buf, (cents / 100) as i64);
    buf.push(b'.');
    push_two(buf, (cents % 100) as i64);
}

/// `YYYY-MM-DD HH:MM:SS`.
fn push_datetime_seconds(buf: &mut Vec<u8>, t: i64) {
    push_datetime(buf, t);
    buf.extend_from_slice(b":00");
}

fn push_opt_datetime_seconds(buf: &mut Vec<u8>, t: Option<i64>) {
    if let Some(t) = t {
        push_datetime_seconds(buf, t);
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC`, as Recurly writes instants.
fn push_recurly_time(buf: &mut Vec<u8>, t: Option<i64>) {
    if let Some(t) = t {
        push_datetime_seconds(buf, t);
        buf.extend_from_slice(b" UTC");
    }
}

/// `YYYY-MM-DD`.
fn push_date(buf: &mut Vec<u8>, t: i64) {
    let mut full = Vec::with_capacity(16);
    push_datetime(&mut full, t);
    buf.extend_from_slice(&full[..full.len() - 6]);
}

/// A live subscription set to end at its period's end (Stripe's cancel at period end, not yet ended).
fn ends_at_period_end(row: &Row) -> bool {
    row.cancel_at_period_end && row.ended_at.is_none()
}

/// Chargebee: `Active`, `Non Renewing` (until the term ends), `In Trial`, `Cancelled` (ended at
/// `cancelled_at`). A live subscription's term is its current period; a trial or an ended one has
/// none. A failed first payment creates no subscription.
fn push_chargebee_row(buf: &mut Vec<u8>, ctx: &Company, row: &Row) {
    if row.status == Status::IncompleteExpired {
        return;
    }
    let (status, term, cancelled_at): (&[u8], bool, Option<i64>) = match row.status {
        Status::Canceled => (b"Cancelled", false, row.ended_at),
        Status::Trialing => (b"In Trial", false, ends_at_period_end(row).then_some(row.period_end)),
        _ if ends_at_period_end(row) => (b"Non Renewing", true, Some(row.period_end)),
        _ => (b"Active", true, None),
    };
    buf.extend_from_slice(&row.id);
    buf.push(b',');
    buf.extend_from_slice(&row.customer.id);
    buf.push(b',');
    push_plan_code(buf, ctx, row);
    buf.push(b',');
    push_int(buf, i64::from(row.plan.quantity));
    buf.push(b',');
    push_dollars(buf, row.amount_cents());
    buf.extend_from_slice(b",USD,");
    buf.extend_from_slice(status);
    buf.push(b',');
    push_datetime_seconds(buf, row.created);
    buf.push(b',');
    if row.trial_end.is_some() {
        push_datetime_seconds(buf, row.created);
    }
    buf.push(b',');
    push_opt_datetime_seconds(buf, row.trial_end);
    buf.push(b',');
    if term {
        push_datetime_seconds(buf, row.period_start);
    }
    buf.push(b',');
    if term {
        push_datetime_seconds(buf, row.period_end);
    }
    buf.push(b',');
    push_datetime_seconds(buf, row.created);
    buf.push(b',');
    push_datetime_seconds(buf, row.created);
    buf.push(b',');
    // Activated: when paying began; a trial that never converted never was.
    let lost_trial = row.trial_end.is_some_and(|t| row.ended_at.is_some_and(|e| e <= t));
    if row.status != Status::Trialing && !lost_trial {
        push_datetime_seconds(buf, row.trial_end.unwrap_or(row.created));
    }
    buf.push(b',');
    push_opt_datetime_seconds(buf, cancelled_at);
    buf.push(b',');
    if row.reason == Reason::PaymentFailed {
        buf.extend_from_slice(b"not_paid");
    }
    buf.push(b',');
    buf.extend_from_slice(&row.customer.id);
    buf.extend_from_slice(b",customer");
    push_padded(buf, row.customer.number);
    buf.extend_from_slice(b"@example.com,");
    buf.extend_from_slice(CHANNELS[usize::from(row.customer.channel) % CHANNELS.len()].as_bytes());
    buf.push(b'\n');
}

/// Recurly: `active` (a trial too), `canceled` (will not renew, live until `expires_at`), `expired`
/// (ended at `expires_at`), `failed` (the first payment failed). The current period is Stripe's.
fn push_recurly_row(buf: &mut Vec<u8>, ctx: &Company, row: &Row) {
    let (state, expires_at): (&[u8], Option<i64>) = match row.status {
        Status::IncompleteExpired => (b"failed", row.ended_at),
        Status::Canceled => (b"expired", row.ended_at),
        _ if ends_at_period_end(row) => (b"canceled", Some(row.period_end)),
        _ => (b"active", None),
    };
    let active = state == b"active";
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in row.id.iter().chain(&row.customer.id[..2]) {
        buf.push(HEX[usize::from(byte >> 4)]);
        buf.push(HEX[usize::from(byte & 15)]);
    }
    buf.push(b',');
    buf.extend_from_slice(&row.customer.id);
    buf.extend_from_slice(b",customer");
    push_padded(buf, row.customer.number);
    buf.extend_from_slice(b"@example.com,");
    push_plan_code(buf, ctx, row);
    buf.push(b',');
    buf.extend_from_slice(state);
    buf.extend_from_slice(if active { b",true,USD," } else { b",false,USD," });
    push_int(buf, i64::from(row.plan.quantity));
    buf.push(b',');
    push_dollars(buf, row.amount_cents());
    buf.extend_from_slice(b",0.00,");
    push_dollars(buf, row.amount_cents() * u64::from(row.plan.quantity));
    buf.push(b',');
    push_recurly_time(buf, Some(row.period_start));
    buf.push(b',');
    push_recurly_time(buf, Some(row.period_end));
    buf.push(b',');
    push_recurly_time(buf, row.trial_end.map(|_| row.created));
    buf.push(b',');
    push_recurly_time(buf, row.trial_end);
    buf.extend_from_slice(b",,,");
    push_recurly_time(buf, Some(row.created));
    buf.push(b',');
    let modified = [Some(row.created), row.canceled_at, row.ended_at].into_iter().flatten().max();
    push_recurly_time(buf, modified);
    buf.push(b',');
    push_recurly_time(buf, row.canceled_at);
    buf.push(b',');
    push_recurly_time(buf, expires_at);
    buf.extend_from_slice(b",,0,,automatic,");
    buf.extend_from_slice(row.plan.product.name().as_bytes());
    buf.extend_from_slice(b",false,,");
    let converted = row.trial_end.filter(|&t| t <= ctx.as_of && row.ended_at.is_none_or(|e| e > t));
    push_recurly_time(buf, converted);
    buf.extend_from_slice(b",,,");
    if active {
        push_recurly_time(buf, Some(row.period_start));
    }
    buf.push(b',');
    if active {
        push_recurly_time(buf, Some(row.period_end));
    }
    buf.extend_from_slice(b",,,,fixed,,false,");
    for &c in &row.id {
        buf.push(c.to_ascii_lowercase());
    }
    buf.extend_from_slice(b",,");
    buf.extend_from_slice(CHANNELS[usize::from(row.customer.channel) % CHANNELS.len()].as_bytes());
    buf.push(b'\n');
}

/// Baremetrics: paying subscriptions only, from the paid start (a converted trial's end) to the end,
/// dates alone, amounts in cents. Never-paid, lost-trial and still-trialing ones are not there.
fn push_baremetrics_row(buf: &mut Vec<u8>, ctx: &Company, row: &Row) {
    let lost_trial = row.trial_end.is_some_and(|t| row.ended_at.is_some_and(|e| e <= t));
    if matches!(row.status, Status::IncompleteExpired | Status::Trialing) || lost_trial {
        return;
    }
    push_plan_code(buf, ctx, row);
    buf.push(b',');
    buf.extend_from_slice(row.plan.product.name().as_bytes());
    buf.extend_from_slice(b",USD,");
    push_int(buf, row.amount_cents() as i64);
    buf.extend_from_slice(match row.plan.interval {
        Interval::Month => b",month,1,cus_",
        Interval::Year => b",year,1,cus_",
    });
    buf.extend_from_slice(&row.customer.id);
    buf.push(b',');
    push_name(buf, &row.customer);
    buf.extend_from_slice(b",customer");
    push_padded(buf, row.customer.number);
    buf.extend_from_slice(b"@example.com,sub_");
    buf.extend_from_slice(&row.id);
    buf.push(b',');
    push_date(buf, row.trial_end.unwrap_or(row.created));
    buf.push(b',');
    if row.status == Status::Canceled {
        if let Some(end) = row.ended_at {
            push_date(buf, end);
        }
    }
    buf.push(b',');
    push_int(buf, i64::from(row.plan.quantity));
    buf.push(b'\n');
}

/// The customer's display name, as a CSV field (quoted when it needs to be).
fn push_name(buf: &mut Vec<u8>, customer: &Customer) {
    let mut name = Vec::with_capacity(40);
    let code = customer.name;
    if code == NAME_NICKNAME {
        name.extend_from_slice(b"Riley \"RJ\" Example ");
    } else if code >= NAME_COMPANY {
        let i = usize::from(code - NAME_COMPANY) % COMPANY_NAMES.len();
        name.extend_from_slice(COMPANY_NAMES[i].as_bytes());
        name.push(b' ');
    } else {
        name.extend_from_slice(FIRST_NAMES[usize::from(code) % FIRST_NAMES.len()].as_bytes());
        name.extend_from_slice(b" Example ");
    }
    push_padded(&mut name, customer.number);
    push_csv_field(buf, &name);
}

/// A CSV field, quoted (with inner quotes doubled) if it contains a comma, quote or line break.
fn push_csv_field(buf: &mut Vec<u8>, field: &[u8]) {
    if field.iter().any(|&b| b == b',' || b == b'"' || b == b'\n' || b == b'\r') {
        buf.push(b'"');
        for &b in field {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(field);
    }
}

fn push_opt_datetime(buf: &mut Vec<u8>, t: Option<i64>) {
    if let Some(t) = t {
        push_datetime(buf, t);
    }
}

/// `YYYY-MM-DD HH:MM`.
fn push_datetime(buf: &mut Vec<u8>, t: i64) {
    let (y, m, d) = civil_from_days(t.div_euclid(MINUTES_PER_DAY));
    let minute = t.rem_euclid(MINUTES_PER_DAY);
    if (0..10_000).contains(&y) {
        push_two(buf, y / 100);
        push_two(buf, y % 100);
    } else {
        push_int(buf, y);
    }
    buf.push(b'-');
    push_two(buf, i64::from(m));
    buf.push(b'-');
    push_two(buf, i64::from(d));
    buf.push(b' ');
    push_two(buf, minute / 60);
    buf.push(b':');
    push_two(buf, minute % 60);
}

/// Two digits, zero-padded (for 0..=99).
fn push_two(buf: &mut Vec<u8>, v: i64) {
    let v = v.rem_euclid(100) as u8;
    buf.push(b'0' + v / 10);
    buf.push(b'0' + v % 10);
}

/// A number zero-padded to at least four digits.
fn push_padded(buf: &mut Vec<u8>, v: u64) {
    let mut digits = [b'0'; 20];
    let mut n = v;
    let mut len = 0;
    while n > 0 || len < 4 {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
    }
    buf.extend(digits[..len].iter().rev());
}

fn push_int(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    let mut digits = [b'0'; 20];
    let mut n = v.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    buf.extend(digits[..len].iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use time::{macros::format_description, PrimitiveDateTime};

    fn generate(config: &DemoConfig) -> Vec<u8> {
        let mut out = Vec::new();
        write_stripe_csv(&mut out, config).expect("writing to a Vec cannot fail");
        out
    }

    /// A strict RFC 4180 reader: fields separated by commas, records by `\n`, quoted fields
    /// with doubled inner quotes.
    fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                        let next = chars.peek();
                        assert!(next == Some(&',') || next == Some(&'\n'), "junk after quote");
                    }
                } else {
                    field.push(c);
                }
            } else {
                match c {
                    '"' => {
                        assert!(field.is_empty(), "quote inside an unquoted field");
                        quoted = true;
                    }
                    ',' => record.push(std::mem::take(&mut field)),
                    '\n' => {
                        record.push(std::mem::take(&mut field));
                        records.push(std::mem::take(&mut record));
                    }
                    '\r' => panic!("bare carriage return"),
                    _ => field.push(c),
                }
            }
        }
        assert!(!quoted, "unterminated quoted field");
        assert!(field.is_empty() && record.is_empty(), "last line unterminated");
        records
    }

    /// One data row, by column name.
    #[derive(Debug, Clone)]
    struct Rec {
        id: String,
        customer: String,
        name: String,
        email: String,
        status: String,
        reason: String,
        cape: bool,
        created: PrimitiveDateTime,
        start: PrimitiveDateTime,
        period_start: PrimitiveDateTime,
        period_end: PrimitiveDateTime,
        trial_start: Option<PrimitiveDateTime>,
        trial_end: Option<PrimitiveDateTime>,
        canceled_at: Option<PrimitiveDateTime>,
        ended_at: Option<PrimitiveDateTime>,
        plan: String,
        product: String,
        product_id: String,
        quantity: u32,
        interval: String,
        amount: String,
        currency: String,
        channel: String,
    }

    fn date(s: &str) -> Option<PrimitiveDateTime> {
        if s.is_empty() {
            return None;
        }
        let format = format_description!("[year]-[month]-[day] [hour]:[minute]");
        Some(PrimitiveDateTime::parse(s, format).unwrap_or_else(|e| panic!("date {s:?}: {e}")))
    }

    fn records(config: &DemoConfig) -> Vec<Rec> {
        let csv = parse_csv(&generate(config));
        let header: Vec<&str> = HEADER.trim_end().split(',').collect();
        assert_eq!(csv[0], header);
        csv[1..]
            .iter()
            .map(|f| {
                assert_eq!(f.len(), 23, "field count of {f:?}");
                Rec {
                    id: f[0].clone(),
                    customer: f[1].clone(),
                    name: f[2].clone(),
                    email: f[3].clone(),
                    status: f[4].clone(),
                    reason: f[5].clone(),
                    cape: match f[6].as_str() {
                        "true" => true,
                        "false" => false,
                        other => panic!("Cancel At Period End {other:?}"),
                    },
                    created: date(&f[7]).expect("Created"),
                    start: date(&f[8]).expect("Start Date"),
                    period_start: date(&f[9]).expect("Current Period Start"),
                    period_end: date(&f[10]).expect("Current Period End"),
                    trial_start: date(&f[11]),
                    trial_end: date(&f[12]),
                    canceled_at: date(&f[13]),
                    ended_at: date(&f[14]),
                    plan: f[15].clone(),
                    product: f[16].clone(),
                    product_id: f[17].clone(),
                    quantity: f[18].parse().expect("Quantity"),
                    interval: f[19].clone(),
                    amount: f[20].clone(),
                    currency: f[21].clone(),
                    channel: f[22].clone(),
                }
            })
            .collect()
    }

    fn as_of(config: &DemoConfig) -> PrimitiveDateTime {
        let a = config.as_of.to_offset(time::UtcOffset::UTC);
        PrimitiveDateTime::new(a.date(), a.time())
    }

    fn by_customer(recs: &[Rec]) -> BTreeMap<&str, Vec<&Rec>> {
        let mut map: BTreeMap<&str, Vec<&Rec>> = BTreeMap::new();
        for r in recs {
            map.entry(r.customer.as_str()).or_default().push(r);
        }
        map
    }

    #[test]
    fn same_seed_gives_identical_bytes_and_another_seed_different_bytes() {
        let config = DemoConfig { subscriptions: 3000, ..DemoConfig::default() };
        let a = generate(&config);
        let b = generate(&config);
        assert!(a == b, "same config, different bytes");
        let other = generate(&DemoConfig { seed: 2, ..config });
        assert!(a != other, "different seeds, same bytes");
    }

    #[test]
    fn default_file_is_under_2mb_and_has_exactly_the_requested_rows() {
        let config = DemoConfig::default();
        let bytes = generate(&config);
        assert!(bytes.len() < 2_000_000, "{} bytes", bytes.len());
        assert!(bytes.len() > 1_000_000, "{} bytes", bytes.len());
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(lines, config.subscriptions + 1);
        assert_eq!(records(&config).len(), config.subscriptions);
    }

    #[test]
    fn writes_exactly_the_requested_number_of_rows_at_any_size() {
        for seed in [1, 9] {
            for n in [0, 1, 2, 3, 10, 57, 1000] {
                let config = DemoConfig { subscriptions: n, seed, ..DemoConfig::default() };
                assert_eq!(records(&config).len(), n, "n = {n}, seed = {seed}");
            }
        }
    }

    #[test]
    fn rows_are_sorted_by_created_and_ids_are_unique() {
        let recs = records(&DemoConfig::default());
        assert!(recs.windows(2).all(|w| w[0].created <= w[1].created));
        let mut ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), recs.len());
        for r in &recs {
            assert!(r.id.starts_with("sub_") && r.id.len() == 18, "{}", r.id);
            assert!(r.customer.starts_with("cus_") && r.customer.len() == 18);
            assert!(r.product_id.starts_with("prod_"));
            assert!(r.email.starts_with("customer") && r.email.ends_with("@example.com"));
            assert_eq!(r.currency, "usd");
        }
    }

    #[test]
    fn names_that_need_quoting_round_trip() {
        let recs = records(&DemoConfig::default());
        assert!(recs.iter().any(|r| r.name.contains(", ")), "no company names");
        assert!(recs.iter().any(|r| r.name.contains("\"RJ\"")), "no quoted nickname");
        for r in &recs {
            let number = &r.email["customer".len()..r.email.len() - "@example.com".len()];
            assert!(r.name.ends_with(number), "{} / {}", r.name, r.email);
            assert!(r.name.contains("Example"));
        }
        let mut buf = Vec::new();
        push_csv_field(&mut buf, b"a \"b\", c\nd");
        assert_eq!(buf, b"\"a \"\"b\"\", c\nd\"");
    }

    #[test]
    fn no_event_that_has_happened_lies_after_as_of() {
        for seed in [1, 2, 3] {
            let config = DemoConfig { seed, ..DemoConfig::default() };
            let limit = as_of(&config);
            for r in records(&config) {
                assert!(r.created <= limit && r.start <= limit, "{r:?}");
                assert!(r.period_start <= limit, "{r:?}");
                assert!(r.trial_start.is_none_or(|t| t <= limit), "{r:?}");
                assert!(r.canceled_at.is_none_or(|t| t <= limit), "{r:?}");
                assert!(r.ended_at.is_none_or(|t| t <= limit), "{r:?}");
                if r.status != "trialing" {
                    assert!(r.trial_end.is_none_or(|t| t <= limit), "{r:?}");
                }
            }
        }
    }

    #[test]
    fn an_as_of_with_seconds_and_an_offset_is_respected() {
        let config =
            DemoConfig { subscriptions: 2000, seed: 5, as_of: time::macros::datetime!(2031-03-31 01:30:59 +05:00) };
        let limit = as_of(&config);
        let recs = records(&config);
        assert_eq!(recs.len(), 2000);
        for r in &recs {
            let happened = [Some(r.created), r.canceled_at, r.ended_at];
            assert!(happened.iter().flatten().all(|&t| t <= limit), "{r:?}");
        }
        assert!(recs.iter().any(|r| r.plan.ends_with("_2029")));
    }

    #[test]
    fn fields_are_mutually_consistent() {
        let config = DemoConfig::default();
        let limit = as_of(&config);
        for r in records(&config) {
            assert_eq!(r.created, r.start);
            assert!(r.start <= r.period_start && r.period_start < r.period_end, "{r:?}");
            assert!(r.ended_at.is_none_or(|e| e >= r.start), "{r:?}");
            assert!(r.canceled_at.is_none_or(|c| c >= r.start), "{r:?}");
            assert_eq!(r.trial_start.is_some(), r.trial_end.is_some());
            if let (Some(ts), Some(te)) = (r.trial_start, r.trial_end) {
                assert_eq!(ts, r.start);
                assert_eq!(te - ts, time::Duration::days(14));
                // A converted trial's paid periods start at the trial's end.
                if r.period_start != ts {
                    assert!(r.period_start >= te, "{r:?}");
                }
            }
            if r.cape {
                assert!(r.canceled_at.is_some(), "{r:?}");
            }
            let days = (r.period_end - r.period_start).whole_days();
            match (r.interval.as_str(), r.trial_end == Some(r.period_end)) {
                (_, true) => assert_eq!(days, 14),
                ("month", false) => assert!((28..=31).contains(&days), "{r:?}"),
                ("year", false) => assert!((365..=366).contains(&days), "{r:?}"),
                (other, _) => panic!("interval {other:?}"),
            }
            match r.status.as_str() {
                "active" | "past_due" | "unpaid" | "trialing" => {
                    assert!(r.ended_at.is_none(), "{r:?}");
                    assert!(r.period_start <= limit && limit < r.period_end, "{r:?}");
                    assert_eq!(r.cape, r.canceled_at.is_some(), "{r:?}");
                    if r.status == "trialing" {
                        assert!(r.trial_end.is_some_and(|t| t > limit), "{r:?}");
                    }
                }
                "canceled" => {
                    let (c, e) = (r.canceled_at.expect("canceled at"), r.ended_at.expect("ended"));
                    assert!(c <= e, "{r:?}");
                    assert!(r.period_start <= e && e <= r.period_end, "{r:?}");
                    if r.cape {
                        assert_eq!(e, r.period_end, "{r:?}");
                    } else {
                        assert_eq!(c, e, "{r:?}");
                    }
                }
                "incomplete_expired" => {
                    assert!(r.trial_start.is_none() && !r.cape, "{r:?}");
                    assert_eq!(r.ended_at, Some(r.start + time::Duration::hours(23)));
                }
                other => panic!("status {other:?}"),
            }
        }
    }

    #[test]
    fn pro_price_rise_is_grandfathered() {
        let config = DemoConfig::default();
        // 18 months before the default as_of, 2025-12-31 18:04.
        let rise = time::macros::datetime!(2024-06-30 18:04);
        let recs = records(&config);
        let pro: Vec<&Rec> = recs.iter().filter(|r| r.product == "Pro").collect();
        let mut old_live_after_rise = 0;
        for r in &pro {
            match (r.interval.as_str(), r.amount.as_str()) {
                ("month", "49.00") | ("year", "490.00") => {
                    assert!(r.start < rise, "{r:?}");
                    assert!(r.plan.ends_with("_2022"), "{r:?}");
                    if r.ended_at.is_none() {
                        old_live_after_rise += 1;
                    }
                }
                ("month", "59.00") | ("year", "590.00") => {
                    assert!(r.start >= rise, "{r:?}");
                    assert!(r.plan.ends_with("_2024"), "{r:?}");
                }
                other => panic!("Pro price {other:?}"),
            }
        }
        assert!(old_live_after_rise > 50, "{old_live_after_rise} grandfathered");
        assert!(pro.iter().any(|r| r.amount == "59.00"));
        assert!(pro.iter().any(|r| r.amount == "590.00"));
        assert!(recs.iter().any(|r| r.plan == "price_pro_monthly_2024"));
        assert!(recs.iter().any(|r| r.plan == "price_pro_monthly_2022"));
        for r in &recs {
            let expected = match (r.product.as_str(), r.interval.as_str()) {
                ("Starter", "month") => vec!["19.00"],
                ("Starter", "year") => vec!["190.00"],
                ("Pro", "month") => vec!["49.00", "59.00"],
                ("Pro", "year") => vec!["490.00", "590.00"],
                ("Team", "month") => vec!["15.00"],
                ("Team", "year") => vec!["150.00"],
                other => panic!("plan {other:?}"),
            };
            assert!(expected.contains(&r.amount.as_str()), "{r:?}");
            let per = if r.interval == "month" { "monthly" } else { "yearly" };
            let prefix = format!("price_{}_{per}_", r.product.to_lowercase());
            assert!(r.plan.starts_with(&prefix), "{r:?}");
        }
    }

    #[test]
    fn trials_annual_plans_and_seats_occur() {
        let config = DemoConfig::default();
        let limit = as_of(&config);
        let recs = records(&config);
        let n = recs.len() as f64;
        let trials: Vec<&Rec> = recs.iter().filter(|r| r.trial_start.is_some()).collect();
        assert!(trials.iter().all(|r| r.product != "Starter"));
        let trial_ended: Vec<&&Rec> = trials.iter().filter(|r| r.trial_end.is_some_and(|t| t <= limit)).collect();
        let lost = trial_ended.iter().filter(|r| r.ended_at.is_some_and(|e| Some(e) <= r.trial_end)).count();
        let converted = 1.0 - lost as f64 / trial_ended.len() as f64;
        assert!((0.50..0.65).contains(&converted), "conversion {converted}");
        let trialing = recs.iter().filter(|r| r.status == "trialing").count();
        assert!((3..100).contains(&trialing), "{trialing} trialing");
        let pro_team_first = by_customer(&recs).values().filter(|v| v[0].product != "Starter").count();
        let trial_share = trials.len() as f64 / pro_team_first as f64;
        assert!((0.33..0.47).contains(&trial_share), "trial share {trial_share}");

        let annual = recs.iter().filter(|r| r.interval == "year").count() as f64 / n;
        assert!((0.18..0.32).contains(&annual), "annual share {annual}");

        let mut seats: Vec<u32> = recs.iter().filter(|r| r.product == "Team").map(|r| r.quantity).collect();
        seats.sort_unstable();
        assert!(seats.len() > 200);
        assert!(seats.iter().all(|q| (2..=50).contains(q)));
        assert!(seats[seats.len() / 2] <= 6, "median seats {}", seats[seats.len() / 2]);
        assert!(*seats.last().unwrap_or(&0) >= 20);
        assert!(recs.iter().filter(|r| r.product != "Team").all(|r| r.quantity == 1));
    }

    #[test]
    fn plan_switches_keep_the_customer_and_start_within_two_days() {
        let recs = records(&DemoConfig::default());
        let mut upgrades = 0;
        let mut to_team = 0;
        for subs in by_customer(&recs).values() {
            for w in subs.windows(2) {
                let (old, new) = (w[0], w[1]);
                let ended = old.ended_at.expect("a customer's earlier subscription has ended");
                assert!(new.start >= ended, "{old:?} {new:?}");
                assert_eq!(old.name, new.name);
                if new.start - ended <= time::Duration::days(2) {
                    assert_eq!(old.status, "canceled");
                    assert_eq!(old.reason, "", "{old:?}");
                    assert!(!old.cape);
                    assert_eq!(old.interval, new.interval);
                    assert_eq!(old.channel, new.channel);
                    assert!(new.trial_start.is_none());
                    match (old.product.as_str(), new.product.as_str()) {
                        ("Starter", "Pro") => upgrades += 1,
                        ("Pro", "Team") => to_team += 1,
                        other => panic!("switch {other:?}"),
                    }
                }
            }
        }
        let starters = recs.iter().filter(|r| r.product == "Starter").count();
        assert!(upgrades > 40, "{upgrades} upgrades");
        assert!(to_team > 10, "{to_team} Pro → Team");
        let share = upgrades as f64 / starters as f64;
        assert!((0.01..0.10).contains(&share), "upgrade share {share}");
    }

    #[test]
    fn churned_customers_come_back_months_later_under_the_same_id() {
        let recs = records(&DemoConfig::default());
        let customers = by_customer(&recs);
        let mut reactivations = 0;
        for subs in customers.values() {
            for w in subs.windows(2) {
                let ended = w[0].ended_at.expect("ended");
                if w[1].start - ended > time::Duration::days(2) {
                    assert!(w[1].start - ended >= time::Duration::days(30));
                    assert_eq!(w[0].status, "canceled");
                    reactivations += 1;
                }
            }
        }
        let share = reactivations as f64 / customers.len() as f64;
        assert!((0.01..0.06).contains(&share), "reactivation share {share}");
    }

    #[test]
    fn all_statuses_reasons_and_channels_occur() {
        let recs = records(&DemoConfig::default());
        let count = |f: &dyn Fn(&Rec) -> bool| recs.iter().filter(|r| f(r)).count();
        for status in ["active", "trialing", "past_due", "unpaid", "canceled", "incomplete_expired"] {
            assert!(count(&|r| r.status == status) >= 3, "{status}");
        }
        for reason in ["cancellation_requested", "payment_failed", ""] {
            assert!(count(&|r| r.status == "canceled" && r.reason == reason) > 50);
        }
        for channel in CHANNELS {
            assert!(count(&|r| r.channel == channel) > 200, "{channel}");
        }
        // Live subscriptions set to cancel at period end, and immediate cancellations.
        assert!(count(&|r| r.status == "active" && r.cape) >= 10);
        assert!(count(&|r| r.status == "canceled" && r.cape) > 500);
        assert!(count(&|r| r.reason == "cancellation_requested" && !r.cape) > 20);
        let live = count(&|r| r.ended_at.is_none()) as f64;
        assert!(count(&|r| r.status == "past_due" || r.status == "unpaid") as f64 / live < 0.05);
    }

    #[test]
    fn acquisition_grows_over_four_years() {
        let config = DemoConfig::default();
        let recs = records(&config);
        let first = recs.first().expect("rows").created;
        let limit = as_of(&config);
        assert!(limit - first > time::Duration::days(4 * 365 - 30));
        assert!(limit - first <= time::Duration::days(4 * 365 + 1));
        let signups_in = |year: i32| by_customer(&recs).values().filter(|v| v[0].created.year() == year).count();
        let (y1, y4) = (signups_in(2022), signups_in(2025));
        assert!(y4 > 2 * y1, "2022: {y1}, 2025: {y4}");
    }

    #[test]
    fn renewals_keep_the_anchor_day_clamped_to_the_month_end() {
        let t = days_from_civil(2024, 1, 31) * MINUTES_PER_DAY + 9 * 60 + 15;
        let anchor = Anchor::new(t);
        let day = |k: i64, step: i64| civil_from_days(anchor.boundary(k, step).div_euclid(1440));
        assert_eq!(day(1, 1), (2024, 2, 29));
        assert_eq!(day(2, 1), (2024, 3, 31));
        assert_eq!(day(3, 1), (2024, 4, 30));
        assert_eq!(day(13, 1), (2025, 2, 28));
        assert_eq!(anchor.boundary(5, 1).rem_euclid(1440), 9 * 60 + 15);
        let leap = Anchor::new(days_from_civil(2024, 2, 29) * MINUTES_PER_DAY);
        assert_eq!(civil_from_days(leap.boundary(1, 12) / 1440), (2025, 2, 28));
        assert_eq!(civil_from_days(leap.boundary(4, 12) / 1440), (2028, 2, 29));
        for probe in [t, t + 1, anchor.boundary(7, 1) - 1, anchor.boundary(7, 1)] {
            let k = anchor.period_index(probe, 1);
            assert!(anchor.boundary(k, 1) <= probe && probe < anchor.boundary(k + 1, 1));
        }
        for z in [-800_000, -1, 0, 59, 60, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        let mut buf = Vec::new();
        push_datetime(&mut buf, t);
        assert_eq!(buf, b"2024-01-31 09:15");
    }

    fn mean_var(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    const DRAWS: usize = 100_000;

    #[test]
    fn beta_draws_have_the_known_mean_and_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for (a, b) in [(0.6, 9.4), (0.63, 17.37), (1.8, 4.2), (2.0, 2.0), (0.5, 0.5)] {
            let xs: Vec<f64> = (0..DRAWS).map(|_| beta(&mut rng, a, b)).collect();
            assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
            let (mean, var) = mean_var(&xs);
            let m = a / (a + b);
            let v = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            // Five standard errors of the mean.
            assert!((mean - m).abs() < 5.0 * (v / DRAWS as f64).sqrt(), "{a},{b}: {mean}");
            assert!((var / v - 1.0).abs() < 0.05, "{a},{b}: var {var} vs {v}");
        }
    }

    #[test]
    fn gamma_draws_have_the_known_mean_and_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        for shape in [0.3, 0.6, 1.0, 1.8, 9.4, 40.0] {
            let xs: Vec<f64> = (0..DRAWS).map(|_| gamma(&mut rng, shape)).collect();
            assert!(xs.iter().all(|&x| x >= 0.0));
            let (mean, var) = mean_var(&xs);
            assert!((mean - shape).abs() < 5.0 * (shape / DRAWS as f64).sqrt(), "{shape}: {mean}");
            assert!((var / shape - 1.0).abs() < 0.06, "{shape}: var {var}");
        }
    }

    #[test]
    fn normal_exponential_and_uniform_draws_have_the_known_moments() {
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let xs: Vec<f64> = (0..DRAWS).map(|_| normal(&mut rng)).collect();
        let (mean, var) = mean_var(&xs);
        assert!(mean.abs() < 0.016 && (var - 1.0).abs() < 0.02, "{mean} {var}");
        let xs: Vec<f64> = (0..DRAWS).map(|_| exponential(&mut rng, 3.0)).collect();
        let (mean, var) = mean_var(&xs);
        assert!((mean - 3.0).abs() < 0.05 && (var / 9.0 - 1.0).abs() < 0.04, "{mean} {var}");
        let xs: Vec<f64> = (0..DRAWS).map(|_| uniform(&mut rng)).collect();
        let (mean, var) = mean_var(&xs);
        assert!((mean - 0.5).abs() < 0.005 && (var * 12.0 - 1.0).abs() < 0.02);
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let counts = (0..DRAWS).fold([0usize; 4], |mut c, _| {
            c[pick(&mut rng, &CHANNEL_MIX)] += 1;
            c
        });
        for (c, w) in counts.iter().zip(CHANNEL_MIX) {
            assert!((*c as f64 / DRAWS as f64 - w).abs() < 0.01, "{counts:?}");
        }
    }

    #[test]
    fn geometric_lifetimes_have_mean_one_over_theta() {
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        for theta in [0.02, 0.06, 0.25, 0.9] {
            let xs: Vec<f64> = (0..DRAWS).map(|_| geometric(&mut rng, theta, 1_000_000) as f64).collect();
            assert!(xs.iter().all(|&x| x >= 1.0));
            let (mean, _) = mean_var(&xs);
            let sd = ((1.0 - theta) / (theta * theta) / DRAWS as f64).sqrt();
            assert!((mean - 1.0 / theta).abs() < 5.0 * sd, "{theta}: {mean}");
        }
        assert_eq!(geometric(&mut rng, 1e-12, 30), 30);
        assert_eq!(geometric(&mut rng, 1.0, 30), 1);
    }

    #[test]
    fn signup_times_follow_the_curve_within_the_history() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let company = Company::new(DemoConfig::default().as_of, &mut rng);
        let mut last = i64::MIN;
        for i in 0..=1000 {
            let t = company.time_at(f64::from(i) / 1000.0);
            assert!(t >= last && t <= company.as_of);
            last = t;
        }
        assert_eq!(company.time_at(1.0), company.as_of);
        assert_eq!(company.time_at(0.0), company.knot_times[0]);
    }
}
