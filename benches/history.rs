//! Import + history timings: `cargo bench --bench history`. Writes the demo company at a few sizes
//! in memory with the project's own generator, then times the whole pipeline behind
//! `subtwin history` (import, history, report) on each, reporting the median of several runs.

use std::time::Instant;

use subtwin::demo::{write_stripe_csv, DemoConfig};

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![DemoConfig::default().subscriptions, 100_000, 1_000_000] } else { sizes };
    println!("{:>12} {:>10} {:>12} {:>12} {:>10}", "rows", "MB", "median ms", "min ms", "rows/s");
    for rows in sizes {
        let mut bytes = Vec::new();
        write_stripe_csv(&mut bytes, &DemoConfig { subscriptions: rows, ..DemoConfig::default() }).expect("in memory");
        let runs = if rows > 200_000 { 5 } else { 15 };
        let mut times: Vec<f64> = (0..runs)
            .map(|_| {
                let start = Instant::now();
                let report = subtwin::history_of_export("bench.csv", &bytes, &Default::default(), &mut |_| {})
                    .expect("the generated export imports");
                let elapsed = start.elapsed().as_secs_f64() * 1000.0;
                assert_eq!(report.summary.rows_read as usize, rows);
                elapsed
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{rows:>12} {:>10.1} {median:>12.1} {:>12.1} {:>10.0}",
            bytes.len() as f64 / 1e6,
            times[0],
            rows as f64 / (median / 1000.0)
        );
    }
}
