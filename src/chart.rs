//! Charts: plotters drawings of a [`HistoryReport`], generic over the drawing backend.
//!
//! The page draws them on a canvas (plotters-canvas, on the main thread: plotters needs `window` to
//! lay out text, which a worker lacks); tests draw them to SVG. The charts read only the report, so
//! they show exactly the numbers the tables and the command show.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::money::Currency;
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
    draw_legend(area, &order, (left + 10, top + 10)).map_err(error)?;
    area.present().map_err(error)?;
    Ok(())
}

/// A legend box: a swatch and a name per segment, top of the stack first as in the chart.
///
/// plotters' own series labels measure text through a path that, in the browser, adds an inline
/// `style` attribute to the page; this one measures through the backend only.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
    (x, y): (i32, i32),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font: TextStyle = ("sans-serif", 13).into_font().into();
    let row_height = 18;
    let mut text_width = 0;
    for (name, _) in entries {
        text_width = text_width.max(area.estimate_text_size(name, &font)?.0 as i32);
    }
    let width = text_width + 34;
    let height = row_height * entries.len() as i32 + 8;
    area.draw(&Rectangle::new([(x, y), (x + width, y + height)], WHITE.mix(0.85).filled()))?;
    area.draw(&Rectangle::new([(x, y), (x + width, y + height)], BLACK.mix(0.3)))?;
    for (row, (name, colour)) in entries.iter().rev().enumerate() {
        let row_top = y + 4 + row as i32 * row_height;
        area.draw(&Rectangle::new([(x + 8, row_top + 3), (x + 20, row_top + 14)], colour.filled()))?;
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
