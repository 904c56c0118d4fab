//! Charts: plotters drawings of a [`HistoryReport`], of a fitted segment's retention
//! ([`SegmentFitReport`]), of the backtest, and of a simulation ([`SimulationReport`]: fan charts of
//! the baseline and each scenario, histograms of the per-path differences, a scenario's tornado),
//! generic over the drawing backend.
//!
//! The page draws them on a canvas (plotters-canvas, on the main thread: plotters needs `window` to
//! lay out text, which a worker lacks); tests draw them to SVG. The charts read only the reports, so
//! they show exactly the numbers the tables and the command show.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::backtest::{BacktestMonth, BacktestReport};
use crate::import::{BillingInterval, IntervalUnit};
use crate::money::Currency;
use crate::report::fit::SegmentFitReport;
use crate::report::simulate::{ScenarioReport, Sensitivity, SimulationReport, TotalReport};
use crate::report::HistoryReport;
use crate::sim::Histogram;

/// What a history chart plots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryMetric {
    /// Monthly recurring revenue, stacked by segment.
    Mrr,
    /// Paid-active subscriptions, stacked by segment.
    Subscribers,
}

impl HistoryMetric {
    pub fn parse(name: &str) -> Option<HistoryMetric> {
        match name {
            "mrr" => Some(HistoryMetric::Mrr),
            "subscribers" => Some(HistoryMetric::Subscribers),
            _ => None,
        }
    }
}

/// Segment colours: distinct, readable on white, in a fixed order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The segments in drawing order (largest MRR at the as-of at the bottom of the stack) with their
/// colours, so a legend elsewhere can match the chart.
pub fn segment_order(report: &HistoryReport) -> Vec<(String, RGBColor)> {
    let mut names: Vec<&String> = report.segments.iter().collect();
    if let Some(last) = report.months.last() {
        let mrr = |name: &String| last.by_segment.get(name).map(|f| f.mrr).unwrap_or(0.0);
        names.sort_by(|a, b| mrr(b).total_cmp(&mrr(a)).then(a.cmp(b)));
    }
    names.into_iter().enumerate().map(|(i, name)| (name.clone(), PALETTE[i % PALETTE.len()])).collect()
}

/// Draws one history chart filling `area`.
pub fn draw_history<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &HistoryReport,
    metric: HistoryMetric,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(error)?;
    let months = &report.months;
    if months.is_empty() {
        return Ok(());
    }
    let currency = Currency::from_code(&report.currency);
    let value = |figures: &crate::report::FiguresReport| match metric {
        HistoryMetric::Mrr => figures.mrr,
        HistoryMetric::Subscribers => figures.active as f64,
    };
    let order = segment_order(report);
    // Cumulative sums from the bottom segment up: stacks[k][i] is the top of segment k in month i.
    let mut stacks: Vec<Vec<f64>> = Vec::with_capacity(order.len());
    let mut running = vec![0.0; months.len()];
    for (name, _) in &order {
        for (i, month) in months.iter().enumerate() {
            running[i] += month.by_segment.get(name).map(value).unwrap_or(0.0);
        }
        stacks.push(running.clone());
    }
    let top = running.iter().copied().fold(0.0, f64::max);
    let y_max = if top > 0.0 { top * 1.08 } else { 1.0 };
    let last_index = months.len() as i32 - 1;

    let (title, y_desc) = match metric {
        HistoryMetric::Mrr => ("MRR by segment".to_owned(), format!("MRR ({})", report.currency.to_uppercase())),
        HistoryMetric::Subscribers => ("Paid subscribers by segment".to_owned(), "paid subscribers".to_owned()),
    };
    let partial = months.last().is_some_and(|m| m.partial);
    let x_desc = if partial { "month (the last one is partial)" } else { "month" };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(0i32..last_index.max(1), 0f64..y_max)
        .map_err(error)?;
    let month_label = |index: &i32| months.get(*index as usize).map(|m| m.month.clone()).unwrap_or_default();
    let y_label = |y: &f64| match (metric, &currency) {
        (HistoryMetric::Mrr, Some(currency)) => currency.format_compact(*y),
        _ => format_count(*y),
    };
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&month_label)
        .y_label_formatter(&y_label)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(error)?;

    // Top of the stack first, each area down to zero, so the lower ones paint over the upper ones.
    for (k, (_, colour)) in order.iter().enumerate().rev() {
        let points: Vec<(i32, f64)> = stacks[k].iter().enumerate().map(|(i, v)| (i as i32, *v)).collect();
        chart
            .draw_series(AreaSeries::new(points, 0.0, colour.filled()).border_style(WHITE.stroke_width(1)))
            .map_err(error)?;
    }
    let (left, top) = chart.plotting_area().get_base_pixel();
    // The legend lists the top of the stack first, as the chart shows it.
    let entries: Vec<(String, Swatch)> =
        order.iter().rev().map(|(name, colour)| (name.clone(), Swatch::Area(*colour))).collect();
    draw_legend(area, &entries, (left + 10, top + 10)).map_err(error)?;
    area.present().map_err(error)?;
    Ok(())
}

