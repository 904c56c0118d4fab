//! `subtwin link` and `subtwin simulate --link`: a link opens the shared twin's results to the byte,
//! says how far they are from the full data's, and every damaged or hostile link is refused with a
//! message and exit code 2, never a panic.

use subtwin::share;

use crate::support::*;

fn demo() -> String {
    format!("{}/www/demo-stripe.csv", env!("CARGO_MANIFEST_DIR"))
}

/// A link to the demo with the price scenario, over a short run: (stdout's last line, stderr).
fn demo_link(extra: &[&str]) -> (String, String) {
    let (demo, scenario) = (demo(), fixture_arg("demo-stripe.scenario-prices.json"));
    let mut args = vec!["link", &demo, "--scenario", &scenario, "--horizon", "6", "--runs", "60"];
    args.extend_from_slice(extra);
    let output = run_subtwin(&args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    (last, text(&output.stderr))
}

fn simulate_link(link: &str) -> std::process::Output {
    run_subtwin(&["simulate", "--link", link, "--json"])
}

#[test]
fn a_link_opens_to_the_same_json_as_simulating_the_shared_twin() {
    let (link, stderr) = demo_link(&[]);
    assert!(link.starts_with("http://127.0.0.1:8080/#s2."), "{link}");
    let output = simulate_link(&link);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("These are the numbers the sender saw."), "{}", text(&output.stderr));

    // The same bytes as the library gives for the link's twin, and the digest the link carries.
    let decoded = share::decode(&link).expect("the link decodes");
    let scenarios: Vec<_> = decoded.scenarios.iter().map(|s| ("s".to_owned(), s.clone())).collect();
    let report = subtwin::simulate_twin(&decoded.twin, &decoded.options, &scenarios).expect("simulates");
    let json = subtwin::report::simulate::to_json(&report);
    assert_eq!(text(&output.stdout), format!("{json}\n"));
    assert_eq!(share::report_digest(&text(&output.stdout)), decoded.digest);
    assert_eq!(decoded.options, subtwin::SimulateOptions { horizon_months: 6, paths: 60, seed: 20_251_231 });

    // The shared twin names no segment, and the stderr compares it with the full data.
    for name in ["Pro", "Starter", "Team"] {
        assert!(!json.contains(&format!("\"{name} (")), "{name} travelled");
    }
    assert!(json.contains("Segment A (month)"), "{json}");
    assert!(stderr.contains("Full data") && stderr.contains("Shared twin") && stderr.contains("Baseline"), "{stderr}");
    assert!(stderr.contains("Raise monthly prices 20%"), "{stderr}");
    // What the link holds, and its length: the whole address printed on stdout's last line.
    let said = format!(
        "The link holds 6 segment(s) under neutral names (--keep-names keeps them), 1 scenario(s), and no cell, \
         price or segment of fewer than 5 subscribers; it is {} characters long.",
        link.chars().count()
    );
    assert!(stderr.contains(&said), "{said} in {stderr}");
}

