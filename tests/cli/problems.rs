//! Rows the importer cannot read are set aside with their line, column, value, reason and hint, and
//! the good rows are still counted; a file that cannot be used at all is an `ImportError` that says
//! what is missing.

use subtwin::import::ImportError;
use subtwin::HistoryRequest;

use crate::support::*;

fn import_error(name: &str, bytes: &[u8], request: &HistoryRequest) -> ImportError {
    match subtwin::history_of_export(name, bytes, request, &mut |_| {}) {
        Ok(report) => panic!("{name}: expected an import error, got a report of {} months", report.months.len()),
        Err(error) => error,
    }
}

// problems.csv: the header says `Start (UTC)` (the older name). Lines 5-6 and 15-16 are records
// with a quoted Customer Name holding a line break, so the records after them start one line later
// than their position among records.
#[test]
fn bad_rows_are_set_aside_with_line_column_value_and_reason() {
    let report = report_of("problems.csv");
    // (line where the record starts, column as the header writes it, value, a word of the reason)
    let expected: &[(u64, &str, &str, &str)] = &[
        (3, "Start (UTC)", "2025-02-30 10:00", "date"),
        (4, "Amount", "-30.00", "negative"),
        (7, "Amount", "thirty", "number"),
        (8, "Amount", "NaN", "number"),
        (9, "Interval", "fortnight", "interval"),
        (10, "Status", "frozen", "status"),
        (11, "Ended At (UTC)", "2025-01-05 10:00", "before"),
        (12, "", "5 fields", "fields"),
        (13, "id", "sub_good1", "line 2"),
        (14, "id", "", "blank"),
        (15, "Amount", "12.3.4", "number"),
    ];
    let actual: Vec<(u64, &str, &str)> =
        report.problems.iter().map(|p| (p.line, p.column.as_str(), p.value.as_str())).collect();
    let wanted: Vec<(u64, &str, &str)> = expected.iter().map(|(l, c, v, _)| (*l, *c, *v)).collect();
    assert_eq!(actual, wanted);
    for (problem, (_, _, _, word)) in report.problems.iter().zip(expected) {
        assert_eq!(problem.file, "problems.csv");
        assert!(
            problem.reason.to_lowercase().contains(word),
            "line {}: reason {:?} should mention {word:?}",
            problem.line,
            problem.reason
        );
        assert!(!problem.hint.trim().is_empty(), "line {}: no hint", problem.line);
    }
}

#[test]
fn good_rows_around_bad_ones_are_still_counted() {
    // Good: sub_good1 (line 2, 2025-01-10), sub_good2 (lines 5-6, 2025-02-01), sub_good3 (line 17,
    // 2025-03-05), Pro 30 USD a month each. The duplicate of sub_good1 (line 13, 02-12) is not.
    // As-of: sub_good1's period start 2025-03-10 10:00 (set-aside rows do not move it).
    let report = report_of("problems.csv");
    let s = &report.summary;
    assert_eq!((s.rows_read, s.rows_set_aside, s.subscriptions), (14, 11, 3));
    assert_eq!(report.as_of, "2025-03-10T10:00:00Z");
    expect_history(
        &report,
        &["2025-01", "2025-02", "2025-03"],
        &[
            ("2025-01", None, &[("active", 1.0), ("mrr", 30.0), ("new", 1.0), ("new_mrr", 30.0)]),
            ("2025-02", None, &[("active", 2.0), ("mrr", 60.0), ("new", 1.0), ("new_mrr", 30.0)]),
            ("2025-03", None, &[("active", 3.0), ("mrr", 90.0), ("new", 1.0), ("new_mrr", 30.0)]),
        ],
    );
}