/// The fitted retention curve: the twin's colour.
pub const FITTED_COLOUR: RGBColor = PALETTE[0];
/// Kaplan-Meier, what was observed: ink.
pub const OBSERVED_COLOUR: RGBColor = RGBColor(29, 35, 48);
/// The 95% band around Kaplan-Meier: grey, see-through.
pub const BAND_COLOUR: RGBColor = RGBColor(127, 127, 127);
const BAND_OPACITY: f64 = 0.3;

/// Draws one segment's retention filling `area`: the share still subscribed after each renewal of
/// the segment's interval, as the twin's fitted curve (solid over the observed renewals, dashed
/// beyond them) and as Kaplan-Meier steps with their 95% band.
pub fn draw_retention<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    segment: &SegmentFitReport,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&WHITE).map_err(error)?;
    let observed = segment.kaplan_meier.iter().map(|row| row.t).max().unwrap_or(0);
    let last = (segment.survival.len() as u32).max(observed).max(1) as i32;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Retention of {}", segment.name), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0i32..last, 0f64..1.04)
        .map_err(error)?;
    let percent = |y: &f64| format!("{:.0}%", 100.0 * y);
    chart
        .configure_mesh()
        .x_labels(12)
        .y_labels(6)
        .y_label_formatter(&percent)
        .x_desc(renewal_axis(&segment.interval))
        .y_desc("still subscribed")
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(error)?;

    // A report read back from JSON holds NaN where a number could not be written: such points are
    // left out rather than drawn somewhere.
    let rows: Vec<_> = segment
        .kaplan_meier
        .iter()
        .filter(|row| row.survival.is_finite() && row.lower.is_finite() && row.upper.is_finite())
        .collect();
    if !rows.is_empty() {
        let upper = steps(rows.iter().map(|row| (row.t as i32, row.upper)));
        let lower = steps(rows.iter().map(|row| (row.t as i32, row.lower)));
        let band: Vec<(i32, f64)> = upper.into_iter().chain(lower.into_iter().rev()).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, BAND_COLOUR.mix(BAND_OPACITY).filled())))
            .map_err(error)?;
        let observed_steps = steps(rows.iter().map(|row| (row.t as i32, row.survival)));
        chart.draw_series(LineSeries::new(observed_steps, OBSERVED_COLOUR.stroke_width(2))).map_err(error)?;
    }
    let fitted: Vec<(i32, f64)> = std::iter::once((0, 1.0))
        .chain(segment.survival.iter().enumerate().map(|(i, s)| (i as i32 + 1, *s)))
        .take_while(|(_, s)| s.is_finite())
        .collect();
    if fitted.len() > 1 {
        let split = (observed as usize).min(fitted.len() - 1);
        if split > 0 {
            chart
                .draw_series(LineSeries::new(fitted[..=split].to_vec(), FITTED_COLOUR.stroke_width(3)))
                .map_err(error)?;
        }
        if split < fitted.len() - 1 {
            chart
                .draw_series(DashedLineSeries::new(fitted[split..].to_vec(), 8, 6, FITTED_COLOUR.stroke_width(3)))
                .map_err(error)?;
        }
    }

    let entries = [
        ("the twin's fitted curve (dashed beyond the data)".to_owned(), Swatch::Line(FITTED_COLOUR)),
        ("observed (Kaplan–Meier)".to_owned(), Swatch::Line(OBSERVED_COLOUR)),
        ("95% band of the observed".to_owned(), Swatch::Band(BAND_COLOUR)),
    ];
    // Upper right: the curves fall from the upper left, so that corner stays clear.
    let (width, _) = legend_size(area, &entries).map_err(error)?;
    let plot = chart.plotting_area();
    let (plot_right, plot_top) = (plot.get_base_pixel().0 + plot.dim_in_pixel().0 as i32, plot.get_base_pixel().1);
    draw_legend(area, &entries, (plot_right - width - 10, plot_top + 10)).map_err(error)?;
    area.present().map_err(error)?;
    Ok(())
}

