//! History: subscription records in, the business month by month out.
//!
//! For every calendar month (UTC) from the first trial or paid start to the as-of instant, and for
//! every segment: paid-active subscriptions and MRR at the end of the month, and the movements that
//! explain the change from the month before (new, reactivation, expansion, contraction, churn, and in
//! segment views moves between segments), plus trials started, converted and lost.
//!
//! The conventions, in one place:
//! - A subscription is paid-active at an instant if its paid start (trial end when there was a
//!   trial, else start) is before that instant and it has not ended before it. The state at the end
//!   of a month is the state just before the next month's first instant; for the as-of month, at the
//!   as-of instant (that month is partial unless the as-of is its last second).
//! - Nothing after the as-of instant has happened yet: later starts are left out, later scheduled
//!   ends leave the subscription active, later trial ends leave the trial running.
//! - Only subscriptions with a positive MRR are paid; `incomplete` and `incomplete_expired` ones
//!   never paid; `paused` ones count no MRR while paused: from the pause on when the export says when
//!   it began (the pause ends the paid span, as a churn), else (Stripe's paused trials, which ended
//!   without a payment method) at no time, their trial counting as lost. Scheduled subscriptions
//!   (Chargebee `Future`, Recurly `future`) have not started: they are counted as starting after the
//!   as-of, whatever it is.
//! - A plan switch: a subscription ends and the same customer's next subscription starts (is signed
//!   up for, trial or not) within seven days of that end, before or after it. The two are treated as
//!   one continuous subscription that changes price at the new subscription's paid start: an
//!   expansion or a contraction by the MRR difference, never a churn and a new subscription. In
//!   segment views a switch across segments is a move out of one segment and into the other.
//! - A customer who starts a subscription after an earlier one of theirs churned is a reactivation.
//! - A subscription's own MRR changes (`Subscription::mrr_changes`, from an invoices export) take
//!   effect at their instants within its paid span: an expansion or a contraction in its segment.
//!
//! These rules make the movements add up exactly, month after month:
//! `active = previous + new + reactivated - churned` and
//! `mrr = previous + new + reactivation + expansion - contraction - churned` in totals, with moves in
//! and out added in segment views.

use crate::fasthash::{for_each_repeated, FastMap};
use crate::import::values::{MonthIndex, SECONDS_PER_DAY};
use crate::import::{BillingInterval, Instant, IntervalUnit, MrrChange, Status, Subscription};
use crate::money::{Minor, MinorSum};

/// A new subscription within this long of the same customer's previous one ending is a plan switch.
pub const SWITCH_WINDOW_SECONDS: i64 = 7 * SECONDS_PER_DAY;

#[derive(Clone, Debug, Default)]
pub struct HistoryOptions {
    /// The instant the history runs to; by default the latest event the records show as happened.
    pub as_of: Option<Instant>,
}

/// Counts and money for one month, for one segment or for the whole business.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MonthFigures {
    pub active: u64,
    pub mrr: Minor,
    pub new: u64,
    pub new_mrr: Minor,
    pub reactivated: u64,
    pub reactivation_mrr: Minor,
    pub expanded: u64,
    pub expansion_mrr: Minor,
    pub contracted: u64,
    pub contraction_mrr: Minor,
    pub churned: u64,
    pub churned_mrr: Minor,
    /// Plan switches into this segment from another (segment views only).
    pub moved_in: u64,
    pub moved_in_mrr: Minor,
    /// Plan switches out of this segment into another (segment views only).
    pub moved_out: u64,
    pub moved_out_mrr: Minor,
    pub trials_started: u64,
    pub trials_converted: u64,
    pub trials_lost: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthHistory {
    pub month: MonthIndex,
    /// The data does not cover this month to its end.
    pub partial: bool,
    pub total: MonthFigures,
    /// Indexed like [`History::segments`].
    pub by_segment: Vec<MonthFigures>,
}

/// What happened to the records that do not feed the paid history, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordCounts {
    pub subscriptions: u64,
    /// Subscriptions that were paid-active at some point up to the as-of.
    pub paid: u64,
    /// `incomplete` or `incomplete_expired`: never paid.
    pub never_paid: u64,
    /// `paused`: no MRR while paused.
    pub paused: u64,
    /// A price of zero (or zero quantity): not a paid subscription.
    pub free: u64,
    /// Trials still running at the as-of.
    pub trialing: u64,
    /// Starting after the as-of: not part of this history.
    pub after_as_of: u64,
    pub plan_switches: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    pub as_of: Instant,
    /// The as-of was derived from the data rather than given.
    pub as_of_derived: bool,
    /// Segment names (`Pro (month)`), sorted.
    pub segments: Vec<String>,
    pub months: Vec<MonthHistory>,
    pub counts: RecordCounts,
}

