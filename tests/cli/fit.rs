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

fn demo_arg() -> String {
    format!("{}/www/demo-stripe.csv", env!("CARGO_MANIFEST_DIR"))
}

// The backtest on the demo company: default cutoffs 18, 12, 9 and 6 months before its last whole
// month (2025-11), every segment scored on the months after each cutoff (18 + 12 + 9 + 6 = 45 months
// for each of the 6 segments). The demo is a shifted-beta-geometric business with Poisson-like
// arrivals, so the twin must forecast MRR better than carrying the last value forward, with a median
// error under 10% and a 10-90% band that holds reality in more than half of the months.
#[test]
fn the_demo_backtest_scores_the_twin_beside_the_naive_forecasts() {
    let json = fit_json(&[&demo_arg(), "--paths", "200"]);
    let backtest = &json["backtest"];
    assert_eq!(backtest["cutoffs"], serde_json::json!(["2024-05", "2024-11", "2025-02", "2025-05"]));
    assert_eq!(backtest["last_month"], "2025-11");
    assert_eq!(backtest["months_compared"], 270);
    let months = backtest["months"].as_array().expect("months");
    assert_eq!(months.len(), 270 + 45, "six segments and the total, 45 months each");
    let first = &months[0];
    for field in [
        "cutoff",
        "month",
        "ahead",
        "series",
        "actual",
        "active_band",
        "mrr_band",
        "last_value",
        "linear_trend",
        "constant_churn",
    ] {
        assert!(!first[field].is_null(), "{field}");
    }
    for m in months {
        let band = m["mrr_band"].as_array().expect("band");
        assert!(number(&band[0]) <= number(&band[1]) && number(&band[1]) <= number(&band[2]), "{m}");
    }
    let mape = number(&backtest["mape"]["mrr"]);
    let last_value = number(&backtest["baselines"]["last_value"]["mrr"]);
    assert!(mape < 0.10 && mape < last_value, "twin {mape} against last value {last_value}");
    let coverage = number(&backtest["coverage"]["mrr"]);
    assert!(coverage > 0.5, "coverage {coverage}");
    let verdict = backtest["verdict"].as_str().expect("verdict");
    assert!(verdict.starts_with("Backtested from 4 cutoffs over 270 segment-months."), "{verdict}");
}