/// The backtest of one series (`total` or a segment's name): what really happened, month by month,
/// as a line, and each cutoff's forecast as its median line over its shaded 10-90% band, MRR in
/// `currency`. Nothing to draw (no such series) is an error.
pub fn draw_backtest<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    backtest: &BacktestReport,
    series: &str,
    currency: &Currency,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let months: Vec<&BacktestMonth> =
        backtest.months.iter().filter(|m| m.series == series && m.actual.mrr.is_finite()).collect();
    if months.is_empty() {
        return Err(format!("the backtest has no series `{series}`"));
    }
    // Months on the x axis as offsets from the first cutoff; labels are `YYYY-MM`.
    let index = |label: &str| crate::report::month_of(label).map(|m| m.0).unwrap_or(0);
    let first = backtest.cutoffs.iter().map(|c| index(c)).min().unwrap_or(0);
    let last = months.iter().map(|m| index(&m.month)).max().unwrap_or(first) - first;
    let top =
        months.iter().flat_map(|m| [m.actual.mrr, m.mrr_band[2]]).filter(|v| v.is_finite()).fold(0.0f64, f64::max)
            * 1.08;
    area.fill(&WHITE).map_err(error)?;
    let title = if series == crate::backtest::TOTAL { "all segments".to_owned() } else { series.to_owned() };
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Backtest: MRR of {title}"), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(76)
        .build_cartesian_2d(0i32..last.max(1), 0f64..top.max(1.0))
        .map_err(error)?;
    let month_label = |x: &i32| crate::import::values::MonthIndex(first + x).label();
    let money = |y: &f64| currency.format_compact(*y);
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&month_label)
        .y_label_formatter(&money)
        .y_desc("MRR at the month's end")
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(error)?;
    for (number, cutoff) in backtest.cutoffs.iter().enumerate() {
        let forecast: Vec<&&BacktestMonth> = months.iter().filter(|m| &m.cutoff == cutoff).collect();
        let x = |m: &BacktestMonth| index(&m.month) - first;
        let colour = PALETTE[number % PALETTE.len()];
        let upper = forecast.iter().map(|m| (x(m), m.mrr_band[2]));
        let lower: Vec<(i32, f64)> = forecast.iter().map(|m| (x(m), m.mrr_band[0])).collect();
        let band: Vec<(i32, f64)> = upper.chain(lower.into_iter().rev()).filter(|p| p.1.is_finite()).collect();
        chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.22).filled()))).map_err(error)?;
        let median = forecast.iter().map(|m| (x(m), m.mrr_band[1])).filter(|p| p.1.is_finite());
        chart.draw_series(LineSeries::new(median, colour.stroke_width(2))).map_err(error)?;
    }
    // What happened: each month once (every cutoff compares with the same value).
    let mut actual: Vec<(i32, f64)> = months.iter().map(|m| (index(&m.month) - first, m.actual.mrr)).collect();
    actual.sort_by_key(|p| p.0);
    actual.dedup_by_key(|p| p.0);
    chart.draw_series(LineSeries::new(actual, OBSERVED_COLOUR.stroke_width(3))).map_err(error)?;
    let entries = [
        ("what happened".to_owned(), Swatch::Line(OBSERVED_COLOUR)),
        ("the twin's median from each cutoff".to_owned(), Swatch::Line(PALETTE[0])),
        ("its 10-90% band".to_owned(), Swatch::Band(PALETTE[0])),
    ];
    let plot = chart.plotting_area();
    let (plot_left, plot_top) = plot.get_base_pixel();
    draw_legend(area, &entries, (plot_left + 10, plot_top + 10)).map_err(error)?;
    area.present().map_err(error)?;
    Ok(())
}

/// The x axis of a retention chart: renewals of the segment's interval, named by the interval.
fn renewal_axis(interval: &str) -> String {
    match BillingInterval::from_label(interval) {
        Some(BillingInterval { unit, count: 1 }) => {
            let unit = match unit {
                IntervalUnit::Day => "days",
                IntervalUnit::Week => "weeks",
                IntervalUnit::Month => "months",
                IntervalUnit::Year => "years",
            };
            format!("{unit} since starting")
        }
        _ => format!("renewals (every {interval})"),
    }
}