/// The part of a subscription during which it was paid-active.
struct Span<'a> {
    /// The subscription's index in the records.
    source: usize,
    /// It began with a trial (its paid start is the trial's end).
    had_trial: bool,
    segment: usize,
    /// When the subscription was started (its trial's start, if it had one).
    signup: Instant,
    /// The paid start.
    start: Instant,
    /// When it ended, if it ended by the as-of.
    end: Option<Instant>,
    /// The MRR at the paid start.
    mrr: Minor,
    /// Later MRR changes within the subscription, in time order (from an invoices export).
    changes: &'a [MrrChange],
    /// The MRR when the span ends or switches: after the changes before that.
    final_mrr: Minor,
    predecessor: Option<usize>,
    successor: Option<usize>,
    /// The customer had churned before this span started: a reactivation, unless a switch.
    returning: bool,
}

enum TrialOutcome {
    Converted,
    Lost,
}

pub fn segment_name(subscription: &Subscription) -> String {
    let name = subscription.segment.as_deref().unwrap_or(&subscription.product);
    format!("{name} ({})", subscription.interval.label())
}

/// The latest instant at which the records show something as having happened.
pub fn derive_as_of(subscriptions: &[Subscription]) -> Option<Instant> {
    subscriptions.iter().flat_map(Subscription::happened_instants).max()
}

/// Rebuilds the history. `None` when there is nothing to build it from (no subscriptions).
pub fn build(subscriptions: &[Subscription], options: &HistoryOptions) -> Option<History> {
    let (as_of, as_of_derived) = match options.as_of {
        Some(as_of) => (as_of, false),
        None => (derive_as_of(subscriptions)?, true),
    };
    let Linked { mut spans, trial_events, segments, intervals: _, counts } = link(subscriptions, as_of);
    settle_final_mrr(&mut spans, as_of);

    let first_instant = spans.iter().map(|s| s.start).chain(trial_events.iter().map(|e| e.0)).min();
    let Some(first_instant) = first_instant else {
        return Some(History { as_of, as_of_derived, segments, months: Vec::new(), counts });
    };
    let first = MonthIndex::of(first_instant);
    let last = MonthIndex::of(as_of);
    let month_count = (last.0 - first.0 + 1).max(0) as usize;
    let slot = |instant: Instant| (MonthIndex::of(instant).0 - first.0).clamp(0, month_count as i32 - 1) as usize;

    let segment_count = segments.len();
    let mut months: Vec<MonthHistory> = (0..month_count)
        .map(|i| {
            let month = MonthIndex(first.0 + i as i32);
            MonthHistory {
                month,
                partial: month == last && as_of < last.end() - 1,
                total: MonthFigures::default(),
                by_segment: vec![MonthFigures::default(); segment_count],
            }
        })
        .collect();

    // Active counts and MRR accumulate from per-month deltas. Money is summed per month and segment
    // with `MinorSum` (a million exact additions), and read once per month and segment below.
    let mut active_delta = vec![vec![0i64; segment_count]; month_count];
    let mut sums = vec![MonthSums::new(segment_count); month_count];

    for (index, span) in spans.iter().enumerate() {
        let start_slot = slot(span.start);
        active_delta[start_slot][span.segment] += 1;
        sums[start_slot].by_segment[span.segment].mrr_delta.add(span.mrr);
        let mut current = span.mrr;
        for &(at, mrr) in changes_in_force(&spans, index, as_of) {
            let change_slot = slot(at);
            sums[change_slot].by_segment[span.segment].mrr_delta.add(mrr - current);
            record_change(&mut months[change_slot], &mut sums[change_slot], span.segment, mrr - current);
            current = mrr;
        }
        match span.successor {
            Some(next) => {
                let next = &spans[next];
                let switch_slot = slot(next.start);
                active_delta[switch_slot][span.segment] -= 1;
                sums[switch_slot].by_segment[span.segment].mrr_delta.sub(span.final_mrr);
                record_switch(&mut months[switch_slot], &mut sums[switch_slot], span, next);
            }
            None => {
                if let Some(end) = span.end {
                    let end_slot = slot(end);
                    active_delta[end_slot][span.segment] -= 1;
                    let money = &mut sums[end_slot].by_segment[span.segment];
                    money.mrr_delta.sub(span.final_mrr);
                    money.churned.add(span.final_mrr);
                    months[end_slot].by_segment[span.segment].churned += 1;
                }
            }
        }
        if span.predecessor.is_none() {
            let figures = &mut months[start_slot].by_segment[span.segment];
            let money = &mut sums[start_slot].by_segment[span.segment];
            if span.returning {
                figures.reactivated += 1;
                money.reactivation.add(span.mrr);
            } else {
                figures.new += 1;
                money.new.add(span.mrr);
            }
        }
    }
    for (instant, segment, outcome) in &trial_events {
        let figures = &mut months[slot(*instant)].by_segment[*segment];
        match outcome {
            None => figures.trials_started += 1,
            Some(TrialOutcome::Converted) => figures.trials_converted += 1,
            Some(TrialOutcome::Lost) => figures.trials_lost += 1,
        }
    }

    let mut active = vec![0i64; segment_count];
    let mut mrr = vec![Minor::ZERO; segment_count];
    for (index, month) in months.iter_mut().enumerate() {
        let month_sums = &sums[index];
        for segment in 0..segment_count {
            let money = &month_sums.by_segment[segment];
            active[segment] += active_delta[index][segment];
            mrr[segment] += money.mrr_delta.total();
            let figures = &mut month.by_segment[segment];
            figures.active = active[segment].max(0) as u64;
            figures.mrr = mrr[segment];
            figures.new_mrr = money.new.total();
            figures.reactivation_mrr = money.reactivation.total();
            figures.expansion_mrr = money.expansion.total();
            figures.contraction_mrr = money.contraction.total();
            figures.churned_mrr = money.churned.total();
            figures.moved_in_mrr = money.moved_in.total();
            figures.moved_out_mrr = money.moved_out.total();
        }
        month.total.expansion_mrr = month_sums.total_expansion.total();
        month.total.contraction_mrr = month_sums.total_contraction.total();
        let total = &mut month.total;
        for figures in &month.by_segment {
            total.active += figures.active;
            total.mrr += figures.mrr;
            total.new += figures.new;
            total.new_mrr += figures.new_mrr;
            total.reactivated += figures.reactivated;
            total.reactivation_mrr += figures.reactivation_mrr;
            total.churned += figures.churned;
            total.churned_mrr += figures.churned_mrr;
            total.trials_started += figures.trials_started;
            total.trials_converted += figures.trials_converted;
            total.trials_lost += figures.trials_lost;
        }
    }
    Some(History { as_of, as_of_derived, segments, months, counts })
}

