//! Exports as spreadsheets leave them: other delimiters, decimal commas, slashed dates in either
//! order, title lines, byte-order marks, CRLF, Windows-1252. Each variant of a hand-worked fixture
//! must give exactly the fixture's history.

use subtwin::import::values::DateOrder;
use subtwin::import::ImportOptions;
use subtwin::HistoryRequest;

use crate::support::{fixture_bytes, report_of, report_of_bytes, run_subtwin, scratch_path, text};

/// `2025-01-05 10:00` → the same instant written by `write(year, month, day, time)`.
fn rewrite_dates(csv: &str, write: impl Fn(&str, &str, &str, &str) -> String) -> String {
    let mut out = String::with_capacity(csv.len());
    let mut rest = csv;
    while let Some(position) = rest.find("20") {
        let candidate = &rest[position..];
        let bytes = candidate.as_bytes();
        let is_date = bytes.len() >= 16
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes[10] == b' '
            && bytes[13] == b':'
            && bytes[..4].iter().all(u8::is_ascii_digit);
        out.push_str(&rest[..position]);
        if is_date {
            out.push_str(&write(&candidate[..4], &candidate[5..7], &candidate[8..10], &candidate[11..16]));
            rest = &candidate[16..];
        } else {
            out.push_str("20");
            rest = &candidate[2..];
        }
    }
    out.push_str(rest);
    out
}

fn basic() -> String {
    String::from_utf8(fixture_bytes("basic.csv")).expect("UTF-8")
}

fn same_history_as_basic(name: &str, bytes: &[u8]) {
    let expected = report_of("basic.csv");
    let report = report_of_bytes(name, bytes, &HistoryRequest::default());
    assert!(report.problems.is_empty(), "{name}: {:?}", report.problems);
    assert_eq!(report.months, expected.months, "{name}");
    assert_eq!(report.as_of, expected.as_of, "{name}");
}

#[test]
fn a_european_spreadsheet_export_reads_the_same() {
    // Semicolons between fields, decimal commas, day/month dates, CRLF, a BOM.
    let european = rewrite_dates(&basic(), |y, m, d, t| format!("{d}/{m}/{y} {t}"));
    let european = european.replace(',', ";").replace(".00;", ",00;").replace('\n', "\r\n");
    // The company name held a comma inside quotes: it is now a semicolon inside quotes, still one field.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(european.as_bytes());
    same_history_as_basic("european.csv", &bytes);
}

#[test]
fn an_american_spreadsheet_export_reads_the_same() {
    // Month/day dates with 12-hour times, tab-separated, two title lines above the header.
    let american = rewrite_dates(&basic(), |y, m, d, t| {
        let (hour, minute): (u32, &str) = (t[..2].parse().expect("hour"), &t[3..]);
        let (twelve, meridiem) = match hour {
            0 => (12, "AM"),
            1..=11 => (hour, "AM"),
            12 => (12, "PM"),
            _ => (hour - 12, "PM"),
        };
        format!("{}/{}/{y} {twelve}:{minute} {meridiem}", m.trim_start_matches('0'), d.trim_start_matches('0'))
    });
    let tabbed = american.replace("\"Example Labs, Inc.\"", "Example Labs Inc.").replace(',', "\t");
    let titled = format!("Subscriptions\nExported from the billing system\n{tabbed}");
    same_history_as_basic("american.tsv", titled.as_bytes());
}

#[test]
fn a_windows_1252_file_reads_the_same() {
    let latin = basic().replace("Ada Lovelace", "Adé Lovelace");
    let bytes: Vec<u8> = latin.chars().map(|c| if c == 'é' { 0xE9 } else { c as u8 }).collect();
    same_history_as_basic("latin1.csv", &bytes);
}

#[test]
fn dates_that_cannot_tell_their_order_are_asked_about() {
    let header = "id,Customer ID,Status,Start Date (UTC),Product,Interval,Amount,Currency\n";
    let ambiguous = format!(
        "{header}sub_1,cus_1,active,03/04/2025 10:00,Basic,month,10.00,usd\nsub_2,cus_2,active,05/06/2025 10:00,Basic,month,10.00,usd\n"
    );
    let error =
        subtwin::history_of_export("ambiguous.csv", ambiguous.as_bytes(), &HistoryRequest::default(), &mut |_| {})
            .expect_err("the order is asked for");
    assert!(error.message.contains("03/04/2025 10:00 on line 2") && error.message.contains("--date-order"), "{error}");

    let day_month = HistoryRequest {
        import: ImportOptions { date_order: Some(DateOrder::DayMonth), ..ImportOptions::default() },
        ..HistoryRequest::default()
    };
    let report = report_of_bytes("ambiguous.csv", ambiguous.as_bytes(), &day_month);
    assert_eq!(report.summary.first_month.as_deref(), Some("2025-04"), "03/04 is the 3rd of April");

    let path = scratch_path("ambiguous.csv");
    std::fs::write(&path, &ambiguous).expect("write");
    let asked = run_subtwin(&["history", &path.to_string_lossy()]);
    assert_eq!(asked.status.code(), Some(2));
    assert!(text(&asked.stderr).contains("--date-order"), "{}", text(&asked.stderr));
    let told = run_subtwin(&["history", "--json", "--date-order", "mdy", &path.to_string_lossy()]);
    assert_eq!(told.status.code(), Some(0), "{}", text(&told.stderr));
    let report: subtwin::report::HistoryReport = serde_json::from_slice(&told.stdout).expect("JSON");
    assert_eq!(report.summary.first_month.as_deref(), Some("2025-03"), "03/04 is March the 4th");
}

#[test]
fn a_file_mixing_both_orders_is_refused_with_both_examples() {
    let header = "id,Customer ID,Status,Start Date (UTC),Product,Interval,Amount,Currency\n";
    let mixed = format!(
        "{header}sub_1,cus_1,active,31/01/2025,Basic,month,10.00,usd\nsub_2,cus_2,active,01/31/2025,Basic,month,10.00,usd\n"
    );
    let error = subtwin::history_of_export("mixed.csv", mixed.as_bytes(), &HistoryRequest::default(), &mut |_| {})
        .expect_err("refused");
    assert!(
        error.message.contains("31/01/2025 on line 2") && error.message.contains("01/31/2025 on line 3"),
        "{error}"
    );
}