/// A step function through `(t, value)` points, from 100% at 0: flat until each `t`, then down
/// (or up) to its value.
fn steps(points: impl Iterator<Item = (i32, f64)>) -> Vec<(i32, f64)> {
    let mut out = vec![(0, 1.0)];
    let mut previous = 1.0;
    for (t, value) in points {
        out.push((t, previous));
        out.push((t, value));
        previous = value;
    }
    out
}

/// What a legend entry's swatch shows.
#[derive(Clone, Copy, Debug)]
enum Swatch {
    /// A filled area of this colour (a stacked segment).
    Area(RGBColor),
    /// A line of this colour.
    Line(RGBColor),
    /// A see-through band of this colour.
    Band(RGBColor),
}

const LEGEND_ROW_HEIGHT: i32 = 18;

fn legend_font() -> TextStyle<'static> {
    ("sans-serif", 13).into_font().into()
}

/// The legend box's width and height in pixels.
fn legend_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Swatch)],
) -> Result<(i32, i32), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = legend_font();
    let mut text_width = 0;
    for (name, _) in entries {
        text_width = text_width.max(area.estimate_text_size(name, &font)?.0 as i32);
    }
    Ok((text_width + 34, LEGEND_ROW_HEIGHT * entries.len() as i32 + 8))
}

/// A legend box with its upper left corner at `(x, y)`: a swatch and a name per entry, in order.
///
/// plotters' own series labels measure text through a path that, in the browser, adds an inline
/// `style` attribute to the page; this one measures through the backend only.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, Swatch)],
    (x, y): (i32, i32),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = legend_font();
    let (width, height) = legend_size(area, entries)?;
    area.draw(&Rectangle::new([(x, y), (x + width, y + height)], WHITE.mix(0.85).filled()))?;
    area.draw(&Rectangle::new([(x, y), (x + width, y + height)], BLACK.mix(0.3)))?;
    for (row, (name, swatch)) in entries.iter().enumerate() {
        let row_top = y + 4 + row as i32 * LEGEND_ROW_HEIGHT;
        let (left, top, right, bottom) = (x + 8, row_top + 3, x + 20, row_top + 14);
        match swatch {
            Swatch::Area(colour) => area.draw(&Rectangle::new([(left, top), (right, bottom)], colour.filled()))?,
            Swatch::Line(colour) => {
                let middle = (top + bottom) / 2;
                area.draw(&PathElement::new(vec![(left, middle), (right, middle)], colour.stroke_width(3)))?
            }
            Swatch::Band(colour) => {
                area.draw(&Rectangle::new([(left, top), (right, bottom)], colour.mix(BAND_OPACITY).filled()))?
            }
        }
        area.draw(&Text::new(name.clone(), (x + 26, row_top + 2), font.clone()))?;
    }
    Ok(())
}

/// `12,345` or `1.2k` style counts for an axis.
fn format_count(value: f64) -> String {
    if value >= 10_000.0 {
        format!("{:.0}k", value / 1000.0)
    } else if value >= 1000.0 {
        let text = format!("{:.1}k", value / 1000.0);
        text.replace(".0k", "k")
    } else {
        format!("{value:.0}")
    }
}

/// What a fan chart of a simulation plots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMetric {
    /// MRR at each month's end, all segments.
    Mrr,
    /// Paid subscribers at each month's end, all segments.
    Paid,
}

impl FanMetric {
    pub fn parse(name: &str) -> Option<FanMetric> {
        match name {
            "mrr" => Some(FanMetric::Mrr),
            "paid" => Some(FanMetric::Paid),
            _ => None,
        }
    }
}

/// The baseline's colour in the simulation charts: ink. Scenario `i` (in the report's order) takes
/// [`scenario_colour`]`(i)`.
pub const BASELINE_COLOUR: RGBColor = OBSERVED_COLOUR;
/// How see-through a run's 10-90% band is.
const FAN_BAND_OPACITY: f64 = 0.16;

/// The colour of the report's scenario `index` in every simulation chart.
pub fn scenario_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The report's currency, or a bare one when its code is not ISO 4217's.
fn currency_of(code: &str) -> Currency {
    Currency::from_code(code).unwrap_or(Currency { code: code.to_owned(), minor_digits: 2, symbol: String::new() })
}