/// How a paid span stands at the as-of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanEnding {
    /// Still paid-active at the as-of.
    Ongoing,
    /// Ended with no switch to another subscription: paid churn.
    Churned(Instant),
    /// Continued by a plan switch into the customer's next subscription, in the same segment, which
    /// starts being paid at this instant.
    Switched(Instant),
    /// Continued by a plan switch into a subscription of another segment, which starts being paid at
    /// this instant: the customer stays, but leaves this segment.
    MovedOut(Instant),
}

/// One subscription's paid span, as the history counts it: what the models count renewals and
/// arrivals on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidSpan {
    /// The subscription's index in the records given to [`paid_spans`].
    pub subscription: usize,
    /// Indexed like [`PaidSpans::segments`].
    pub segment: usize,
    /// When the subscription was signed up for (its trial's start, if it had one).
    pub signup: Instant,
    /// The paid start: the trial's end, or the start without a trial.
    pub start: Instant,
    pub ending: SpanEnding,
    pub had_trial: bool,
    /// It ended because renewal payments failed (as the export says): the renewal it failed is the
    /// last one before its end, which came after the retries.
    pub payment_failed: bool,
    /// It continues another subscription of the customer's through a plan switch.
    pub switched_in: bool,
    /// That switch came from another segment: for this segment, an arrival.
    pub moved_in: bool,
    /// The customer had churned before: a reactivation (unless `switched_in`).
    pub returning: bool,
    /// MRR at the paid start, and at the end (or now), after the changes within the span.
    pub mrr: Minor,
    pub final_mrr: Minor,
}

/// What [`paid_spans`] finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaidSpans {
    pub as_of: Instant,
    /// Segment names, sorted, as the history names them.
    pub segments: Vec<String>,
    /// Each segment's billing interval.
    pub intervals: Vec<BillingInterval>,
    pub spans: Vec<PaidSpan>,
    /// Trials: (instant, segment, event), in no particular order.
    pub trials: Vec<(Instant, usize, TrialEvent)>,
}

