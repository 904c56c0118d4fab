//! Taking a simulation's results away: its quantiles and differences as one tidy CSV table
//! ([`results_csv`], `subtwin simulate --csv` and the page's "Download CSV"), and its charts as SVG
//! ([`simulation_chart_svg`]), drawn by the same [`crate::chart`] functions as the page's canvases.
//!
//! The SVG has no browser to measure its text with, so its text's width is estimated
//! from fixed per-character widths of a common sans-serif (Helvetica's): the same bytes natively and
//! in WebAssembly, and no DOM touched (plotters' own estimate in the browser adds an element with an
//! inline style to the page, which the page's Content-Security-Policy refuses).

use plotters::prelude::*;

use crate::chart::{DifferenceMetric, FanMetric, MeasuredText, TextMeasure};
use crate::report::simulate::{RunReport, SimulationReport};
use crate::sim::Difference;

/// The `segment` of the rows that hold all segments together.
pub const ALL_SEGMENTS: &str = "(all segments)";

/// The CSV's columns before the quantiles.
const LEADING_COLUMNS: [&str; 6] = ["run", "name", "segment", "measure", "unit", "month"];
/// The CSV's columns after the quantiles (filled on the difference rows only).
const TRAILING_COLUMNS: [&str; 3] = ["mean", "probability_ahead", "probability_level"];

/// A quantile's column name: `p5` for 0.05, `p50` for 0.5, `p2.5` for 0.025.
fn quantile_column(probability: f64) -> String {
    let percent = format!("{:.3}", probability * 100.0);
    let percent = percent.trim_end_matches('0').trim_end_matches('.');
    format!("p{percent}")
}

/// A number as the CSV writes it: Rust's shortest text that reads back to the same `f64` (the
/// report's JSON writes the same values), and an empty cell where the report has no finite number.
fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else {
        String::new()
    }
}

/// Text for a CSV cell that a spreadsheet shows as text: a cell beginning with `=`, `+`, `-`, `@`, a
/// tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets, so it is written
/// with an apostrophe in front (which they hide). Names reach the CSVs from exports and from share
/// links, which are untrusted: a scenario named `=HYPERLINK(...)` must stay a name.
pub(crate) fn spreadsheet_text(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The simulation's results as one tidy CSV table, one row per observation:
///
/// - for the baseline (`run` 0, `name` `Baseline`) and each scenario (`run` 1, 2, ... in the
///   report's order, `name` its name), for each segment and then for all segments together
///   ([`ALL_SEGMENTS`]), for each measure and each simulated month: the quantiles over the paths at
///   the month's end, one column each (`p5` ... `p95`, the report's `probabilities`). Per segment
///   the measures are `active` (paid subscribers) and `mrr`; for all segments also `new`,
///   `churned`, `billed` (revenue billed in the month), `cumulative_billed` and `arpu`;
/// - for each scenario, at the last simulated month, its difference from the baseline path by path
///   (all segments): `mrr_difference`, `active_difference` and `cumulative_billed_difference`, with
///   their quantiles, their `mean`, and the share of paths on which the scenario is ahead
///   (`probability_ahead`) and level (`probability_level`); these three columns are empty on the
///   other rows.
///
/// `unit` is `subscribers` or the currency's lower-case code (amounts in major units). Numbers are
/// the report's, at full precision, so the CSV of a report read back from its JSON is the same bytes.
/// Names are written as `spreadsheet_text` writes them (never as formulas).
pub fn results_csv(report: &SimulationReport) -> String {
    let mut header: Vec<String> = LEADING_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(report.probabilities.iter().map(|p| quantile_column(*p)));
    header.extend(TRAILING_COLUMNS.iter().map(|c| c.to_string()));
    let quantiles = report.probabilities.len();
    let mut rows: Vec<Vec<String>> = vec![header];

    let mut runs: Vec<(String, &RunReport)> = vec![("Baseline".to_owned(), &report.baseline)];
    runs.extend(report.scenarios.iter().map(|s| (s.name.clone(), &s.run)));
    let money = report.currency.to_lowercase();
    for (index, (name, run)) in runs.iter().enumerate() {
        let mut series = |segment: &str, measure: &str, unit: &str, months: &[Vec<f64>]| {
            for (month, values) in report.months.iter().zip(months) {
                let mut row = vec![
                    index.to_string(),
                    spreadsheet_text(name),
                    spreadsheet_text(segment),
                    measure.to_owned(),
                    unit.to_owned(),
                    month.clone(),
                ];
                row.extend((0..quantiles).map(|q| values.get(q).copied().map(number).unwrap_or_default()));
                row.extend(TRAILING_COLUMNS.iter().map(|_| String::new()));
                rows.push(row);
            }
        };
        for segment in &run.segments {
            series(&segment.name, "active", "subscribers", &segment.active);
            series(&segment.name, "mrr", &money, &segment.mrr);
        }
        let total = &run.total;
        series(ALL_SEGMENTS, "active", "subscribers", &total.active);
        series(ALL_SEGMENTS, "mrr", &money, &total.mrr);
        series(ALL_SEGMENTS, "new", "subscribers", &total.new);
        series(ALL_SEGMENTS, "churned", "subscribers", &total.churned);
        series(ALL_SEGMENTS, "billed", &money, &total.billed);
        series(ALL_SEGMENTS, "cumulative_billed", &money, &total.cumulative_billed);
        series(ALL_SEGMENTS, "arpu", &money, &total.arpu);
    }
    let last = report.months.last().cloned().unwrap_or_default();
    for (index, scenario) in report.scenarios.iter().enumerate() {
        let differences: [(&str, &str, &Difference); 3] = [
            ("mrr_difference", &money, &scenario.difference.mrr_major_units),
            ("active_difference", "subscribers", &scenario.difference.active_subscribers),
            ("cumulative_billed_difference", &money, &scenario.difference.cumulative_billed_major_units),
        ];
        for (measure, unit, difference) in differences {
            let mut row = vec![
                (index + 1).to_string(),
                spreadsheet_text(&scenario.name),
                ALL_SEGMENTS.to_owned(),
                measure.to_owned(),
                unit.to_owned(),
                last.clone(),
            ];
            row.extend((0..quantiles).map(|q| difference.quantiles.get(q).copied().map(number).unwrap_or_default()));
            row.extend([difference.mean, difference.probability_ahead, difference.probability_level].map(number));
            rows.push(row);
        }
    }

    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&row);
    }
    writer.into_inner().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
}