/// Where `probability` is in a simulation report's quantiles.
fn quantile_index(report: &SimulationReport, probability: f64) -> Result<usize, String> {
    report
        .probabilities
        .iter()
        .position(|p| (p - probability).abs() < 1e-12)
        .ok_or_else(|| format!("the report has no {probability} quantile"))
}

/// Draws a simulation's fan chart filling `area`: for the baseline and each scenario, the median of
/// `metric` month by month as a line over the 10-90% band of the paths, each run in its colour.
pub fn draw_fan<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &SimulationReport,
    metric: FanMetric,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (low, mid, high) = (quantile_index(report, 0.1)?, quantile_index(report, 0.5)?, quantile_index(report, 0.9)?);
    let currency = currency_of(&report.currency);
    let series = |total: &TotalReport| -> Vec<Vec<f64>> {
        match metric {
            FanMetric::Mrr => total.mrr.clone(),
            FanMetric::Paid => total.active.clone(),
        }
    };
    let mut runs: Vec<(String, RGBColor, Vec<Vec<f64>>)> =
        vec![("Baseline".to_owned(), BASELINE_COLOUR, series(&report.baseline.total))];
    for (index, scenario) in report.scenarios.iter().enumerate() {
        runs.push((scenario.name.clone(), scenario_colour(index), series(&scenario.run.total)));
    }
    let at = |row: &Vec<f64>, i: usize| row.get(i).copied().filter(|v| v.is_finite());
    let values =
        runs.iter().flat_map(|(_, _, rows)| rows.iter().flat_map(|row| [at(row, low), at(row, high)])).flatten();
    let (bottom, top) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(b, t), v| (b.min(v), t.max(v)));
    let (bottom, top) = if bottom.is_finite() && top.is_finite() { (bottom, top) } else { (0.0, 1.0) };
    // The bands fill the chart: the axis starts a little below the lowest 10% (never below 0 for a
    // figure that cannot be negative), and ends a little above the highest 90%.
    let span = if top > bottom { top - bottom } else { top.abs().max(1.0) };
    let bottom = if bottom >= 0.0 { (bottom - span * 0.15).max(0.0) } else { bottom - span * 0.15 };
    let top = top + span * 0.1;
    let last = report.months.len().saturating_sub(1) as i32;
    area.fill(&WHITE).map_err(error)?;
    let (title, y_desc) = match metric {
        FanMetric::Mrr => ("MRR: the baseline and each scenario", format!("MRR ({})", report.currency.to_uppercase())),
        FanMetric::Paid => ("Paid subscribers: the baseline and each scenario", "paid subscribers".to_owned()),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(76)
        .build_cartesian_2d(0i32..last.max(1), bottom..top)
        .map_err(error)?;
    let month_label = |x: &i32| report.months.get(*x as usize).cloned().unwrap_or_default();
    let y_label = |y: &f64| match metric {
        FanMetric::Mrr => currency.format_compact(*y),
        FanMetric::Paid => format_count(*y),
    };
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&month_label)
        .y_label_formatter(&y_label)
        .x_desc("month (figures at its end)")
        .y_desc(y_desc)
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(error)?;
    for (_, colour, rows) in &runs {
        let upper = rows.iter().enumerate().filter_map(|(m, row)| Some((m as i32, at(row, high)?)));
        let lower: Vec<(i32, f64)> =
            rows.iter().enumerate().filter_map(|(m, row)| Some((m as i32, at(row, low)?))).collect();
        let band: Vec<(i32, f64)> = upper.chain(lower.into_iter().rev()).collect();
        chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(FAN_BAND_OPACITY).filled()))).map_err(error)?;
    }
    for (_, colour, rows) in &runs {
        let median: Vec<(i32, f64)> =
            rows.iter().enumerate().filter_map(|(m, row)| Some((m as i32, at(row, mid)?))).collect();
        if median.len() == 1 {
            chart.draw_series(median.iter().map(|p| Circle::new(*p, 4, colour.filled()))).map_err(error)?;
        }
        chart.draw_series(LineSeries::new(median, colour.stroke_width(2))).map_err(error)?;
    }
    let mut entries: Vec<(String, Swatch)> =
        runs.iter().map(|(name, colour, _)| (format!("{name} (median)"), Swatch::Line(*colour))).collect();
    entries.push(("10-90% of paths".to_owned(), Swatch::Band(BAND_COLOUR)));
    let (left, top) = chart.plotting_area().get_base_pixel();
    draw_legend(area, &entries, (left + 10, top + 10)).map_err(error)?;
    area.present().map_err(error)?;
    Ok(())
}

