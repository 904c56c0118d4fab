//! `subtwin simulate`: the calibrated twin run forward with no change, its documented JSON, its
//! bounds, and the same bytes for the same seed.

use serde_json::Value;

use crate::support::*;

fn demo() -> String {
    format!("{}/www/demo-stripe.csv", env!("CARGO_MANIFEST_DIR"))
}

fn simulate(args: &[&str]) -> std::process::Output {
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    run_subtwin(&all)
}

#[test]
fn the_baseline_starts_from_the_real_state_and_reports_ordered_quantiles() {
    let output = simulate(&[&demo(), "--horizon", "12", "--runs", "300", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["kind"], "simulation");
    assert_eq!(json["start_month"], "2026-01", "the month after the as-of (2025-12-31)");
    assert_eq!((json["horizon_months"].as_u64(), json["paths"].as_u64()), (Some(12), Some(300)));
    assert_eq!(json["seed"], "20251231", "the seed is a decimal string");
    assert_eq!(json["probabilities"], serde_json::json!([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95]));
    let total = &json["baseline"]["total"];
    assert_eq!(json["months"].as_array().map(Vec::len), Some(12));
    assert_eq!(json["months"][0], "2026-01");
    for series in ["active", "mrr", "new", "churned", "billed", "cumulative_billed", "arpu"] {
        for row in total[series].as_array().expect("rows") {
            let q: Vec<f64> = row.as_array().expect("quantiles").iter().filter_map(Value::as_f64).collect();
            assert_eq!(q.len(), 7);
            assert!(q.windows(2).all(|w| w[0] <= w[1]), "{series}: quantiles in order: {q:?}");
        }
    }
    // The demo ends 2025 with 3,207 paid subscribers (README): a month later the median is near it,
    // grown by the month's arrivals less its churn, a few percent.
    let first_median = total["active"][0][3].as_f64().expect("median");
    assert!((3207.0..3207.0 * 1.08).contains(&first_median), "{first_median}");
    assert_eq!(json["baseline"]["segments"].as_array().map(Vec::len), Some(6));
    assert_eq!(json["scenarios"].as_array().map(Vec::len), Some(0));
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_other_paths() {
    let run = |seed: &str| {
        let output = simulate(&[&demo(), "--horizon", "6", "--runs", "100", "--seed", seed, "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        output.stdout
    };
    assert_eq!(run("42"), run("42"));
    assert_ne!(run("42"), run("43"));
}

#[test]
fn options_out_of_range_and_tables_without_dates_are_refused() {
    for (args, message) in [
        (vec!["--horizon", "0"], "the horizon of 0 months is out of range: give 1 to 120."),
        (vec!["--horizon", "121"], "the horizon of 121 months is out of range"),
        (vec!["--runs", "0"], "0 paths is out of range: give 1 to 20000."),
    ] {
        let mut all = vec![demo()];
        all.extend(args.iter().map(|a| a.to_string()));
        let borrowed: Vec<&str> = all.iter().map(String::as_str).collect();
        let output = simulate(&borrowed);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).contains(message), "{args:?}: {}", text(&output.stderr));
    }
    let output = simulate(&[&fixture_arg("telco_snapshot.csv")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no state to simulate from"), "{}", text(&output.stderr));
}

fn scenario_arg(name: &str) -> String {
    fixture_arg(&format!("scenarios/{name}"))
}

#[test]
fn scenarios_run_beside_the_baseline_on_the_same_paths_with_their_difference() {
    let raise = scenario_arg("raise-monthly.json");
    let push = scenario_arg("annual-push.json");
    let args = [demo(), "--scenario".into(), raise, "--scenario".into(), push];
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--horizon", "12", "--runs", "200", "--json"]);
    let output = simulate(&all);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let scenarios = json["scenarios"].as_array().expect("scenarios");
    assert_eq!(scenarios.len(), 2);
    let raise = &scenarios[0];
    assert_eq!(raise["name"], "Monthly plans 20% dearer");
    // Before the change's month the scenario is the baseline on every path: its month-0 quantiles
    // are the baseline's exactly.
    assert_eq!(raise["run"]["total"]["mrr"][0], json["baseline"]["total"]["mrr"][0]);
    let ahead = raise["difference"]["mrr_major_units"]["probability_ahead"].as_f64().expect("a share");
    assert!((0.0..=1.0).contains(&ahead));
    let histogram = &raise["difference"]["mrr_major_units"]["histogram"];
    let counted: u64 = histogram["counts"].as_array().expect("counts").iter().filter_map(Value::as_u64).sum();
    assert_eq!(counted, 200);
    // A price change gets a break-even; the summary says what was learned and what assumed.
    assert!(raise["break_even"]["description"].as_str().is_some_and(|d| d.contains("churn elasticity")));
    let summary = raise["summary"].as_str().expect("a summary");
    assert!(summary.contains("Assumed:") || summary.contains("Learned from the history:"), "{summary}");
    assert!(!raise["sensitivity"].as_array().expect("bars").is_empty());
    // The annual push moves subscribers without losing any at the move: the new plan list stays.
    let push = &scenarios[1];
    assert_eq!(push["run"]["segments"].as_array().map(Vec::len), Some(6));
    assert!(push["break_even"].is_null(), "no price change, no break-even");
}

#[test]
fn a_scenario_run_gives_the_same_bytes_for_the_same_seed() {
    let raise = scenario_arg("raise-monthly.json");
    let run = || {
        let output = simulate(&[&demo(), "--scenario", &raise, "--horizon", "6", "--runs", "100", "--json"]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        output.stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn a_bad_scenario_is_refused_naming_its_file_field_and_range() {
    let bad = scenario_arg("bad-field.json");
    let output = simulate(&[&demo(), "--scenario", &bad, "--runs", "10"]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(message.contains("bad-field.json"), "{message}");
    assert!(message.contains("changes[0].percent: -150 is not allowed: a number from -100 to 1000"), "{message}");
    let output = simulate(&[&demo(), "--scenario", &fixture_arg("basic.csv"), "--runs", "10"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("line 1, column"), "{}", text(&output.stderr));
}

#[test]
fn the_first_simulated_month_takes_in_the_rest_of_the_as_of_month() {
    let twin_at = |as_of: &str, name: &str| -> Value {
        let path = scratch_path(name);
        let path_arg = path.display().to_string();
        let mut args = vec![demo(), "--runs".into(), "1".into(), "--horizon".into(), "1".into()];
        args.extend(["--save-twin".into(), path_arg]);
        if !as_of.is_empty() {
            args.extend(["--as-of".into(), as_of.into()]);
        }
        let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = simulate(&borrowed);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        serde_json::from_slice(&std::fs::read(&path).expect("the twin was written")).expect("twin JSON")
    };
    // Data up to 2025-12-16 00:00: the simulation starts in January, which also takes in the rest of
    // December (16 days less a second, of 31).
    let mid = twin_at("2025-12-16 00:00", "twin-mid-december.json");
    assert_eq!(mid["start_month_index"], 2026 * 12);
    let expected = 1.0 + (16.0 * 86_400.0 - 1.0) / (31.0 * 86_400.0);
    let exposure = mid["first_month_exposure"].as_f64().expect("a number");
    assert!((exposure - expected).abs() < 1e-12, "{exposure} vs {expected}");
    // The demo's own as-of, 2025-12-31 17:32: six and a half hours are left of December.
    let end = twin_at("", "twin-demo-as-of.json");
    let expected = 1.0 + (6.0 * 3600.0 + 28.0 * 60.0 - 1.0) / (31.0 * 86_400.0);
    let exposure = end["first_month_exposure"].as_f64().expect("a number");
    assert!((exposure - expected).abs() < 1e-12, "{exposure} vs {expected}");
    // No customer row travels in the twin: no id, email or name of the export appears in it.
    let text = serde_json::to_string(&end).expect("JSON");
    assert!(!text.contains("cus_") && !text.contains("sub_") && !text.contains('@'), "the twin names a customer");
}

// Segmented by product and signup channel, the demo has small segments (Pro · partner (year): 65
// subscribers, 11 churned) whose sBG interval is open on one side, with a variance in the thousands;
// the twin caps it and keeps the correlation, so the run goes ahead instead of refusing the twin.
#[test]
fn small_segments_with_open_intervals_still_simulate() {
    let output = simulate(&[&demo(), "--segment-by", "product,signup_channel (metadata)", "--runs", "20", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let names: Vec<&str> =
        json["baseline"]["segments"].as_array().expect("segments").iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(names.contains(&"Pro · partner (year)"), "{names:?}");
}

/// A scenario on the demo simulates only what it changes: the monthly price rise leaves the annual
/// segments to the kept baseline, and the result is the whole simulation's, bit for bit.
#[test]
fn the_monthly_price_rise_on_the_demo_simulates_only_the_monthly_segments() {
    let twin = demo_calibrated_twin().twin;
    let text = std::fs::read(format!("{}/tests/fixtures/scenarios/raise-monthly.json", env!("CARGO_MANIFEST_DIR")))
        .expect("fixture present");
    let scenario = subtwin::scenario::from_json("raise-monthly.json", &text).expect("a valid scenario");
    let plan = subtwin::scenario::compile(&scenario, &twin, 24).expect("compiles").plan;
    let changed: Vec<&str> = subtwin::sim::changed_segments(&plan)
        .iter()
        .zip(&twin.segments)
        .filter(|(changed, _)| **changed)
        .map(|(_, segment)| segment.name.as_str())
        .collect();
    assert_eq!(changed, ["Pro (month)", "Starter (month)", "Team (month)"]);
    let options = subtwin::sim::SimOptions { paths: 60, horizon_months: 24, seed: 4 };
    let baseline = subtwin::sim::simulate_reusable(&twin, &options, 0..options.paths).expect("simulates");
    let on_baseline = subtwin::sim::simulate_plan_on(&twin, &plan, &baseline).expect("simulates");
    let whole = subtwin::sim::simulate_plan(&twin, &plan, &options).expect("simulates");
    assert!(on_baseline == whole, "the scenario completed from the baseline differs from its whole simulation");
}