/// One of a simulation's charts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimulationChart {
    /// The fan chart of MRR or of paid subscribers.
    Fan(FanMetric),
    /// The histogram of each scenario's difference from the baseline at the horizon.
    Histogram(DifferenceMetric),
    /// The tornado of the scenario at this index in the report.
    Tornado(usize),
}

impl SimulationChart {
    /// `fan-mrr`, `fan-paid`, `histogram-mrr`, `histogram-revenue`, or `tornado` with the index of
    /// its scenario.
    pub fn parse(name: &str, scenario: usize) -> Option<SimulationChart> {
        match name {
            "tornado" => Some(SimulationChart::Tornado(scenario)),
            _ => {
                if let Some(metric) = name.strip_prefix("fan-") {
                    FanMetric::parse(metric).map(SimulationChart::Fan)
                } else {
                    DifferenceMetric::parse(name.strip_prefix("histogram-")?).map(SimulationChart::Histogram)
                }
            }
        }
    }
}

/// The largest SVG side, in pixels, drawn.
pub const MAX_SVG_SIDE: u32 = 4000;

/// Draws one of a simulation's charts as an SVG document of `width` × `height` pixels, with the
/// same function that draws it on the page's canvas. An error when the chart has nothing to draw
/// (no scenario to compare, a tornado not computed yet) or the size is not from 1 to
/// [`MAX_SVG_SIDE`].
pub fn simulation_chart_svg(
    report: &SimulationReport,
    chart: SimulationChart,
    (width, height): (u32, u32),
) -> Result<String, String> {
    for side in [width, height] {
        if !(1..=MAX_SVG_SIDE).contains(&side) {
            return Err(format!("a chart is from 1 to {MAX_SVG_SIDE} pixels wide and high, not {width} x {height}"));
        }
    }
    let mut svg = String::new();
    {
        let area = svg_chart(SVGBackend::with_string(&mut svg, (width, height))).into_drawing_area();
        match chart {
            SimulationChart::Fan(metric) => crate::chart::draw_fan(&area, report, metric)?,
            SimulationChart::Histogram(metric) => crate::chart::draw_difference_histogram(&area, report, metric)?,
            SimulationChart::Tornado(index) => {
                let scenario = report
                    .scenarios
                    .get(index)
                    .ok_or_else(|| format!("no scenario {index}: the report has {}", report.scenarios.len()))?;
                crate::chart::draw_tornado(&area, scenario, &report.currency)?
            }
        }
    }
    Ok(svg)
}