/// Which per-path difference a histogram shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DifferenceMetric {
    /// MRR at the end of the last simulated month.
    Mrr,
    /// Revenue billed over the whole horizon.
    Revenue,
}

impl DifferenceMetric {
    pub fn parse(name: &str) -> Option<DifferenceMetric> {
        match name {
            "mrr" => Some(DifferenceMetric::Mrr),
            "revenue" => Some(DifferenceMetric::Revenue),
            _ => None,
        }
    }
}

/// Draws, filling `area`, the histogram of each scenario's difference from the baseline path by path
/// (the report's bins, as shares of the paths), the scenarios over each other in their colours, with
/// a line at no difference.
pub fn draw_difference_histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    report: &SimulationReport,
    metric: DifferenceMetric,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let currency = currency_of(&report.currency);
    let difference = |scenario: &ScenarioReport| match metric {
        DifferenceMetric::Mrr => scenario.difference.mrr_major_units.histogram.clone(),
        DifferenceMetric::Revenue => scenario.difference.cumulative_billed_major_units.histogram.clone(),
    };
    let histograms: Vec<(String, RGBColor, Histogram)> = report
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), scenario_colour(i), difference(s)))
        .filter(|(_, _, h)| !h.counts.is_empty() && h.edges.iter().all(|e| e.is_finite()))
        .collect();
    if histograms.is_empty() {
        return Err("no scenario to compare with the baseline".into());
    }
    let edges = histograms.iter().flat_map(|(_, _, h)| h.edges.iter().copied());
    let (left, right) = edges.fold((0.0f64, 0.0f64), |(l, r), e| (l.min(e), r.max(e)));
    let span = if right > left { right - left } else { 1.0 };
    let (left, right) = (left - span * 0.04, right + span * 0.04);
    let paths = f64::from(report.paths.max(1));
    let tallest = histograms.iter().flat_map(|(_, _, h)| h.counts.iter().copied()).max().unwrap_or(1) as f64 / paths;
    let last = report.months.last().cloned().unwrap_or_default();
    let title = match metric {
        DifferenceMetric::Mrr => format!("MRR at {last}: each scenario minus the baseline, path by path"),
        DifferenceMetric::Revenue => "Revenue billed over the horizon: each scenario minus the baseline".to_owned(),
    };
    area.fill(&WHITE).map_err(error)?;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(left..right, 0f64..(tallest * 1.12).max(0.01))
        .map_err(error)?;
    let money = |x: &f64| {
        if *x < 0.0 {
            format!("-{}", currency.format_compact(-x))
        } else {
            currency.format_compact(*x)
        }
    };
    let percent = |y: &f64| format!("{:.0}%", 100.0 * y);
    chart
        .configure_mesh()
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&money)
        .y_label_formatter(&percent)
        .x_desc(format!("difference ({})", report.currency.to_uppercase()))
        .y_desc("share of paths")
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(error)?;
    for (_, colour, histogram) in &histograms {
        let bars = histogram.counts.iter().enumerate().filter_map(|(i, count)| {
            let from = *histogram.edges.get(i)?;
            let mut to = histogram.edges.get(i + 1).copied().unwrap_or(from);
            if to <= from {
                // Every path gave the same difference: a narrow bar around it.
                to = from + span * 0.01;
            }
            Some(Rectangle::new([(from, 0.0), (to, *count as f64 / paths)], colour.mix(0.35).filled()))
        });
        chart.draw_series(bars).map_err(error)?;
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, (tallest * 1.12).max(0.01))],
            OBSERVED_COLOUR.stroke_width(2),
        )))
        .map_err(error)?;
    let mut entries: Vec<(String, Swatch)> =
        histograms.iter().map(|(name, colour, _)| (name.clone(), Swatch::Band(*colour))).collect();
    entries.push(("no difference".to_owned(), Swatch::Line(OBSERVED_COLOUR)));
    let (plot_left, plot_top) = chart.plotting_area().get_base_pixel();
    draw_legend(area, &entries, (plot_left + 10, plot_top + 10)).map_err(error)?;
    area.present().map_err(error)?;
    Ok(())
}