/// Something that happened to a trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrialEvent {
    Started,
    Converted,
    Lost,
}

/// The paid spans of the subscriptions up to `as_of`, by the history's conventions (the module's
/// documentation): the same spans, switches and returns that [`build`] adds up.
pub fn paid_spans(subscriptions: &[Subscription], as_of: Instant) -> PaidSpans {
    let Linked { mut spans, trial_events, segments, intervals, counts: _ } = link(subscriptions, as_of);
    settle_final_mrr(&mut spans, as_of);
    let public = spans
        .iter()
        .map(|span| PaidSpan {
            subscription: span.source,
            segment: span.segment,
            signup: span.signup,
            start: span.start,
            ending: match (span.successor, span.end) {
                (Some(next), _) if spans[next].segment != span.segment => SpanEnding::MovedOut(spans[next].start),
                (Some(next), _) => SpanEnding::Switched(spans[next].start),
                (None, Some(end)) => SpanEnding::Churned(end),
                (None, None) => SpanEnding::Ongoing,
            },
            had_trial: span.had_trial,
            payment_failed: subscriptions[span.source].payment_failed,
            switched_in: span.predecessor.is_some(),
            moved_in: span.predecessor.is_some_and(|previous| spans[previous].segment != span.segment),
            returning: span.returning,
            mrr: span.mrr,
            final_mrr: span.final_mrr,
        })
        .collect();
    let trials = trial_events
        .into_iter()
        .map(|(at, segment, outcome)| {
            let event = match outcome {
                None => TrialEvent::Started,
                Some(TrialOutcome::Converted) => TrialEvent::Converted,
                Some(TrialOutcome::Lost) => TrialEvent::Lost,
            };
            (at, segment, event)
        })
        .collect();
    PaidSpans { as_of, segments, intervals, spans: public, trials }
}

/// The subscriptions' paid spans as of an instant, linked into plan switches and returns, with the
/// trial events and the record counts: what the history adds up, and what the models count renewals
/// on ([`paid_spans`]).
struct Linked<'a> {
    spans: Vec<Span<'a>>,
    /// (instant, segment, outcome): trial starts carry `None`.
    trial_events: Vec<(Instant, usize, Option<TrialOutcome>)>,
    segments: Vec<String>,
    /// Each segment's billing interval, indexed like `segments`.
    intervals: Vec<BillingInterval>,
    counts: RecordCounts,
}

fn link(subscriptions: &[Subscription], as_of: Instant) -> Linked<'_> {
    let mut counts = RecordCounts { subscriptions: subscriptions.len() as u64, ..RecordCounts::default() };
    let mut spans: Vec<Span> = Vec::with_capacity(subscriptions.len());
    let mut span_customers: Vec<&str> = Vec::with_capacity(subscriptions.len());
    // (instant, segment, outcome): trial starts carry `None`.
    let mut trial_events: Vec<(Instant, usize, Option<TrialOutcome>)> = Vec::new();
    // Segments are numbered as they come, and renumbered in name order after the loop.
    let mut segment_keys = SegmentKeys::default();

    for (source, subscription) in subscriptions.iter().enumerate() {
        let segment = segment_keys.number(subscription);
        if subscription.start > as_of || subscription.status == Status::Scheduled {
            counts.after_as_of += 1;
            continue;
        }
        if subscription.status.never_paid() {
            counts.never_paid += 1;
            continue;
        }
        if subscription.mrr.is_zero() && subscription.mrr_changes.is_empty() {
            counts.free += 1;
            continue;
        }
        // Paused with no date for the pause: no MRR at any time.
        let paused_throughout = subscription.status == Status::Paused && subscription.paused_at.is_none();
        if subscription.status == Status::Paused {
            counts.paused += 1;
        }
        let end = effective_end(subscription).filter(|&end| end <= as_of);
        let trial_end = subscription.trial_end.filter(|&t| t > subscription.start);
        if let Some(trial_end) = trial_end {
            let started = subscription.trial_start.unwrap_or(subscription.start).min(subscription.start);
            trial_events.push((started, segment, None));
            match end {
                Some(end) if end <= trial_end => trial_events.push((end, segment, Some(TrialOutcome::Lost))),
                _ if trial_end > as_of => counts.trialing += 1,
                _ if paused_throughout => trial_events.push((trial_end, segment, Some(TrialOutcome::Lost))),
                _ => trial_events.push((trial_end, segment, Some(TrialOutcome::Converted))),
            }
        }
        if paused_throughout {
            continue;
        }
        let paid_start = trial_end.unwrap_or(subscription.start);
        if paid_start > as_of || end.is_some_and(|end| end <= paid_start) {
            continue;
        }
        span_customers.push(&subscription.customer);
        spans.push(Span {
            source,
            had_trial: trial_end.is_some(),
            segment,
            signup: subscription.start,
            start: paid_start,
            end,
            mrr: subscription.mrr,
            changes: &subscription.mrr_changes,
            final_mrr: subscription.mrr,
            predecessor: None,
            successor: None,
            returning: false,
        });
    }
    let (segments, intervals, renumbered) = segment_keys.names();
    for span in &mut spans {
        span.segment = renumbered[span.segment];
    }
    for event in &mut trial_events {
        event.1 = renumbered[event.1];
    }
    counts.paid = spans.len() as u64;
    link_plan_switches(&mut spans, &span_customers);
    drop(span_customers);
    counts.plan_switches = spans.iter().filter(|s| s.successor.is_some()).count() as u64;
    Linked { spans, trial_events, segments, intervals, counts }
}

