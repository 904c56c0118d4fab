//! Any other table, through a column mapping (`--map`, `--map-file`, the page's mapping form).

use subtwin::import::mapped::ColumnMapping;
use subtwin::import::ImportOptions;
use subtwin::report::HistoryReport;
use subtwin::HistoryRequest;

use crate::support::{fixture_arg, fixture_bytes, report_of, run_subtwin, scratch_path, text};

fn mapped(spec: &str) -> HistoryRequest {
    HistoryRequest {
        import: ImportOptions {
            mapping: Some(ColumnMapping::parse(spec).expect("a valid mapping")),
            ..Default::default()
        },
        ..HistoryRequest::default()
    }
}

const STRIPE_AS_MAPPED: &str = "id=id,customer=Customer ID,start=\"Start Date (UTC)\",end=\"Ended At (UTC)\",\
status=Status,price=Amount,interval=Interval,quantity=Quantity,segment=Product,currency=Currency,\
trial_end=\"Trial End (UTC)\"";

#[test]
fn a_stripe_export_read_through_a_mapping_gives_the_same_history() {
    // basic.csv's ends are all in Ended At and its trial in Trial End, so its own columns, mapped by
    // hand, say everything the Stripe reader reads from them.
    let bytes = fixture_bytes("basic.csv");
    let report =
        subtwin::history_of_export("basic.csv", &bytes, &mapped(STRIPE_AS_MAPPED), &mut |_| {}).expect("imports");
    let stripe = report_of("basic.csv");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.months, stripe.months);
    assert_eq!(report.format, "mapped");
}

#[test]
fn a_hand_kept_table_with_fixed_values_is_read() {
    // Three customers, all monthly in euros (fixed values). A: 20.00 from 2025-01-10, still there.
    // B: 10.00 from 2025-01-15, ended 2025-02-20. C: 10.00 x 3 seats from 2025-02-01.
    // End of January: A + B = 2 paid, 30.00. End of February: A + C = 2, 20 + 30 = 50.00; B churned.
    let table = "Customer,Plan,Signup Date,Cancelled On,Monthly price,Seats\n\
                 A,Gold,2025-01-10,,\"20,00\",1\n\
                 B,Silver,2025-01-15,2025-02-20,\"10,00\",1\n\
                 C,Silver,2025-02-01,,\"10,00\",3\n";
    let path = scratch_path("hand-kept.csv");
    std::fs::write(&path, table).expect("write");
    let output = run_subtwin(&[
        "history",
        "--json",
        "--map",
        "id=Customer,segment=Plan,start=\"Signup Date\",end=\"Cancelled On\",price=\"Monthly price\",quantity=Seats,interval=@month,currency=@eur",
        &path.to_string_lossy(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: HistoryReport = serde_json::from_slice(&output.stdout).expect("JSON");
    let figures: Vec<(&str, u64, f64, u64)> =
        report.months.iter().map(|m| (m.month.as_str(), m.figures.active, m.figures.mrr, m.figures.churned)).collect();
    assert_eq!(figures, [("2025-01", 2, 30.0, 0), ("2025-02", 2, 50.0, 1)]);
    assert_eq!(report.currency, "eur");
    assert_eq!(report.segments, ["Gold (month)", "Silver (month)"]);
}

#[test]
fn a_mapping_file_is_the_json_the_page_saves() {
    let mapping = ColumnMapping::parse(STRIPE_AS_MAPPED).expect("valid");
    let path = scratch_path("mapping.json");
    std::fs::write(&path, mapping.to_json()).expect("write");
    assert_eq!(ColumnMapping::from_json(&mapping.to_json()), Ok(mapping));
    let output = run_subtwin(&["history", "--json", "--map-file", &path.to_string_lossy(), &fixture_arg("basic.csv")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: HistoryReport = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report.months, report_of("basic.csv").months);
}

#[test]
fn mistakes_in_a_mapping_are_named() {
    let cases: &[(&str, &str)] = &[
        ("start=Signup", "lacks the role(s) id, price, interval, currency"),
        ("id=a,start=b,price=c,interval=d,currency=e,colour=f", "`colour` is not a role"),
        ("id=a,id=b", "mapped twice"),
        ("id=\"a", "not closed"),
        ("id", "not ROLE=COLUMN"),
    ];
    for (spec, expected) in cases {
        let error = ColumnMapping::parse(spec).expect_err(spec);
        assert!(error.contains(expected), "{spec}: {error}");
    }
    let output = run_subtwin(&[
        "history",
        "--map",
        "id=id,start=Signup,price=Amount,interval=Interval,currency=Currency",
        &fixture_arg("basic.csv"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("`Signup` (start)") && stderr.contains("Start Date (UTC)"), "{stderr}");
}

#[test]
fn rows_sharing_an_id_are_successive_periods_of_one_subscription() {
    // Invoice lines, one per service period. X is billed for January, February and March (its last
    // period ends on 1 April, after the as-of of 15 March: still live), at 10.00 then 12.00 from
    // March; Y only for January (ended 1 February: churned in February). A repeated line of X is set
    // aside, not counted twice.
    // January: X and Y, 20.00, 2 new. February: Y churned at 00:00 on the 1st: 1 paid, 10.00.
    // March (partial): X continues at 12.00: an expansion of 2.00, no churn, nothing new.
    let lines = "Subscription external ID,Service period start,Service period end,Amount,Plan\n\
                 X,2025-01-01,2025-02-01,10.00,Pro\n\
                 Y,2025-01-01,2025-02-01,10.00,Pro\n\
                 X,2025-02-01,2025-03-01,10.00,Pro\n\
                 X,2025-03-01,2025-04-01,12.00,Pro\n\
                 X,2025-03-01,2025-04-01,12.00,Pro\n";
    let mut request = mapped(
        "id=\"Subscription external ID\",start=\"Service period start\",end=\"Service period end\",price=Amount,\
         segment=Plan,interval=@month,currency=@usd",
    );
    request.history.as_of = subtwin::import::values::parse_as_of("2025-03-15");
    let report = subtwin::history_of_export("lines.csv", lines.as_bytes(), &request, &mut |_| {}).expect("imports");
    let set_aside: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(set_aside, [6], "the repeated March line of X");
    let figures: Vec<(&str, u64, f64, u64, u64, f64)> = report
        .months
        .iter()
        .map(|m| {
            let f = &m.figures;
            (m.month.as_str(), f.active, f.mrr, f.new, f.churned, f.expansion_mrr)
        })
        .collect();
    assert_eq!(
        figures,
        [("2025-01", 2, 20.0, 2, 0, 0.0), ("2025-02", 1, 10.0, 0, 1, 0.0), ("2025-03", 1, 12.0, 0, 0, 2.0)]
    );
}