/// The tornado's colours: an input at the low end of its range, and at the high end.
pub const TORNADO_LOW_COLOUR: RGBColor = PALETTE[0];
pub const TORNADO_HIGH_COLOUR: RGBColor = PALETTE[1];

/// Draws a scenario's sensitivity filling `area`: per drawn input (the widest swing on top), the
/// mean difference in revenue billed over the horizon with the input held at the low end of its
/// range and at the high end, as bars from no difference. An error when there is nothing to draw.
pub fn draw_tornado<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    scenario: &ScenarioReport,
    currency_code: &str,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let currency = currency_of(currency_code);
    let mut bars: Vec<&Sensitivity> = scenario
        .sensitivity
        .iter()
        .filter(|bar| bar.difference_at_low.is_finite() && bar.difference_at_high.is_finite())
        .collect();
    if bars.is_empty() {
        return Err(format!("{} has no sensitivity to draw", scenario.name));
    }
    let swing = |bar: &Sensitivity| (bar.difference_at_high - bar.difference_at_low).abs();
    bars.sort_by(|a, b| swing(b).total_cmp(&swing(a)));
    let plain = |value: f64| {
        let text = format!("{value:.2}");
        let text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
        if text == "-0" {
            "0".to_owned()
        } else {
            text
        }
    };
    let names: Vec<String> = bars
        .iter()
        .map(|bar| format!("{} ({} to {})", bar.input.replace('_', " "), plain(bar.low), plain(bar.high)))
        .collect();
    let values = bars.iter().flat_map(|bar| [bar.difference_at_low, bar.difference_at_high]);
    let (left, right) = values.fold((0.0f64, 0.0f64), |(l, r), v| (l.min(v), r.max(v)));
    let span = if right > left { right - left } else { 1.0 };
    let (left, right) = (left - span * 0.06, right + span * 0.06);
    let font = legend_font();
    let mut label_width = 0;
    for name in &names {
        label_width = label_width.max(area.estimate_text_size(name, &font).map_err(error)?.0 as i32);
    }
    let rows = bars.len() as f64;
    area.fill(&WHITE).map_err(error)?;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{}: mean revenue difference with each input at its ends", scenario.name), ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(label_width + 16)
        .build_cartesian_2d(left..right, 0f64..rows + 0.9)
        .map_err(error)?;
    let money = |x: &f64| {
        if *x < 0.0 {
            format!("-{}", currency.format_compact(-x))
        } else {
            currency.format_compact(*x)
        }
    };
    chart
        .configure_mesh()
        .x_labels(7)
        .y_labels(0)
        .x_label_formatter(&money)
        .x_desc(format!("mean difference in revenue billed over the horizon ({})", currency_code.to_uppercase()))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(error)?;
    for (row, bar) in bars.iter().enumerate() {
        // The widest swing on top: row 0 is drawn highest.
        let centre = rows - row as f64 - 0.5;
        chart
            .draw_series([
                Rectangle::new([(0.0, centre), (bar.difference_at_low, centre + 0.34)], TORNADO_LOW_COLOUR.filled()),
                Rectangle::new([(0.0, centre - 0.34), (bar.difference_at_high, centre)], TORNADO_HIGH_COLOUR.filled()),
            ])
            .map_err(error)?;
        let (_, y) = chart.backend_coord(&(left, centre));
        let (x, _) = chart.plotting_area().get_base_pixel();
        let width = area.estimate_text_size(&names[row], &font).map_err(error)?.0 as i32;
        area.draw(&Text::new(names[row].clone(), (x - width - 8, y - 8), font.clone())).map_err(error)?;
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, rows + 0.9)],
            OBSERVED_COLOUR.stroke_width(2),
        )))
        .map_err(error)?;
    let entries = [
        ("the input at the low end of its range".to_owned(), Swatch::Area(TORNADO_LOW_COLOUR)),
        ("at the high end".to_owned(), Swatch::Area(TORNADO_HIGH_COLOUR)),
    ];
    let plot = chart.plotting_area();
    let (plot_right, plot_top) = (plot.get_base_pixel().0 + plot.dim_in_pixel().0 as i32, plot.get_base_pixel().1);
    let (legend_width, _) = legend_size(area, &entries).map_err(error)?;
    draw_legend(area, &entries, (plot_right - legend_width - 6, plot_top + 4)).map_err(error)?;
    area.present().map_err(error)?;
    Ok(())
}

