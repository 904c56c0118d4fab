//! The native command, `subtwin history FILE`: its JSON is the library's report, its problems go to
//! stderr one per line, and its exit codes are 0 (done), 1 (`--strict` and rows were set aside) and
//! 2 (unusable input or arguments, with the reason on stderr).

use std::io::Read;
use std::process::{Command, Stdio};

use serde_json::Value;
use subtwin::demo::{write_stripe_csv, DemoConfig};
use subtwin::report::{to_json, HistoryReport};

use crate::support::*;

#[test]
fn json_mode_prints_one_line_equal_to_the_library_report() {
    for name in GOOD_FIXTURES {
        let output = run_subtwin(&["history", &fixture_arg(name), "--json"]);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", text(&output.stderr));
        let stdout = text(&output.stdout);
        assert_eq!(stdout.matches('\n').count(), 1, "{name}: one line");
        assert!(stdout.ends_with('\n'), "{name}: ends its line");
        let line = stdout.trim_end_matches('\n');
        let parsed: HistoryReport = serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}"));
        let library = report_of(name);
        assert_eq!(line, to_json(&library), "{name}: the same JSON as the library");
        let as_value: Value = serde_json::from_str(line).expect("valid JSON");
        assert_eq!(as_value, serde_json::to_value(&library).expect("serialises"), "{name}");
        assert_eq!(parsed.as_of, library.as_of, "{name}");
        assert_eq!(parsed.months.len(), library.months.len(), "{name}");
        // Only the problems listing (none in --json mode) may go to stderr.
        assert_eq!(text(&output.stderr), "", "{name}: stderr");
    }
}

#[test]
fn json_as_of_is_an_utc_instant_with_seconds_and_a_z() {
    let output = run_subtwin(&["history", &fixture_arg("basic.csv"), "--json"]);
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(value["as_of"], "2025-04-18T16:42:00Z");
    assert_eq!(value["currency"], "usd");
    assert_eq!(value["months"][0]["month"], "2025-01");
    assert_eq!(value["months"][0]["by_segment"]["Pro (month)"]["mrr"], 30.0);
}