/// Segments as subscriptions name them (product and interval), numbered in order of appearance: a
/// name is made once per segment, not once per subscription.
#[derive(Default)]
struct SegmentKeys<'a> {
    numbers: FastMap<(&'a str, BillingInterval), usize>,
}

impl<'a> SegmentKeys<'a> {
    fn number(&mut self, subscription: &'a Subscription) -> usize {
        let next = self.numbers.len();
        let name = subscription.segment.as_deref().unwrap_or(&subscription.product);
        *self.numbers.entry((name, subscription.interval)).or_insert(next)
    }

    /// The names, sorted (as [`segment_name`] writes them), each name's billing interval, and for each
    /// number its name's index.
    fn names(self) -> (Vec<String>, Vec<BillingInterval>, Vec<usize>) {
        let mut by_number =
            vec![(String::new(), BillingInterval { unit: IntervalUnit::Month, count: 1 }); self.numbers.len()];
        for ((product, interval), number) in self.numbers {
            by_number[number] = (format!("{product} ({})", interval.label()), interval);
        }
        let mut named = by_number.clone();
        named.sort();
        named.dedup_by(|a, b| a.0 == b.0);
        let renumbered =
            by_number.iter().map(|(name, _)| named.binary_search_by(|n| n.0.cmp(name)).unwrap_or(0)).collect();
        let (names, intervals) = named.into_iter().unzip();
        (names, intervals, renumbered)
    }
}

/// The money of one month and segment, summed exactly as spans are visited.
#[derive(Clone, Default)]
struct MoneySums {
    mrr_delta: MinorSum,
    new: MinorSum,
    reactivation: MinorSum,
    expansion: MinorSum,
    contraction: MinorSum,
    churned: MinorSum,
    moved_in: MinorSum,
    moved_out: MinorSum,
}

#[derive(Clone)]
struct MonthSums {
    by_segment: Vec<MoneySums>,
    total_expansion: MinorSum,
    total_contraction: MinorSum,
}

impl MonthSums {
    fn new(segment_count: usize) -> MonthSums {
        MonthSums {
            by_segment: vec![MoneySums::default(); segment_count],
            total_expansion: MinorSum::default(),
            total_contraction: MinorSum::default(),
        }
    }
}

/// When a subscription ends (or is scheduled to), by the export's own rules: its recorded end, or
/// for a live one set to cancel at period end, that period's end; for a paused one whose pause date
/// is known, the pause, if earlier.
pub(crate) fn effective_end(subscription: &Subscription) -> Option<Instant> {
    let end = subscription.ended_at.or_else(|| {
        if subscription.cancel_at_period_end && subscription.status != Status::Canceled {
            subscription.current_period_end
        } else {
            None
        }
    });
    match (end, subscription.paused_at.filter(|_| subscription.status == Status::Paused)) {
        (Some(end), Some(paused)) => Some(end.min(paused)),
        (end, paused) => end.or(paused),
    }
}