// --- A backend whose text is measured and sized by the caller --------------------------------------

pub use measured_text::{MeasuredText, TextMeasure};

mod measured_text {
    use plotters::prelude::DrawingBackend;
    use plotters_backend::{
        text_anchor, BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontFamily,
        FontStyle, FontTransform,
    };

    /// How a [`MeasuredText`] backend measures a text: its width and line height in pixels, given the
    /// text, its size in pixels, its style and its family.
    pub trait TextMeasure {
        fn measure(&self, text: &str, size: f64, style: FontStyle, family: FontFamily<'_>) -> (u32, u32);
    }

    /// A drawing backend that draws as `B` does, except that text is measured by `M` (plotters' own
    /// estimate lays out a DOM element with an inline style, which the page's Content-Security-Policy
    /// refuses, and has no browser at all natively) and drawn at `font_scale` times its size (plotters'
    /// SVG writes a size divided by 1.24, which a scale of 1.24 undoes).
    pub struct MeasuredText<B, M> {
        inner: B,
        measure: M,
        font_scale: f64,
    }

    impl<B: DrawingBackend, M: TextMeasure> MeasuredText<B, M> {
        pub fn new(inner: B, measure: M, font_scale: f64) -> MeasuredText<B, M> {
            MeasuredText { inner, measure, font_scale }
        }
    }

    /// A text style as given, at `scale` times its size.
    struct ScaledText<'s, S> {
        style: &'s S,
        scale: f64,
    }

    impl<S: BackendTextStyle> BackendTextStyle for ScaledText<'_, S> {
        type FontError = S::FontError;

        fn color(&self) -> BackendColor {
            self.style.color()
        }

        fn size(&self) -> f64 {
            self.style.size() * self.scale
        }

        fn transform(&self) -> FontTransform {
            self.style.transform()
        }

        fn style(&self) -> FontStyle {
            self.style.style()
        }

        fn anchor(&self) -> text_anchor::Pos {
            self.style.anchor()
        }

        fn family(&self) -> FontFamily<'_> {
            self.style.family()
        }

        fn layout_box(&self, text: &str) -> Result<((i32, i32), (i32, i32)), Self::FontError> {
            self.style.layout_box(text)
        }

        fn draw<E, DrawFunc: FnMut(i32, i32, BackendColor) -> Result<(), E>>(
            &self,
            text: &str,
            pos: BackendCoord,
            draw: DrawFunc,
        ) -> Result<Result<(), E>, Self::FontError> {
            self.style.draw(text, pos, draw)
        }
    }

    impl<B: DrawingBackend, M: TextMeasure> DrawingBackend for MeasuredText<B, M> {
        type ErrorType = B::ErrorType;

        fn get_size(&self) -> (u32, u32) {
            self.inner.get_size()
        }

        fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.ensure_prepared()
        }

        fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.present()
        }

        fn draw_pixel(
            &mut self,
            point: BackendCoord,
            color: BackendColor,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_pixel(point, color)
        }

        fn draw_line<S: BackendStyle>(
            &mut self,
            from: BackendCoord,
            to: BackendCoord,
            style: &S,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_line(from, to, style)
        }

        fn draw_rect<S: BackendStyle>(
            &mut self,
            upper_left: BackendCoord,
            bottom_right: BackendCoord,
            style: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_rect(upper_left, bottom_right, style, fill)
        }

        fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            path: I,
            style: &S,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_path(path, style)
        }

        fn draw_circle<S: BackendStyle>(
            &mut self,
            center: BackendCoord,
            radius: u32,
            style: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.draw_circle(center, radius, style, fill)
        }

        fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
            &mut self,
            vertices: I,
            style: &S,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            self.inner.fill_polygon(vertices, style)
        }

        fn draw_text<S: BackendTextStyle>(
            &mut self,
            text: &str,
            style: &S,
            pos: BackendCoord,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            if self.font_scale == 1.0 {
                self.inner.draw_text(text, style, pos)
            } else {
                self.inner.draw_text(text, &ScaledText { style, scale: self.font_scale }, pos)
            }
        }

        fn estimate_text_size<S: BackendTextStyle>(
            &self,
            text: &str,
            style: &S,
        ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
            Ok(self.measure.measure(text, style.size(), style.style(), style.family()))
        }
    }
}