#[test]
fn readable_mode_prints_each_problem_on_its_own_stderr_line() {
    let output = run_subtwin(&["history", &fixture_arg("problems.csv")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let report = report_of("problems.csv");
    assert_eq!(lines.len(), report.problems.len(), "{stderr}");
    for (line, problem) in lines.iter().zip(&report.problems) {
        let start = format!("problems.csv:{}: ", problem.line);
        assert!(line.starts_with(&start), "{line:?} should start with {start:?}");
        assert!(line.contains(&problem.reason), "{line:?}");
        assert!(line.contains(&format!("`{}`", problem.value)), "{line:?}");
    }
    // The tables go to stdout.
    assert!(!output.stdout.is_empty());
}

#[test]
fn strict_exits_1_only_when_rows_were_set_aside() {
    // (fixture, extra flags, exit code)
    let cases: &[(&str, &[&str], i32)] = &[
        ("problems.csv", &["--strict"], 1),
        ("problems.csv", &["--strict", "--json"], 1),
        ("problems.csv", &[], 0),
        ("currencies.csv", &["--strict"], 1),
        ("basic.csv", &["--strict"], 0),
        ("basic.csv", &["--strict", "--json"], 0),
    ];
    for (name, flags, code) in cases {
        let path = fixture_arg(name);
        let mut args = vec!["history", path.as_str()];
        args.extend_from_slice(flags);
        let output = run_subtwin(&args);
        assert_eq!(output.status.code(), Some(*code), "{name} {flags:?}: {}", text(&output.stderr));
        // The report is printed whatever the check says.
        assert!(!output.stdout.is_empty(), "{name} {flags:?}: no report");
    }
}

#[test]
fn unusable_input_exits_2_with_the_reason_on_stderr() {
    let empty = scratch_path("empty.csv");
    std::fs::write(&empty, b"").expect("write");
    let binary = scratch_path("binary.csv");
    std::fs::write(&binary, b"PK\x03\x04\x14\0\0\0\x08\0\0\0!\0\xb5U\x18\x01\0\0\0\0").expect("write");
    let missing = scratch_path("does-not-exist.csv");
    let _ = std::fs::remove_file(&missing);
    let basic = fixture_arg("basic.csv");
    let header_only = fixture_arg("header_only.csv");
    // Not a table subtwin reads (other_kind.csv, a telco churn excerpt, is now read as a snapshot
    // table: see `tables`).
    let other_kind = scratch_path("contacts.csv");
    std::fs::write(&other_kind, "name,email,city\nAda,ada@example.com,London\nAlan,alan@example.com,Wilmslow\n")
        .expect("write");
    let other_kind = other_kind.to_string_lossy().into_owned();
    let empty = empty.to_string_lossy().into_owned();
    let binary = binary.to_string_lossy().into_owned();
    let missing = missing.to_string_lossy().into_owned();
    // (arguments after `history`, a word stderr must contain)
    let cases: &[(&[&str], &str)] = &[
        (&[&empty], "empty"),
        (&[&header_only], "no rows"),
        (&[&binary], "binary"),
        (&[&other_kind], "Customer ID"),
        (&[&missing], "does-not-exist.csv"),
        (&[&basic, "--as-of", "31/03/2025"], "--as-of"),
        (&[&basic, "--as-of", "2025-02-30"], "--as-of"),
        (&[&basic, "--currency", "xyz"], "xyz"),
        (&[&empty, "--json"], "empty"),
        (&[&basic, "--no-such-flag"], "--no-such-flag"),
    ];
    for (args, word) in cases {
        let mut all = vec!["history"];
        all.extend_from_slice(args);
        let output = run_subtwin(&all);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(word), "{args:?}: stderr {stderr:?} should mention {word:?}");
        assert!(output.stdout.is_empty(), "{args:?}: printed {:?}", text(&output.stdout));
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn when_every_row_is_set_aside_the_problems_are_still_shown() {
    // One data row, with a negative amount (line 2). The file cannot make a history, but the person
    // must still learn which row was set aside and why.
    let path = scratch_path("all-bad.csv");
    std::fs::write(
        &path,
        "id,Customer ID,Status,Start Date (UTC),Product,Interval,Amount,Currency\n\
         sub_1,cus_1,active,2025-01-05 10:00,Pro,month,-30.00,usd\n",
    )
    .expect("write");
    let output = run_subtwin(&["history", &path.to_string_lossy()]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("all-bad.csv:2:") && stderr.contains("-30.00"),
        "stderr should list the row set aside (line 2, `-30.00`): {stderr:?}"
    );
}

#[test]
fn as_of_date_means_the_end_of_that_day() {
    // basic.csv as of 2025-01-31: sub_p1, which starts at 23:59 that day, is in: 3 active, 50.
    let output = run_subtwin(&["history", &fixture_arg("basic.csv"), "--as-of", "2025-01-31", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: HistoryReport = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report.as_of, "2025-01-31T23:59:59Z");
    assert!(!report.summary.as_of_derived);
    let months: Vec<(&str, bool, u64, f64)> =
        report.months.iter().map(|m| (m.month.as_str(), m.partial, m.figures.active, m.figures.mrr)).collect();
    assert_eq!(months, [("2025-01", false, 3, 50.0)]);
    // The same as the library with the same as-of.
    assert_eq!(report, report_with("basic.csv", &request_as_of("2025-01-31")));

    // cancel_at_period_end.csv as of 2025-03-31: sub_c1 (period end 04-05) is still active.
    let output = run_subtwin(&["history", &fixture_arg("cancel_at_period_end.csv"), "--as-of", "2025-03-31", "--json"]);
    let report: HistoryReport = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report.as_of, "2025-03-31T23:59:59Z");
    let last = report.months.last().expect("months");
    assert_eq!((last.month.as_str(), last.partial, last.figures.active), ("2025-03", false, 3));
}

#[test]
fn currency_option_selects_the_other_currency() {
    let output = run_subtwin(&["history", &fixture_arg("currencies.csv"), "--currency", "eur", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: HistoryReport = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report.currency, "eur");
    // February: sub_e1 + sub_e2 = 2 x 25.
    let last = report.months.last().expect("months");
    assert_eq!((last.figures.active, last.figures.mrr), (2, 50.0));
}

fn big_demo_file() -> String {
    let path = scratch_path("demo-big.csv");
    let config = DemoConfig { subscriptions: 20_000, ..DemoConfig::default() };
    let mut bytes = Vec::new();
    write_stripe_csv(&mut bytes, &config).expect("writing to a Vec");
    std::fs::write(&path, bytes).expect("write the demo file");
    path.to_string_lossy().into_owned()
}

#[test]
fn a_closed_output_pipe_ends_the_command_quietly() {
    let demo = big_demo_file();
    // As a person types it. `pipefail` makes the pipeline fail if subtwin does.
    for mode in ["", " --json"] {
        let script = format!("set -o pipefail; \"$0\" history \"$1\"{mode} | head -1 > /dev/null");
        let output = Command::new("bash")
            .args(["-c", &script, env!("CARGO_BIN_EXE_subtwin"), &demo])
            .output()
            .expect("bash runs");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "mode {mode:?}: {stderr}");
        assert_eq!(stderr, "", "mode {mode:?}: stderr");
    }
    // And with the pipe closed before anything is written, so that the write surely fails.
    for mode in [&[][..], &["--json"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_subtwin"))
            .arg("history")
            .arg(&demo)
            .args(mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("subtwin starts");
        drop(child.stdout.take());
        let mut stderr = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read stderr");
        let status = child.wait().expect("subtwin ends");
        assert_eq!(status.code(), Some(0), "mode {mode:?}: {stderr}");
        assert_eq!(stderr, "", "mode {mode:?}: stderr");
    }
}
