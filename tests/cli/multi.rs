//! Several exports read as one business: `subtwin history A.csv B.csv`.

use subtwin::report::HistoryReport;
use subtwin::HistoryRequest;

use crate::support::{fixture_bytes, report_of, run_subtwin, scratch_path, text};

fn report_of_files(files: &[(&str, &[u8])]) -> HistoryReport {
    subtwin::history_of_exports(files, &HistoryRequest::default(), &mut |_| {}).expect("the files import")
}

/// basic.csv cut in two after its fourth subscription, both halves with the header.
fn halves() -> (Vec<u8>, Vec<u8>) {
    let whole = String::from_utf8(fixture_bytes("basic.csv")).expect("UTF-8");
    let lines: Vec<&str> = whole.lines().collect();
    let first = format!("{}\n", lines[..5].join("\n"));
    let second = format!("{}\n{}\n", lines[0], lines[5..].join("\n"));
    (first.into_bytes(), second.into_bytes())
}

#[test]
fn two_halves_of_an_export_give_the_history_of_the_whole() {
    let (first, second) = halves();
    let together = report_of_files(&[("first.csv", &first), ("second.csv", &second)]);
    let whole = report_of("basic.csv");
    assert_eq!(together.months, whole.months);
    assert_eq!(together.segments, whole.segments);
    assert_eq!(together.as_of, whole.as_of);
    assert_eq!(together.format, "stripe");
    let files: Vec<&str> = together.inputs.iter().map(|i| i.file.as_str()).collect();
    assert_eq!(files, ["first.csv", "second.csv"]);
    assert_eq!(together.summary.rows_read, whole.summary.rows_read);
}

#[test]
fn exports_of_different_systems_are_reported_as_mixed() {
    let stripe = fixture_bytes("basic.csv");
    // The Recurly fixture is billed in euros: the same rows in dollars, to analyse with Stripe's.
    let recurly = String::from_utf8(fixture_bytes("recurly_old.csv")).expect("UTF-8").replace(",EUR,", ",USD,");
    let recurly = recurly.as_bytes();
    let report = report_of_files(&[("stripe.csv", &stripe), ("recurly.csv", recurly)]);
    assert_eq!(report.format, "mixed");
    let formats: Vec<&str> = report.inputs.iter().map(|i| i.format.as_str()).collect();
    assert_eq!(formats, ["stripe", "recurly"]);
}

#[test]
fn a_subscription_in_two_files_counts_once_and_the_repeat_is_a_problem() {
    let whole = fixture_bytes("basic.csv");
    let (first, _) = halves();
    let report = report_of_files(&[("all.csv", &whole), ("again.csv", &first)]);
    assert_eq!(report.months, report_of("basic.csv").months);
    let repeats: Vec<(&str, u64)> = report.problems.iter().map(|p| (p.file.as_str(), p.line)).collect();
    assert_eq!(repeats, [("again.csv", 2), ("again.csv", 3), ("again.csv", 4), ("again.csv", 5)]);
    assert!(report.problems[0].reason.contains("all.csv (line 2)"), "{:?}", report.problems[0]);
    assert_eq!(report.summary.rows_set_aside, 4);
}

#[test]
fn the_command_reads_several_files_and_names_the_unknown_format() {
    let (first, second) = halves();
    let (a, b) = (scratch_path("half-a.csv"), scratch_path("half-b.csv"));
    std::fs::write(&a, first).expect("write");
    std::fs::write(&b, second).expect("write");
    let output = run_subtwin(&["history", "--json", &a.to_string_lossy(), &b.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: HistoryReport = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report.months, report_of("basic.csv").months);

    let output = run_subtwin(&["history", "--format", "paddle", &a.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("stripe, chargebee, recurly, baremetrics"), "{}", text(&output.stderr));
    let output = run_subtwin(&["history", "--date-order", "ymd", &a.to_string_lossy()]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_file_wholly_in_another_currency_is_set_aside_not_added() {
    // basic.csv: 9 subscriptions in USD; recurly_old.csv: 3 in EUR. USD has the most, so the EUR
    // rows are set aside, each with a problem, and counted under other currencies.
    let stripe = fixture_bytes("basic.csv");
    let recurly = fixture_bytes("recurly_old.csv");
    let report = report_of_files(&[("stripe.csv", &stripe), ("recurly.csv", &recurly)]);
    assert_eq!(report.currency, "usd");
    assert_eq!(report.months, report_of("basic.csv").months);
    let set_aside: Vec<(&str, u64, String)> =
        report.problems.iter().map(|p| (p.file.as_str(), p.line, p.value.to_lowercase())).collect();
    let eur = || "eur".to_owned();
    assert_eq!(set_aside, [("recurly.csv", 2, eur()), ("recurly.csv", 3, eur()), ("recurly.csv", 4, eur())]);
    let others: Vec<(&str, u64)> =
        report.summary.other_currencies.iter().map(|c| (c.currency.as_str(), c.rows)).collect();
    assert_eq!(others, [("eur", 3)]);
}

#[test]
fn exchange_rates_convert_other_currencies_exactly_instead_of_setting_them_aside() {
    // currencies.csv holds USD and EUR subscriptions. With eur→usd at 1.1, each EUR row counts in
    // dollars: €25.00 a month is $27.50 a month, and nothing is set aside.
    let rates = subtwin::money::ExchangeRates::parse("fx.csv", "from,to,rate\neur,usd,1.1\n").expect("valid rates");
    let request = HistoryRequest {
        import: subtwin::import::ImportOptions { fx: Some(rates), ..Default::default() },
        ..HistoryRequest::default()
    };
    let bytes = fixture_bytes("currencies.csv");
    let converted = subtwin::history_of_export("currencies.csv", &bytes, &request, &mut |_| {}).expect("imports");
    assert!(converted.problems.is_empty(), "{:?}", converted.problems);
    assert_eq!(converted.currency, "usd");
    assert!(converted.summary.other_currencies.is_empty());
    assert!(
        converted.summary.notes.iter().any(|n| n.contains("billed in EUR converted at 1.1 USD per EUR")),
        "{:?}",
        converted.summary.notes
    );
    let dollars_only = report_of("currencies.csv");
    let euro_rows = dollars_only.problems.len() as u64;
    let (with, without) = (converted.months.last().expect("a month"), dollars_only.months.last().expect("a month"));
    assert_eq!(with.figures.active, without.figures.active + euro_rows);
    assert!(with.figures.mrr > without.figures.mrr);

    let path = scratch_path("fx.csv");
    std::fs::write(&path, "from,to,rate\neur,usd,1.1\n").expect("write");
    let output = run_subtwin(&[
        "history",
        "--json",
        "--fx",
        &path.to_string_lossy(),
        &crate::support::fixture_arg("currencies.csv"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let from_command: HistoryReport = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(from_command.months, converted.months);
    std::fs::write(&path, "eur,usd,1.1\n").expect("write");
    let output =
        run_subtwin(&["history", "--fx", &path.to_string_lossy(), &crate::support::fixture_arg("currencies.csv")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("from,to,rate"), "{}", text(&output.stderr));
}
