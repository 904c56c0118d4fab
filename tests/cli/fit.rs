//! `subtwin fit`: the calibrated twin's documented JSON, on every kind of input, against published
//! numbers where they exist.

use serde_json::Value;

use crate::support::*;

fn fit_json(args: &[&str]) -> Value {
    let mut all = vec!["fit"];
    all.extend_from_slice(args);
    all.push("--json");
    let output = run_subtwin(&all);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

fn segment<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["segments"].as_array().expect("segments").iter().find(|s| s["name"] == name).expect(name)
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"))
}

// Fader & Hardie (2007), "How to Project Customer Retention", Table 1 and section 4: two segments of
// 1,000 customers each observed for seven years; the published maximum-likelihood estimates are
// alpha 0.704, beta 1.182 (Regular, log-likelihood -1680.3) and alpha 0.668, beta 3.806 (High End,
// -1611.2). The cohort table writes the survivors as the paper gives them, in years.
#[test]
fn a_cohort_table_of_the_published_example_gives_the_published_estimates() {
    let json = fit_json(&[&fixture_arg("fader_hardie_cohorts.csv")]);
    assert_eq!(json["kind"], "fit");
    assert_eq!(json["source"], "cohorts");
    assert_eq!(json["as_of"], Value::Null);
    assert_eq!(json["acquisition"].as_array().map(Vec::len), Some(0), "a table without dates has no acquisition");
    for (name, alpha, beta, loglik) in [("Regular", 0.704, 1.182, -1680.3), ("High End", 0.668, 3.806, -1611.2)] {
        let s = segment(&json, name);
        assert_eq!(s["interval"], "year");
        assert_eq!(
            (s["n"].as_u64(), s["churned"].as_u64()),
            (Some(1000), Some(1000 - if name == "Regular" { 241 } else { 491 }))
        );
        let own = &s["unpooled"];
        assert!((number(&own["alpha"]) - alpha).abs() < 5e-4, "{name}: {own}");
        assert!((number(&own["beta"]) - beta).abs() < 5e-4, "{name}: {own}");
        assert!((number(&s["loglik"]) - loglik).abs() < 0.05, "{name}: {}", s["loglik"]);
        // Seven years observed: the curve reaches at least twelve more.
        assert!(s["survival"].as_array().expect("survival").len() >= 19, "{name}");
        // Kaplan-Meier over the observed years: after year 1, 631 (or 869) of 1,000.
        let first = &s["kaplan_meier"][0];
        assert_eq!(first["t"], 1);
        let expected = if name == "Regular" { 0.631 } else { 0.869 };
        assert!((number(&first["survival"]) - expected).abs() < 1e-12, "{name}: {first}");
        assert!(number(&first["lower"]) < expected && expected < number(&first["upper"]), "{name}: {first}");
    }
}

#[test]
fn the_demo_fit_has_the_documented_shape_and_finds_the_demo_trial_conversion() {
    let json = fit_json(&["../www/demo-stripe.csv".replace("..", env!("CARGO_MANIFEST_DIR")).as_str()]);
    assert_eq!(json["source"], "subscriptions");
    assert_eq!(json["origin"], "2026-01", "forecasts start the month after the as-of (2025-12-31)");
    let names: Vec<&str> =
        json["segments"].as_array().expect("segments").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        ["Pro (month)", "Pro (year)", "Starter (month)", "Starter (year)", "Team (month)", "Team (year)"]
    );
    for s in json["segments"].as_array().expect("segments") {
        let name = s["name"].as_str().unwrap_or_default();
        for field in [
            "alpha",
            "beta",
            "loglik",
            "model",
            "alpha_interval",
            "beta_interval",
            "unpooled",
            "pooled_from",
            "models_compared",
            "summary",
        ] {
            assert!(!s[field].is_null(), "{name}: {field} is null");
        }
        assert!(["sbg", "geometric", "bdw"].contains(&s["model"].as_str().unwrap_or_default()), "{name}");
        assert_eq!(s["c"].is_null(), s["model"] != "bdw", "{name}: c is reported exactly for a chosen bdw");
        let oldest =
            s["kaplan_meier"].as_array().expect("km").last().map(|r| r["t"].as_u64().unwrap_or(0)).unwrap_or(0);
        assert!(s["survival"].as_array().expect("survival").len() as u64 >= oldest + 12, "{name}");
        let survival: Vec<f64> = s["survival"].as_array().expect("survival").iter().map(number).collect();
        assert!(survival.windows(2).all(|w| w[1] <= w[0]) && survival[0] < 1.0, "{name}: survival must fall");
        // Interval ends are numbers or null (unbounded), never strings.
        for end in
            s["alpha_interval"].as_array().expect("pair").iter().chain(s["beta_interval"].as_array().expect("pair"))
        {
            assert!(end.is_null() || end.is_f64(), "{name}: {end}");
        }
    }
    // The demo converts 57% of trials (src/demo.rs): each segment with trials is within three
    // binomial standard errors of it.
    for a in json["acquisition"].as_array().expect("acquisition") {
        let Some(conversion) = a["trial_conversion"].as_object() else { continue };
        let (rate, trials) = (number(&conversion["rate"]), number(&conversion["trials"]));
        let se = (0.57f64 * 0.43 / trials).sqrt();
        assert!((rate - 0.57).abs() < 3.0 * se, "{}: {rate} of {trials}", a["segment"]);
    }
    // Starter has no trials in the demo, and grows about 3% a month like the rest.
    let starter = json["acquisition"]
        .as_array()
        .expect("acquisition")
        .iter()
        .find(|a| a["segment"] == "Starter (month)")
        .expect("starter");
    assert!(starter["trial_conversion"].is_null());
    let growth = &starter["direct"]["growth_interval"];
    assert!(number(&growth[0]) < 0.03 && 0.03 < number(&growth[1]) + 0.005, "{growth}");
}