// currencies.csv: sub_u1 (01-05), sub_u2 (01-10), sub_u3 (02-02), sub_u4 (02-09) at 30 USD;
// sub_e1 (line 3, 01-06) and sub_e2 (line 6, 02-03, written `EUR`) at 25 EUR; all monthly, live.
#[test]
fn rows_in_a_second_currency_are_set_aside_and_currency_selects_them() {
    // (requested currency, analysed currency, lines set aside, their currency, monthly actives and
    // MRR)
    type Case<'a> = (Option<&'a str>, &'a str, &'a [u64], &'a str, &'a [(&'a str, f64, f64)]);
    let cases: &[Case] = &[
        // Most rows are USD: Jan u1 + u2 = 60, Feb + u3 + u4 = 120.
        (None, "usd", &[3, 6], "eur", &[("2025-01", 2.0, 60.0), ("2025-02", 4.0, 120.0)]),
        // EUR asked for: Jan e1 = 25, Feb + e2 = 50.
        (Some("eur"), "eur", &[2, 4, 5, 7], "usd", &[("2025-01", 1.0, 25.0), ("2025-02", 2.0, 50.0)]),
        (Some("EUR"), "eur", &[2, 4, 5, 7], "usd", &[("2025-01", 1.0, 25.0), ("2025-02", 2.0, 50.0)]),
    ];
    for (requested, analysed, lines, other, months) in cases {
        let request = match requested {
            Some(code) => request_currency(code),
            None => HistoryRequest::default(),
        };
        let report = report_with("currencies.csv", &request);
        let context = format!("--currency {requested:?}");
        assert_eq!(report.currency, *analysed, "{context}");
        let set_aside: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
        assert_eq!(set_aside, *lines, "{context}");
        for p in &report.problems {
            assert_eq!(p.column, "Currency", "{context}");
            assert!(p.value.eq_ignore_ascii_case(other), "{context}: value {:?}", p.value);
            assert!(p.reason.to_lowercase().contains(other), "{context}: {:?}", p.reason);
        }
        let others: Vec<(&str, u64)> =
            report.summary.other_currencies.iter().map(|c| (c.currency.as_str(), c.rows)).collect();
        assert_eq!(others, [(*other, lines.len() as u64)], "{context}");
        let figures: Vec<(&str, f64, f64)> =
            report.months.iter().map(|m| (m.month.as_str(), m.figures.active as f64, m.figures.mrr)).collect();
        assert_eq!(figures, *months, "{context}");
    }
}

#[test]
fn unusable_files_are_import_errors_that_say_what_is_missing() {
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\x1f\xf3\xffa";
    let stripe_without_amount =
        "id,Customer ID,Status,Start Date (UTC),Current Period End (UTC),Product,Interval,Currency\n\
                                 sub_1,cus_1,active,2025-01-05 10:00,2025-02-05 10:00,Pro,month,usd\n";
    // (file name, bytes, words the message must contain)
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("empty.csv", Vec::new(), &["empty"]),
        ("blank.csv", b"\n \r\n\n".to_vec(), &["empty"]),
        ("header_only.csv", fixture_bytes("header_only.csv"), &["header", "no rows"]),
        ("photo.png", png.to_vec(), &["binary"]),
        // Not a billing export: every required column is named.
        (
            "other_kind.csv",
            fixture_bytes("other_kind.csv"),
            &["id", "Customer ID", "Status", "Start Date (UTC)", "Product", "Interval", "Amount", "Currency"],
        ),
        ("no_amount.csv", stripe_without_amount.as_bytes().to_vec(), &["Stripe", "Amount"]),
    ];
    for (name, bytes, words) in cases {
        let error = import_error(name, &bytes, &HistoryRequest::default());
        assert_eq!(error.file, name);
        for word in words {
            assert!(error.message.contains(word), "{name}: {:?} should name {word:?}", error.message);
        }
    }
}

#[test]
fn a_currency_that_is_not_iso_4217_is_an_import_error() {
    let error = import_error("basic.csv", &fixture_bytes("basic.csv"), &request_currency("xyz"));
    assert!(error.message.contains("xyz"), "{:?}", error.message);
}

#[test]
fn a_byte_order_mark_and_windows_line_ends_change_nothing() {
    let plain = fixture_bytes("basic.csv");
    let mut windows = b"\xEF\xBB\xBF".to_vec();
    for line in plain.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        windows.extend_from_slice(line);
        windows.extend_from_slice(b"\r\n");
    }
    let expected = report_of("basic.csv");
    assert_eq!(report_of_bytes("basic.csv", &windows, &HistoryRequest::default()), expected);
}