/// Links each span to the same customer's span it switched from: the one that ended closest to the
/// new subscription's start (its signup: a switch onto a plan with a trial is still a switch), within
/// the switch window, that started before it and has no other successor yet. Then marks the spans
/// that return after one of the customer's subscriptions churned (ended with no switch to another).
/// `customers[i]` is the customer of `spans[i]`. Each customer's spans are handled on their own:
/// nothing links across customers, and a customer with one span has neither switch nor return.
fn link_plan_switches(spans: &mut [Span], customers: &[&str]) {
    for_each_repeated(
        spans.len(),
        |i| customers[i].as_bytes(),
        |members| {
            let mut group: Vec<usize> = members.iter().map(|&i| i as usize).collect();
            group.sort_by_key(|&i| (spans[i].signup, i));
            // Ended spans by end time, for a window search.
            let mut ended: Vec<(Instant, usize)> = group.iter().filter_map(|&i| spans[i].end.map(|e| (e, i))).collect();
            ended.sort_unstable();
            for &next in &group {
                let (signup, start) = (spans[next].signup, spans[next].start);
                let from = ended.partition_point(|&(end, _)| end < signup - SWITCH_WINDOW_SECONDS);
                let best = ended[from..]
                    .iter()
                    .take_while(|&&(end, _)| end <= signup + SWITCH_WINDOW_SECONDS)
                    .filter(|&&(_, previous)| {
                        let earlier = &spans[previous];
                        previous != next
                            && earlier.signup < signup
                            && earlier.start < start
                            && earlier.successor.is_none()
                    })
                    .min_by_key(|&&(end, previous)| ((end - signup).abs(), previous))
                    .map(|&(_, previous)| previous);
                if let Some(previous) = best {
                    spans[previous].successor = Some(next);
                    spans[next].predecessor = Some(previous);
                }
            }
            // The customer's earliest churn; a span that starts at or after it is a reactivation.
            let churned = group.iter().filter(|&&i| spans[i].successor.is_none()).filter_map(|&i| spans[i].end).min();
            if let Some(churned) = churned {
                for &i in &group {
                    spans[i].returning = churned <= spans[i].start;
                }
            }
        },
    );
}

/// The MRR changes of `spans[index]` that take effect: after its paid start, by the as-of, and
/// before it ends or switches to its successor.
fn changes_in_force<'a>(spans: &[Span<'a>], index: usize, as_of: Instant) -> &'a [MrrChange] {
    let span = &spans[index];
    let stop = match span.successor {
        Some(next) => Some(spans[next].start),
        None => span.end,
    };
    let first = span.changes.partition_point(|&(at, _)| at <= span.start);
    let last = span.changes.partition_point(|&(at, _)| at <= as_of && stop.is_none_or(|stop| at < stop));
    &span.changes[first..last.max(first)]
}

/// Sets each span's MRR at its end or switch: the last change in force, else its starting MRR.
fn settle_final_mrr(spans: &mut [Span<'_>], as_of: Instant) {
    for index in 0..spans.len() {
        let last = changes_in_force(spans, index, as_of).last().map(|&(_, mrr)| mrr);
        spans[index].final_mrr = last.unwrap_or(spans[index].mrr);
    }
}

/// A change of MRR within one segment (a subscription's own, from its invoices, or a plan switch that
/// stays in the segment): an expansion or a contraction, in the segment and in the totals.
fn record_change(month: &mut MonthHistory, sums: &mut MonthSums, segment: usize, difference: Minor) {
    if difference.is_negative() {
        month.total.contracted += 1;
        sums.total_contraction.sub(difference);
        month.by_segment[segment].contracted += 1;
        sums.by_segment[segment].contraction.sub(difference);
    } else if !difference.is_zero() {
        month.total.expanded += 1;
        sums.total_expansion.add(difference);
        month.by_segment[segment].expanded += 1;
        sums.by_segment[segment].expansion.add(difference);
    }
}

fn record_switch(month: &mut MonthHistory, sums: &mut MonthSums, from: &Span, to: &Span) {
    let difference = to.mrr - from.final_mrr;
    if from.segment == to.segment {
        record_change(month, sums, from.segment, difference);
        return;
    }
    // Across segments, the totals see a change of price; the segments see a move out and a move in.
    if difference.is_negative() {
        month.total.contracted += 1;
        sums.total_contraction.sub(difference);
    } else if !difference.is_zero() {
        month.total.expanded += 1;
        sums.total_expansion.add(difference);
    }
    month.by_segment[from.segment].moved_out += 1;
    sums.by_segment[from.segment].moved_out.add(from.final_mrr);
    month.by_segment[to.segment].moved_in += 1;
    sums.by_segment[to.segment].moved_in.add(to.mrr);
}
