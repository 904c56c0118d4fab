//! Charts: plotters drawings of a [`HistoryReport`] and of a fitted segment's retention
//! ([`SegmentFitReport`]), generic over the drawing backend.
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
use crate::report::HistoryReport;

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