#[test]
fn a_latin1_row_is_decoded_not_set_aside() {
    // Line 2-3: a record with a line break in a quoted name; line 4: `José` and a product `Básico` in
    // Latin-1 (Windows-1252), as a spreadsheet on Windows saves it. Decoded, not rejected.
    let mut bytes = b"id,Customer ID,Customer Name,Status,Start Date (UTC),Product,Interval,Amount,Currency\n".to_vec();
    bytes.extend_from_slice(b"sub_1,cus_1,\"Two\nlines\",active,2025-01-05 00:00,Basic,month,10.00,usd\n");
    bytes.extend_from_slice(b"sub_2,cus_2,Jos\xe9,active,2025-01-06 00:00,B\xe1sico,month,10.00,usd\n");
    bytes.extend_from_slice(b"sub_3,cus_3,Ann,active,2025-01-07 00:00,Basic,month,10.00,usd\n");
    let report = report_of_bytes("latin1.csv", &bytes, &HistoryRequest::default());
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.segments, ["Basic (month)", "Básico (month)"]);
    let s = &report.summary;
    assert_eq!((s.rows_read, s.rows_set_aside, s.subscriptions), (3, 0, 3));
}

#[test]
fn a_bad_row_after_blank_lines_and_crlf_reports_the_line_its_text_is_on() {
    // Lines: 1 header, 2 good, 3 blank, 4 blank, 5 bad amount, 6 good. CRLF line ends throughout.
    let text = "id,Customer ID,Status,Start Date (UTC),Product,Interval,Amount,Currency\r\n\
                sub_1,cus_1,active,2025-01-05 00:00,Basic,month,10.00,usd\r\n\r\n\r\n\
                sub_2,cus_2,active,2025-01-06 00:00,Basic,month,ten,usd\r\n\
                sub_3,cus_3,active,2025-01-07 00:00,Basic,month,10.00,usd\r\n";
    let report = report_of_bytes("blank-lines.csv", text.as_bytes(), &HistoryRequest::default());
    let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [5]);
}

#[test]
fn a_start_after_today_is_a_problem_unless_scheduled() {
    // Today is 2025-03-10 (any time that day). sub_late starts on the 11th: a problem. A Chargebee
    // `Future` subscription may start later: it is scheduled, not a problem.
    let today = subtwin::import::values::parse_instant("2025-03-10 08:00").expect("a date");
    let request = HistoryRequest {
        import: subtwin::import::ImportOptions { today: Some(today), ..Default::default() },
        ..HistoryRequest::default()
    };
    let stripe = "id,Customer ID,Status,Start Date (UTC),Product,Interval,Amount,Currency\n\
                  sub_ok,cus_1,active,2025-03-10 23:59,Basic,month,10.00,usd\n\
                  sub_late,cus_2,active,2025-03-11 00:00,Basic,month,10.00,usd\n";
    let report = report_of_bytes("late.csv", stripe.as_bytes(), &request);
    let set_aside: Vec<(u64, &str)> = report.problems.iter().map(|p| (p.line, p.column.as_str())).collect();
    assert_eq!(set_aside, [(3, "Start Date (UTC)")]);
    assert!(report.problems[0].reason.contains("after today"), "{:?}", report.problems[0]);

    let chargebee = "subscriptions.id,customers.id,subscriptions.plan_id,subscriptions.plan_unit_price,\
                     subscriptions.plan_quantity,subscriptions.status,subscriptions.start_date,\
                     subscriptions.current_term_start,subscriptions.current_term_end,subscriptions.currency_code\n\
                     s1,c1,basic-monthly,10.00,1,Active,2025-01-05 00:00,2025-03-05 00:00,2025-04-05 00:00,USD\n\
                     s2,c2,basic-monthly,10.00,1,Future,2025-04-01 00:00,,,USD\n";
    let report = report_of_bytes("future.csv", chargebee.as_bytes(), &request);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn the_problems_download_writes_a_value_that_looks_like_a_formula_as_text() {
    let problem = |value: &str| subtwin::import::Problem {
        file: "export.csv".to_owned(),
        line: 7,
        column: "Amount".to_owned(),
        value: value.to_owned(),
        reason: "not an amount".to_owned(),
        hint: "write the amount as a number".to_owned(),
    };
    let csv = subtwin::report::problems_csv(&[problem("=cmd|'/C calc'!A0"), problem("12,5 EUR")]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let values: Vec<String> = reader.records().map(|r| r.expect("a record")[3].to_owned()).collect();
    assert_eq!(values, ["'=cmd|'/C calc'!A0", "12,5 EUR"]);
}