#[test]
fn keep_names_and_a_base_url_are_honoured() {
    let (link, _) = demo_link(&["--keep-names", "--base-url", "https://example.org/subtwin/"]);
    assert!(link.starts_with("https://example.org/subtwin/#s2."), "{link}");
    let decoded = share::decode(&link).expect("decodes");
    assert!(decoded.twin.twin.segments.iter().any(|s| s.name == "Pro (month)"));
    let output = run_subtwin(&["link", &demo(), "--base-url", "http://x/#y"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--base-url"), "{}", text(&output.stderr));
}

#[test]
fn damaged_truncated_oversized_and_hostile_links_are_refused_with_a_message() {
    let (link, _) = demo_link(&[]);
    let middle = link.len() / 2;
    let mut damaged = link.clone().into_bytes();
    damaged[middle] = if damaged[middle] == b'A' { b'B' } else { b'A' };
    let damaged = String::from_utf8(damaged).expect("ASCII");
    let cases: Vec<(String, &str)> = vec![
        (damaged, "damaged"),
        (link[..middle].to_owned(), "damaged"),
        (format!("#s2.{}", "A".repeat(share::MAX_LINK_CHARS)), "characters long"),
        ("#s3.AAAA".to_owned(), "format s3"),
        ("javascript:alert(1)".to_owned(), "not a subtwin link"),
        ("#s2.<img src=x onerror=alert(1)>".to_owned(), "damaged"),
        ("#s2.".to_owned(), "damaged"),
        ("#s1.".to_owned(), "damaged"),
        ("".to_owned(), "not a subtwin link"),
    ];
    for (case, expected) in cases {
        let output = simulate_link(&case);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{case:.60}: {stderr}");
        assert!(stderr.contains(expected), "{case:.60}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn a_link_from_another_engine_version_opens_and_says_it_was_recomputed() {
    let (link, _) = demo_link(&[]);
    let mut decoded = share::decode(&link).expect("decodes");
    decoded.engine_version = subtwin::sim::ENGINE_VERSION + 1;
    decoded.digest = "00000000deadbeef".into();
    let older = format!("http://127.0.0.1:8080/#{}", share::encode(&decoded).expect("encodes"));
    let output = simulate_link(&older);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("Recomputed"), "{}", text(&output.stderr));
    // The numbers are this engine's for the same twin: those of the link as it was made.
    assert_eq!(output.stdout, simulate_link(&link).stdout);
}

#[test]
fn a_link_in_format_s1_opens_to_the_numbers_its_sender_saw_or_says_they_were_recomputed() {
    // Made by `subtwin link` on the demo with both demo scenarios, 12 months, 200 paths, when links
    // were written in format s1, with engine version 1.
    let link = String::from_utf8(fixture_bytes("demo-stripe.link-s1.txt")).expect("ASCII");
    let output = simulate_link(link.trim());
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let decoded = share::decode(&link).expect("decodes");
    assert_eq!(decoded.engine_version, 1);
    let same = share::report_digest(&text(&output.stdout)) == decoded.digest;
    if decoded.engine_version == subtwin::sim::ENGINE_VERSION {
        assert!(same && stderr.contains("These are the numbers the sender saw."), "{stderr}");
    } else {
        assert!(stderr.contains("Recomputed"), "{stderr}");
    }
}

#[test]
fn a_link_and_files_together_are_refused() {
    let (link, _) = demo_link(&[]);
    let output = run_subtwin(&["simulate", &demo(), "--link", &link]);
    assert_eq!(output.status.code(), Some(2));
    let output = run_subtwin(&["simulate"]);
    assert_eq!(output.status.code(), Some(2), "no file and no link");
}

/// The demo company's export with its Starter and Pro subscriptions sold through partners renamed
/// "Starter Partner" and "Pro Partner": ten segments (five products, monthly and annual) instead of
/// six.
fn partner_products(bytes: &[u8]) -> Vec<u8> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().expect("a header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (product, channel) = (column("Product"), column("signup_channel (metadata)"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).expect("written");
    for record in reader.records() {
        let record = record.expect("a record");
        let renamed = match (&record[product], &record[channel]) {
            (name @ ("Starter" | "Pro"), "partner") => Some(format!("{name} Partner")),
            _ => None,
        };
        let fields = record.iter().enumerate().map(|(i, field)| match &renamed {
            Some(name) if i == product => name.as_str(),
            _ => field,
        });
        writer.write_record(fields).expect("written");
    }
    writer.into_inner().expect("flushed")
}

/// The two demo scenarios, aimed at the twin's largest monthly segment of each product when the
/// segments are not the products; `None` when the twin lacks one.
fn demo_scenarios(twin: &subtwin::twin::Twin) -> Option<Vec<(String, subtwin::scenario::Scenario)>> {
    let mut renamed = Vec::new();
    for product in ["Starter", "Pro", "Team"] {
        let largest = twin
            .segments
            .iter()
            .filter(|s| s.cadence == subtwin::twin::Cadence::EveryMonths(1))
            .filter(|s| s.name.to_lowercase().contains(&product.to_lowercase()))
            .max_by_key(|s| s.cells.iter().flat_map(|c| &c.mrr).map(|g| g.subscribers).sum::<u64>())?;
        renamed.push((format!("\"{product} (month)\""), serde_json::to_string(&largest.name).ok()?));
    }
    let read = |name: &str| {
        let mut text = String::from_utf8(fixture_bytes(name)).ok()?;
        for (from, to) in &renamed {
            text = text.replace(from, to);
        }
        subtwin::scenario::from_json(name, text.as_bytes()).ok()
    };
    Some(vec![
        ("prices".to_owned(), read("demo-stripe.scenario-prices.json")?),
        ("new plan".to_owned(), read("demo-stripe.scenario-new-plan.json")?),
    ])
}

/// The goal for a typical twin: the demo company with ten segments (its partner sales as products of
/// their own) and both demo scenarios makes a link of at most 2,000 characters, base URL included
/// (1,806 when measured).
#[test]
fn a_ten_segment_twin_of_the_demo_with_two_scenarios_fits_in_two_thousand_characters() {
    let bytes = partner_products(&std::fs::read(demo()).expect("the demo"));
    let calibrated = subtwin::calibrated_twin(&[("partner.csv", bytes.as_slice())], &Default::default(), &mut |_| {})
        .expect("the demo calibrates");
    assert_eq!(calibrated.twin.segments.len(), 10);
    let scenarios = demo_scenarios(&calibrated.twin).expect("the demo scenarios aim at its segments");
    let options = subtwin::SimulateOptions { horizon_months: 24, paths: 1000, seed: 20_251_231 };
    let (link, _) = share::make_link(&calibrated, &scenarios, &options, false).expect("a link");
    assert_eq!((link.twin.twin.segments.len(), link.scenarios.len()), (10, 2));
    let length = "http://127.0.0.1:8080/#".len() + share::encode(&link).expect("encodes").len();
    assert!(length <= 2000, "{length} characters");
}

/// The size of the links of the demo and of every fixture a twin calibrates on (run with
/// `cargo test --test cli link_sizes -- --ignored --nocapture`; BENCHMARKS.md records it).
#[test]
#[ignore]
fn link_sizes_over_the_demo_and_the_fixtures() {
    let base = "http://127.0.0.1:8080/#";
    let options = subtwin::SimulateOptions { horizon_months: 24, paths: 1000, seed: 20_251_231 };
    let plan = || vec!["plan".to_owned()];
    // (name, bytes, --segment-by).
    let mut inputs: Vec<(String, Vec<u8>, Vec<String>)> =
        vec![("www/demo-stripe.csv".into(), std::fs::read(demo()).expect("the demo"), vec![])];
    let mut names: Vec<String> = std::fs::read_dir(fixture_path(""))
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".csv"))
        .collect();
    names.sort();
    inputs.extend(names.into_iter().map(|n| (format!("tests/fixtures/{n}"), fixture_bytes(&n), vec![])));
    // The demo company at other sizes and seeds, as `subtwin demo --subscriptions N --seed S` writes it.
    for (subscriptions, seed) in [(1_000, 1), (2_000, 2), (5_500, 3), (20_000, 1), (50_000, 4)] {
        let config = subtwin::demo::DemoConfig { subscriptions, seed, ..subtwin::demo::DemoConfig::default() };
        let mut bytes = Vec::new();
        subtwin::demo::write_csv(&mut bytes, &config, subtwin::demo::DemoFormat::Stripe).expect("the demo");
        if subscriptions == 20_000 {
            let partner = partner_products(&bytes);
            inputs.push((
                format!("demo --subscriptions {subscriptions} --seed {seed}, partner products"),
                partner,
                vec![],
            ));
            inputs.push((
                format!("demo --subscriptions {subscriptions} --seed {seed}, by plan"),
                bytes.clone(),
                plan(),
            ));
        }
        inputs.push((format!("demo --subscriptions {subscriptions} --seed {seed}"), bytes, vec![]));
    }
    // More segments: by plan (8), with partner sales as products of their own (10), and by product
    // and signup channel (24).
    let demo_bytes = std::fs::read(demo()).expect("the demo");
    inputs.push(("www/demo-stripe.csv, by plan".into(), demo_bytes.clone(), plan()));
    inputs.push(("www/demo-stripe.csv, partner products".into(), partner_products(&demo_bytes), vec![]));
    let channel = vec!["product".to_owned(), "signup_channel (metadata)".to_owned()];
    inputs.push(("www/demo-stripe.csv, by product and channel".into(), demo_bytes, channel));
    println!("file | segments | subscribers | link without scenarios | with the two demo scenarios");
    let mut sizes = Vec::new();
    for (name, bytes, segment_by) in &inputs {
        let mut request = subtwin::HistoryRequest::default();
        request.import.segment_by.clone_from(segment_by);
        let Ok(calibrated) = subtwin::calibrated_twin(&[(name.as_str(), bytes.as_slice())], &request, &mut |_| {})
        else {
            continue;
        };
        let size = |scenarios: &[(String, subtwin::scenario::Scenario)]| {
            share::make_link(&calibrated, scenarios, &options, false)
                .and_then(|(link, _)| share::encode(&link))
                .map(|fragment| (base.len() + fragment.len()).to_string())
                .unwrap_or_else(|e| format!("none ({e:.60})"))
        };
        let subscribers: u64 =
            calibrated.twin.segments.iter().flat_map(|s| &s.cells).flat_map(|c| &c.mrr).map(|g| g.subscribers).sum();
        let alone = size(&[]);
        let with = match demo_scenarios(&calibrated.twin) {
            Some(scenarios) if name.contains("demo") => size(&scenarios),
            _ => "-".into(),
        };
        println!("{name} | {} | {subscribers} | {alone} | {with}", calibrated.twin.segments.len());
        sizes.push(alone);
    }
    assert!(!sizes.is_empty());
}

/// The shared twin (rounded parameters, ages of near-equal churn taken together, the five-subscriber
/// rule) gives the demo's medians at two years within 1.5% of the full data's, for the baseline and
/// both demo scenarios, with under a third of the full twin's cells (59 of 280; 218 without taking
/// ages together).
#[test]
fn the_shared_twin_of_the_demo_stays_within_one_and_a_half_percent_of_the_full_data() {
    let bytes = std::fs::read(demo()).expect("the demo");
    let calibrated =
        subtwin::calibrated_twin(&[("demo-stripe.csv", bytes.as_slice())], &Default::default(), &mut |_| {})
            .expect("the demo calibrates");
    let scenario = |name: &str| {
        let scenario = subtwin::scenario::from_json(name, &fixture_bytes(name)).expect("a scenario");
        (name.to_owned(), scenario)
    };
    let scenarios = [scenario("demo-stripe.scenario-prices.json"), scenario("demo-stripe.scenario-new-plan.json")];
    let options = subtwin::SimulateOptions { horizon_months: 24, paths: 1000, seed: 7 };
    let full = subtwin::simulate_twin(&calibrated, &options, &scenarios).expect("the full twin simulates");
    let (link, shared) = share::make_link(&calibrated, &scenarios, &options, false).expect("a link");
    let gaps = share::gaps(&full, &shared);
    assert_eq!(gaps.len(), 6, "MRR and paid subscribers of the baseline and two scenarios");
    for gap in &gaps {
        assert!(gap.relative.abs() < 0.015, "{gap:?}");
    }
    let cells = |twin: &subtwin::twin::Twin| twin.segments.iter().map(|s| s.cells.len()).sum::<usize>();
    let (full_cells, shared_cells) = (cells(&calibrated.twin), cells(&link.twin.twin));
    assert!(shared_cells * 3 < full_cells, "{shared_cells} shared cells, {full_cells} in the full twin");
}