#[test]
fn a_snapshot_table_fits_retention_by_tenure() {
    let json = fit_json(&[&fixture_arg("telco_snapshot.csv")]);
    assert_eq!(json["source"], "snapshot");
    // telco_snapshot.csv by Contract: Month-to-month 7 customers of whom 4 churned, One year 3 and 1,
    // Two year 2 and 0 (one of them with a tenure of 0, not yet at a renewal).
    let counts: Vec<(&str, u64, u64)> = json["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| {
            (s["name"].as_str().unwrap_or_default(), s["n"].as_u64().unwrap_or(0), s["churned"].as_u64().unwrap_or(0))
        })
        .collect();
    assert_eq!(counts, [("Month-to-month", 7, 4), ("One year", 3, 1), ("Two year", 2, 0)]);
    let two_year = segment(&json, "Two year");
    assert_eq!(two_year["interval"], "month");
    // Without a churner it has no fit of its own, but pooling gives it the others' retention.
    assert!(two_year["unpooled"].is_null());
    assert!(two_year["alpha"].is_f64() && two_year["beta"].is_f64(), "{two_year}");
    let warnings = two_year["warnings"].to_string();
    assert!(warnings.contains("No fit of this segment's own"), "{warnings}");
}

#[test]
fn the_text_output_says_retention_in_plain_words() {
    let output = run_subtwin(&["fit", &fixture_arg("fader_hardie_cohorts.csv")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let out = text(&output.stdout);
    assert!(out.contains("Half of new Regular subscribers are still here after 1 year."), "{out}");
    assert!(out.contains("Retention"), "{out}");
}

// The demo raises Pro's prices 18 months before its as-of (2025-12-31): new subscribers pay 59.00 a
// month instead of 49.00 (590.00 a year instead of 490.00) from July 2024, and nothing else changes
// (src/demo.rs draws churn and arrivals without looking at the price). The fit finds both changes,
// and the churn elasticities' intervals hold the truth, zero.
#[test]
fn the_demo_price_rise_is_found_and_its_churn_response_is_consistent_with_none() {
    let json = fit_json(&[format!("{}/www/demo-stripe.csv", env!("CARGO_MANIFEST_DIR")).as_str()]);
    let responses = json["price_response"].as_array().expect("price_response");
    let found: Vec<(&str, &str, f64, f64)> = responses
        .iter()
        .map(|r| {
            (
                r["segment"].as_str().unwrap_or_default(),
                r["month"].as_str().unwrap_or_default(),
                number(&r["old_price"]),
                number(&r["new_price"]),
            )
        })
        .collect();
    assert_eq!(found, [("Pro (month)", "2024-07", 49.0, 59.0), ("Pro (year)", "2024-07", 490.0, 590.0)]);
    for r in responses {
        let interval = &r["churn_elasticity"]["interval"];
        assert!(number(&interval[0]) < 0.0 && 0.0 < number(&interval[1]), "{}: {interval}", r["segment"]);
    }
    let monthly = &responses[0]["acquisition_elasticity"]["interval"];
    assert!(number(&monthly[0]) < 0.0 && 0.0 < number(&monthly[1]), "{monthly}");
}

fn demo_bytes() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/demo-stripe.csv")).expect("demo present")
}

/// The page's worker fits a chosen file from a reader (`fit_reader`, a slice at a time); the command
/// and the demo fit bytes (`fit_exports`). Both give the same report.
#[test]
fn a_file_read_from_a_reader_fits_as_its_bytes_do() {
    let request = subtwin::HistoryRequest::default();
    let demo = demo_bytes();
    let snapshot = std::fs::read(fixture_path("telco_snapshot.csv")).expect("fixture");
    let cohorts = std::fs::read(fixture_path("cohorts.csv")).expect("fixture");
    for (name, bytes) in [("demo-stripe.csv", &demo), ("telco_snapshot.csv", &snapshot), ("cohorts.csv", &cohorts)] {
        let from_bytes = subtwin::fit_exports(&[(name, bytes)], &request, &mut |_| {}).expect("fits");
        let from_reader =
            subtwin::fit_reader(name, std::io::Cursor::new(bytes), Some(bytes.len() as u64), &request, &mut |_| {})
                .expect("fits");
        assert_eq!(subtwin::report::fit::to_json(&from_reader), subtwin::report::fit::to_json(&from_bytes), "{name}");
    }
    let error = subtwin::fit_reader("empty.csv", std::io::empty(), Some(0), &request, &mut |_| {}).expect_err("empty");
    assert_eq!(error.file, "empty.csv");
}

/// The page's twin section: every sentence comes from the report's numbers.
#[test]
fn the_page_view_says_what_the_data_showed_and_what_the_twin_assumes() {
    use subtwin::report::fit_page::fit_page_view;
    let report =
        subtwin::fit_exports(&[("demo-stripe.csv", &demo_bytes())], &Default::default(), &mut |_| {}).expect("fits");
    let view = fit_page_view(&report);
    assert_eq!(view.segments.len(), report.segments.len());
    let facts: Vec<(&str, &str)> = view.facts.iter().map(|f| (f.label.as_str(), f.value.as_str())).collect();
    assert_eq!(
        facts[..3],
        [
            ("Fitted", "6 segments, from a subscriptions table"),
            ("As of", "2025-12-31 17:32 UTC"),
            ("Forecasts from", "2026-01")
        ]
    );
    assert_eq!(view.price_response.rows.len(), 2, "the July 2024 Pro rise, monthly and annual");
    assert_eq!(view.price_response.rows[0][..4], ["Pro (month)", "2024-07", "49", "59"]);
    assert_eq!(view.acquisition.rows.len(), 6);
    assert_eq!(view.acquisition_note, None);

    let page = |name: &str| view.segments.iter().find(|s| s.name == name).expect(name);
    let fitted = |name: &str| report.segments.iter().find(|s| s.name == name).expect(name);
    let has = |lines: &[String], start: &str| lines.iter().any(|line| line.starts_with(start));
    for segment in &report.segments {
        let shown = page(&segment.name);
        assert_eq!(shown.summary, segment.summary);
        assert_eq!(shown.warnings, segment.warnings);
        // Pooling's pull in plain words, from the report's S(12) own and pooled.
        let pull = segment.pooled_from.as_ref().expect("pooled");
        let own = pull.survival_12_own.expect("own fit");
        let unit = if segment.interval == "month" { "months" } else { "years" };
        let expected = format!(
            "Pooling with the other segments moved its retention after 12 {unit} from {:.1}% to {:.1}%.",
            100.0 * own,
            100.0 * pull.survival_12_pooled
        );
        assert!(shown.learned.contains(&expected), "{}: {:?}", segment.name, shown.learned);
        // Retention by start month: a row per cohort, a shade per share.
        assert_eq!(shown.cohorts.rows.len(), segment.cohorts.len(), "{}", segment.name);
        assert!(segment.cohorts.len() >= 46, "{}: about four years of start months", segment.name);
        for (row, shades) in shown.cohorts.rows.iter().zip(&shown.cohort_shades) {
            assert_eq!(row.len(), shown.cohorts.columns.len());
            assert_eq!(shades.len(), row.len());
            for (cell, shade) in row.iter().zip(shades) {
                assert_eq!(cell.ends_with('%'), !shade.is_empty(), "a shade exactly for each share: {row:?}");
            }
        }
    }
    let pro = page("Pro (month)");
    assert_eq!(pro.cohorts.columns.len(), 2 + 19, "every month to 12, then thinner: {:?}", pro.cohorts.columns);
    assert!(has(&pro.learned, "From 2024-07, new subscribers paid 59 instead of 49"), "{:?}", pro.learned);
    assert!(has(&pro.learned, "Churn elasticity -0.54 (95% interval -2.11 to 1.04)"), "{:?}", pro.learned);
    assert!(has(&pro.assumed, "Direct sign-ups (without a trial) go on as over the last 36 months: 38.7 expected in 2026-01, +3.1% a month"), "{:?}", pro.assumed);
    assert!(!has(&pro.assumed, "No price change"), "Pro had one");
    let first_churn = {
        let pro = fitted("Pro (month)");
        let (alpha, beta) = (pro.alpha.expect("alpha"), pro.beta.expect("beta"));
        // sBG: the chance of leaving at the first renewal is alpha / (alpha + beta).
        format!("{:.1}% at the first renewal", 100.0 * alpha / (alpha + beta))
    };
    assert!(pro.model.iter().any(|line| line.contains(&first_churn)), "{first_churn}: {:?}", pro.model);
    let starter = page("Starter (month)");
    assert!(has(&starter.assumed, "No price change was found in this segment"), "{:?}", starter.assumed);
    assert!(
        has(
            &starter.learned,
            "On the renewals after renewal 13 (held out of the fit), the beta-discrete-Weibull predicted best"
        ),
        "{:?}",
        starter.learned
    );
    let team = page("Team (year)");
    assert!(
        team.model[1].contains("alpha 20,737,327 (95% interval from 1.023, with no upper bound)"),
        "{:?}",
        team.model
    );
    assert_eq!(team.cohorts.columns, ["Started", "Subscribers", "1", "2", "3"]);

    // A table without dates: retention only, and the page says why there is nothing else.
    let snapshot = std::fs::read(fixture_path("telco_snapshot.csv")).expect("fixture");
    let report =
        subtwin::fit_exports(&[("telco_snapshot.csv", &snapshot)], &Default::default(), &mut |_| {}).expect("fits");
    let view = fit_page_view(&report);
    assert_eq!(view.acquisition.rows.len(), 0);
    assert_eq!(view.acquisition_note.as_deref(), Some(subtwin::report::fit::NO_DATES_NOTE));
    assert_eq!(view.price_response_note, subtwin::report::fit::NO_DATES_NOTE);
    assert!(view.facts.iter().all(|f| f.value != subtwin::report::fit::NO_DATES_NOTE), "not twice");
    for segment in &view.segments {
        assert!(segment.cohorts.rows.is_empty());
        assert!(has(&segment.assumed, "The table has no dates"), "{:?}", segment.assumed);
    }
}

/// The page reads the worker's JSON back. A fit on a handful of subscriptions has unbounded numbers,
/// which JSON writes as `null`: they read back (as NaN), and the page shows the same as it would of
/// the report itself, with "-" for what is unbounded.
#[test]
fn a_fit_with_unbounded_numbers_reads_back_from_its_json() {
    use subtwin::report::fit::{to_json, FitReport};
    use subtwin::report::fit_page::fit_page_view;
    let text = std::fs::read_to_string(fixture_path("basic.csv")).expect("fixture");
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let first = format!("{}\n", lines[..5].join("\n"));
    let second = format!("{}\n{}\n", lines[0], lines[5..].join("\n"));
    let demo = demo_bytes();
    let inputs: [Vec<(&str, &[u8])>; 2] = [
        vec![("first-half.csv", first.as_bytes()), ("second-half.csv", second.as_bytes())],
        vec![("demo-stripe.csv", &demo)],
    ];
    for inputs in inputs {
        let name = inputs[0].0;
        let fitted = subtwin::fit_exports(&inputs, &Default::default(), &mut |_| {}).expect("fits");
        let json = to_json(&fitted);
        if name == "first-half.csv" {
            assert!(json.contains("null]"), "this fit does have an unbounded interval end");
        }
        let report = FitReport::from_json(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        let view = fit_page_view(&report);
        assert_eq!(view, fit_page_view(&fitted), "{name}: the page shows what the report says");
        let text = serde_json::to_string(&view).expect("a view");
        assert!(!text.contains("NaN") && !text.contains("inf"), "{name}: {text}");
    }
}
