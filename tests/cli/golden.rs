//! Files the project ships or compares against stay equal to what the code produces now.
//! `UPDATE_GOLDEN=1 cargo test` rewrites them after a deliberate change.

use std::path::Path;
use std::process::Command;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn check_or_update(path: &str, produced: &[u8]) {
    let path = repo(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, produced).expect("golden file written");
        return;
    }
    let shipped = std::fs::read(&path).expect("golden file present");
    assert!(
        shipped == produced,
        "{} differs from what the code produces now ({} vs {} bytes); if the change is deliberate, run UPDATE_GOLDEN=1 cargo test",
        path.display(),
        shipped.len(),
        produced.len()
    );
}

#[test]
fn shipped_demo_export_is_what_the_demo_command_writes() {
    let output = Command::new(env!("CARGO_BIN_EXE_subtwin")).arg("demo").output().expect("subtwin runs");
    assert!(output.status.success());
    check_or_update("www/demo-stripe.csv", &output.stdout);
    assert!(output.stdout.len() < 2_000_000, "the demo stays under 2 MB: {} bytes", output.stdout.len());
}

/// The WebAssembly test `wasm_history_json_is_byte_identical_to_the_native_command` compares the
/// browser's output with this file, so native and wasm agree byte for byte through it.
#[test]
fn demo_history_json_matches_the_native_command() {
    let output = Command::new(env!("CARGO_BIN_EXE_subtwin"))
        .args(["history", "--json"])
        .arg(repo("www/demo-stripe.csv"))
        .output()
        .expect("subtwin runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    check_or_update("tests/fixtures/demo-stripe.history.json", &output.stdout);
}

#[test]
fn history_chart_draws_every_segment_to_svg() {
    use plotters::prelude::*;
    let bytes = std::fs::read(repo("www/demo-stripe.csv")).expect("demo present");
    let report =
        subtwin::history_of_export("demo-stripe.csv", &bytes, &Default::default(), &mut |_| {}).expect("imports");
    for metric in [subtwin::chart::HistoryMetric::Mrr, subtwin::chart::HistoryMetric::Subscribers] {
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, (900, 380)).into_drawing_area();
            subtwin::chart::draw_history(&area, &report, metric).expect("drawn");
        }
        for segment in &report.segments {
            assert!(svg.contains(segment.as_str()), "{metric:?}: the legend names {segment}");
        }
        for (_, colour) in subtwin::chart::segment_order(&report) {
            let hex = format!("#{:02X}{:02X}{:02X}", colour.0, colour.1, colour.2);
            assert!(svg.to_uppercase().contains(&hex), "{metric:?}: an area in {hex}");
        }
        assert!(svg.contains("2021-12") && svg.contains("month (the last one is partial)"), "axis labels");
    }
}