#[test]
fn the_backtest_is_the_same_for_the_same_seed_and_moves_with_another() {
    let run = |seed: &str| {
        let output =
            run_subtwin(&["fit", &demo_arg(), "--cutoff", "2025-05", "--paths", "100", "--seed", seed, "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        output.stdout
    };
    assert_eq!(run("7"), run("7"), "the same seed gives the same bytes");
    assert_ne!(run("7"), run("8"), "another seed draws other paths");
}

#[test]
fn cutoffs_outside_the_data_are_left_out_with_a_reason() {
    let json =
        fit_json(&[&demo_arg(), "--cutoff", "2021-01", "--cutoff", "2025-03", "--cutoff", "2025-11", "--paths", "50"]);
    let backtest = &json["backtest"];
    assert_eq!(backtest["cutoffs"], serde_json::json!(["2025-03"]));
    let notes = backtest["notes"].to_string();
    assert!(notes.contains("cutoff 2021-01 left out: it needs 6 months of history up to it"), "{notes}");
    assert!(notes.contains("cutoff 2025-11 left out: nothing whole comes after it"), "{notes}");
    let output = run_subtwin(&["fit", &demo_arg(), "--cutoff", "June"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--cutoff `June` is not a month"), "{}", text(&output.stderr));
}

// basic.csv has plans price_basic_m (Basic, monthly), price_pro_m (Pro, monthly) and price_pro_y
// (Pro, yearly); every row is in usd.
#[test]
fn segments_can_be_made_of_plans_prices_or_the_files_own_columns() {
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec![fixture_arg("basic.csv")];
        all.extend(args.iter().map(|a| a.to_string()));
        let borrowed: Vec<&str> = all.iter().map(String::as_str).collect();
        let json = fit_json(&borrowed);
        json["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        names(&["--segment-by", "plan"]),
        ["price_basic_m (month)", "price_pro_m (month)", "price_pro_y (year)"]
    );
    assert_eq!(
        names(&["--segment-by", "product,price"]),
        ["Basic · $10.00 (month)", "Pro · $240.00 (year)", "Pro · $30.00 (month)"]
    );
    assert_eq!(names(&["--segment-by", "Currency"]), ["usd (month)", "usd (year)"]);
    assert_eq!(names(&["--segment-by", "interval"]), ["All (month)", "All (year)"]);
    // The history is segmented the same way.
    let output = run_subtwin(&["history", &fixture_arg("basic.csv"), "--segment-by", "plan", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let history: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(history["segments"][0], "price_basic_m (month)");
    let output = run_subtwin(&["fit", &fixture_arg("basic.csv"), "--segment-by", "Country"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("--segment-by: the file has no column `Country`") && stderr.contains("Customer Email"),
        "{stderr}"
    );
}

// basic.csv with invoices.csv (see charges.rs): Basic (month) has 15 MRR at the end of January and of
// February (b1 at 5 after its coupon, b2 at 10), and expands by 5 in March (b1's coupon ends). The
// whole months are January to March (April is partial), so the monthly expansion rates are 0
// (February) and 5 / 15 (March): a mean of 1/6.
#[test]
fn expansion_from_invoices_is_a_monthly_share_of_mrr() {
    let json = fit_json(&[&fixture_arg("basic.csv"), &fixture_arg("invoices.csv"), "--paths", "10"]);
    let basic = json["acquisition"]
        .as_array()
        .expect("acquisition")
        .iter()
        .find(|a| a["segment"] == "Basic (month)")
        .expect("Basic");
    let expansion = &basic["movements"]["expansion"];
    assert_eq!(expansion["months"], 2);
    assert!((number(&expansion["mean"]) - 1.0 / 6.0).abs() < 1e-12, "{expansion}");
    assert_eq!(number(&basic["movements"]["contraction"]["mean"]), 0.0);
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
    // The numbers in the sentences are the report's.
    let churn = report.price_response[0].churn_elasticity.expect("estimated");
    let churn_line = format!(
        "Churn elasticity {:.2} (95% interval {:.2} to {:.2})",
        churn.value, churn.interval[0], churn.interval[1]
    );
    assert!(has(&pro.learned, &churn_line), "{churn_line}: {:?}", pro.learned);
    let direct =
        report.acquisition.iter().find(|a| a.segment == "Pro (month)").and_then(|a| a.direct.as_ref()).expect("direct");
    let direct_line = format!(
        "Direct sign-ups (without a trial) go on as over the last 36 months: {:.1} expected in 2026-01, {:+.1}% a month",
        direct.next_month,
        100.0 * direct.growth_per_month
    );
    assert!(has(&pro.assumed, &direct_line), "{direct_line}: {:?}", pro.assumed);
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
    let compared = &fitted("Starter (month)").models_compared;
    let best = compared.iter().max_by(|a, b| a.held_out_loglik.total_cmp(&b.held_out_loglik)).expect("compared");
    let best_name = match best.model.as_str() {
        "sbg" => "the shifted-beta-geometric",
        "bdw" => "the beta-discrete-Weibull",
        _ => "one constant churn rate",
    };
    let held_out = format!("On the renewals after renewal {} (held out of the fit), {best_name}", best.trained_to);
    assert!(has(&starter.learned, &held_out), "{held_out}: {:?}", starter.learned);
    let team = page("Team (year)");
    let team_fit = fitted("Team (year)");
    assert_eq!(team_fit.alpha_interval[1], None, "the demo's Team (year) is at the geometric limit");
    let lower = team_fit.alpha_interval[0].expect("a lower end");
    assert!(
        team.model[1].contains(&format!("(95% interval from {lower:.3}, with no upper bound)")),
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