/// Helvetica's advance widths of the printable ASCII characters (space to `~`), in thousandths of
/// the font size: the metrics most sans-serif fonts (Arial, Liberation Sans) share.
const ASCII_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space to /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0 to 9
    278, 278, 584, 584, 584, 556, 1015, // : to @
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A to Z
    278, 278, 278, 469, 556, 333, // [ to `
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, // a to z
    334, 260, 334, 584, // { to ~
];

/// The width of `character` in thousandths of the font size.
fn character_width(character: char) -> u32 {
    let code = u32::from(character);
    match character {
        ' '..='~' => ASCII_WIDTHS.get((code - 32) as usize).copied().map_or(556, u32::from),
        '–' | '×' | '−' => 556,
        '—' | '…' => 1000,
        '·' | '’' | '‘' => 278,
        // East Asian wide characters take a whole em.
        _ if (0x1100..=0x115F).contains(&code)
            || (0x2E80..=0xA4CF).contains(&code)
            || (0xAC00..=0xD7A3).contains(&code) =>
        {
            1000
        }
        _ if (0xF900..=0xFAFF).contains(&code) || (0xFF00..=0xFF60).contains(&code) => 1000,
        _ => 600,
    }
}

/// The estimated size in pixels of `text` set in a sans-serif `size` pixels high: its width from
/// [`ASCII_WIDTHS`], and the line box of one line (as the page's canvas measures it).
pub fn estimate_text_size(text: &str, size: f64) -> (u32, u32) {
    let thousandths: u64 = text.chars().map(|c| u64::from(character_width(c))).sum();
    let width = (thousandths as f64 * size / 1000.0).ceil();
    let height = (size * 1.2).ceil();
    (width.clamp(0.0, f64::from(u32::MAX)) as u32, height.clamp(0.0, f64::from(u32::MAX)) as u32)
}

/// Text measured by [`estimate_text_size`], for the SVG charts.
struct EstimatedText;

impl TextMeasure for EstimatedText {
    fn measure(&self, text: &str, size: f64, _: FontStyle, _: FontFamily<'_>) -> (u32, u32) {
        estimate_text_size(text, size)
    }
}

/// SVG's text size makes up for the SVG backend's division by 1.24: the text is set at the size the
/// chart asks for, as the page's canvas sets it.
const SVG_FONT_SCALE: f64 = 1.24;

/// plotters' SVG backend, with text measured by [`estimate_text_size`] and set at the size the
/// chart asks for.
fn svg_chart(inner: SVGBackend<'_>) -> MeasuredText<SVGBackend<'_>, EstimatedText> {
    MeasuredText::new(inner, EstimatedText, SVG_FONT_SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_columns_name_the_percent() {
        assert_eq!(quantile_column(0.05), "p5");
        assert_eq!(quantile_column(0.1), "p10");
        assert_eq!(quantile_column(0.5), "p50");
        assert_eq!(quantile_column(0.95), "p95");
        assert_eq!(quantile_column(0.025), "p2.5");
    }

    #[test]
    fn numbers_are_written_in_full_and_non_finite_ones_left_empty() {
        assert_eq!(number(1486.1499999999999), "1486.1499999999999");
        assert_eq!(number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(f64::NAN), "");
        assert_eq!(number(f64::INFINITY), "");
    }

    #[test]
    fn text_widths_follow_the_characters() {
        // "Il" is 278 + 222 = 500 thousandths: 9 pixels at 18 px; "WM" 944 + 833 = 1777: 32 pixels.
        assert_eq!(estimate_text_size("Il", 18.0), (9, 22));
        assert_eq!(estimate_text_size("WM", 18.0), (32, 22));
        assert_eq!(estimate_text_size("", 13.0), (0, 16));
        assert!(estimate_text_size("2026-01", 13.0).0 > estimate_text_size("2026", 13.0).0);
        assert_eq!(estimate_text_size("…", 10.0).0, 10);
    }

    #[test]
    fn chart_names_are_read_with_their_scenario() {
        assert_eq!(SimulationChart::parse("fan-mrr", 0), Some(SimulationChart::Fan(FanMetric::Mrr)));
        assert_eq!(SimulationChart::parse("fan-paid", 3), Some(SimulationChart::Fan(FanMetric::Paid)));
        assert_eq!(
            SimulationChart::parse("histogram-revenue", 0),
            Some(SimulationChart::Histogram(DifferenceMetric::Revenue))
        );
        assert_eq!(SimulationChart::parse("tornado", 2), Some(SimulationChart::Tornado(2)));
        assert_eq!(SimulationChart::parse("fan-arpu", 0), None);
        assert_eq!(SimulationChart::parse("histogram", 0), None);
        assert_eq!(SimulationChart::parse("", 0), None);
    }
}
