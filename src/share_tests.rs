//! Share links: the round trip, the five-subscriber rule, neutral names, the rounding, hostile links.
//! Random twins and damaged links come from seeded ChaCha8 streams, so every run checks the same
//! thousands of cases.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::twin::tests::example_twin;

fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    rng.next_u64() % n.max(1)
}

fn uniform(rng: &mut ChaCha8Rng, low: f64, high: f64) -> f64 {
    low + (high - low) * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn random_trend(rng: &mut ChaCha8Rng) -> PoissonTrend {
    let v1 = uniform(rng, 0.0, 0.05);
    let v2 = uniform(rng, 0.0, 0.0005);
    let mut seasonal = [0.0; 12];
    if below(rng, 2) == 0 {
        for m in &mut seasonal {
            *m = uniform(rng, -0.3, 0.3);
        }
    }
    PoissonTrend {
        log_rate_intercept: uniform(rng, -1.0, 5.0),
        log_rate_slope_per_month: uniform(rng, -0.03, 0.03),
        seasonal_log_multipliers: seasonal,
        uncertainty: Covariance2 {
            variance_first: v1,
            variance_second: v2,
            covariance: uniform(rng, -0.9, 0.9) * (v1 * v2).sqrt(),
        },
        dispersion: if below(rng, 2) == 0 { 1.0 } else { uniform(rng, 1.0, 4.0) },
    }
}

fn random_groups(rng: &mut ChaCha8Rng, cadence: Cadence, most: u64) -> Vec<MrrGroup> {
    let prices = [9.0, 19.0, 29.0, 49.0, 59.0, 99.0, 190.0, 490.0, 1234.56];
    (0..1 + below(rng, 4))
        .map(|_| {
            let price = prices[below(rng, prices.len() as u64) as usize] * (1.0 + below(rng, 3) as f64);
            MrrGroup { mrr_major_units: price / cadence.months_per_payment(), subscribers: 1 + below(rng, most) }
        })
        .collect()
}

/// A valid twin of 1 to 6 segments, with many small cells and groups (1 to 4 subscribers).
fn random_twin(rng: &mut ChaCha8Rng) -> CalibratedTwin {
    let segments = (0..1 + below(rng, 6))
        .map(|index| {
            let cadence = match below(rng, 4) {
                0 | 1 => Cadence::EveryMonths(1),
                2 => Cadence::EveryMonths(12),
                _ => Cadence::TimesPerYear(52),
            };
            let months = match cadence {
                Cadence::EveryMonths(m) => m,
                Cadence::TimesPerYear(_) => 1,
            };
            let big = below(rng, 3) != 0;
            let cells = (0..below(rng, 30))
                .map(|_| Cell {
                    renewals_survived: below(rng, 40) as u32,
                    next_renewal_offset_months: below(rng, u64::from(months)) as u32,
                    mrr: random_groups(rng, cadence, if big { 40 } else { 4 }),
                })
                .collect();
            let retention = if below(rng, 4) == 0 {
                Retention::Geometric { churn_probability: uniform(rng, 0.01, 0.3), variance_logit_churn: 0.04 }
            } else {
                let v1 = uniform(rng, 0.001, 0.1);
                let v2 = uniform(rng, 0.001, 0.3);
                Retention::ShiftedBetaGeometric {
                    alpha: uniform(rng, 0.2, 3.0),
                    beta: uniform(rng, 1.0, 30.0),
                    uncertainty: Covariance2 {
                        variance_first: v1,
                        variance_second: v2,
                        covariance: uniform(rng, -1.0, 1.0) * (v1 * v2).sqrt(),
                    },
                }
            };
            let trials = (below(rng, 2) == 0).then(|| Trials {
                starts: random_trend(rng),
                conversion: BetaParams { a: uniform(rng, 1.0, 80.0), b: uniform(rng, 1.0, 80.0) },
                lag_months: 1,
                in_progress_at_start: below(rng, 12),
            });
            SegmentTwin {
                name: format!("Customer product {index} (month)"),
                cadence,
                retention,
                acquisition: Acquisition { direct: Some(random_trend(rng)), trials },
                new_mrr: random_groups(rng, cadence, if big { 60 } else { 6 }),
                cells,
                price_response: (below(rng, 3) == 0).then(|| LearnedPriceResponse {
                    churn_elasticity: Some(NormalEstimate {
                        estimate: uniform(rng, -2.0, 3.0),
                        standard_error: uniform(rng, 0.05, 1.0),
                    }),
                    acquisition_elasticity: None,
                }),
                movements: (below(rng, 3) == 0).then(|| MrrMovements {
                    expansion: NormalEstimate { estimate: uniform(rng, 0.0, 0.02), standard_error: 0.002 },
                    contraction: NormalEstimate { estimate: uniform(rng, 0.0, 0.01), standard_error: 0.001 },
                }),
            }
        })
        .collect();
    let twin = Twin { start_month_index: 2026 * 12, first_month_exposure: uniform(rng, 1.0, 1.9), segments };
    twin.check().expect("the generator makes valid twins");
    CalibratedTwin {
        twin,
        as_of: "2025-12-31T17:32:00Z".into(),
        currency: Currency::from_code("usd").expect("usd"),
        notes: vec!["Private plan (month) is left out: none of its subscribers has churned yet".into()],
    }
}

fn churn_scenario(segment: &str) -> Scenario {
    let text = format!(
        r#"{{"version": 1, "name": "Churn down", "changes": [{{"kind": "churn", "segments": [{segment:?}],
            "month": "2026-01", "percent": -10}}]}}"#
    );
    scenario::from_json("s.json", text.as_bytes()).expect("a valid scenario")
}

fn link_of(shared: &Shared, rng: &mut ChaCha8Rng) -> Link {
    let scenarios = shared.twin.twin.segments.first().map(|s| vec![churn_scenario(&s.name)]).unwrap_or_default();
    Link {
        twin: shared.twin.clone(),
        scenarios,
        options: SimulateOptions {
            horizon_months: 1 + below(rng, 120) as u32,
            paths: 1 + below(rng, 20_000) as u32,
            seed: rng.next_u64(),
        },
        engine_version: crate::sim::ENGINE_VERSION,
        digest: format!("{:016x}", rng.next_u64()),
    }
}

fn subscribers(segment: &SegmentTwin) -> u64 {
    segment.cells.iter().flat_map(|c| &c.mrr).map(|g| g.subscribers).sum()
}

#[test]
fn a_shared_twin_survives_encoding_and_decoding_unchanged() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut tried = 0;
    for _ in 0..400 {
        let full = random_twin(&mut rng);
        let shared = shared_twin(&full, below(&mut rng, 2) == 0);
        if shared.twin.twin.segments.is_empty() {
            continue;
        }
        let link = link_of(&shared, &mut rng);
        let text = encode(&link).expect("encodes");
        assert!(text.starts_with(&format!("s{PAYLOAD_VERSION}.")), "{text}");
        let back = decode(&format!("http://127.0.0.1:8080/#{text}")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, link);
        tried += 1;
    }
    assert!(tried > 200, "only {tried} twins had a segment to share");
}

#[test]
fn no_shared_twin_has_a_cell_a_segment_or_an_mrr_group_under_five() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..400 {
        let full = random_twin(&mut rng);
        let shared = shared_twin(&full, false);
        let twin = &shared.twin.twin;
        assert_eq!(twin.check(), Ok(()));
        assert_eq!(check_five(twin), Ok(()));
        for segment in twin.segments.iter() {
            assert!(subscribers(segment) >= MIN_GROUP);
            for cell in &segment.cells {
                assert!(cell.mrr.iter().map(|g| g.subscribers).sum::<u64>() >= MIN_GROUP, "{cell:?}");
                assert!(cell.mrr.iter().all(|g| g.subscribers >= MIN_GROUP), "{cell:?}");
            }
            assert!(segment.new_mrr.iter().all(|g| g.subscribers >= MIN_GROUP), "{:?}", segment.new_mrr);
        }
        if !twin.segments.is_empty() {
            let text = encode(&link_of(&shared, &mut rng)).expect("encodes");
            let decoded = decode(&text).expect("decodes");
            assert_eq!(check_five(&decoded.twin.twin), Ok(()));
        }
    }
}

#[test]
fn merging_keeps_every_subscriber_and_each_segments_mrr_to_the_cent() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..300 {
        let full = random_twin(&mut rng);
        let shared = shared_twin(&full, true);
        for segment in &shared.twin.twin.segments {
            let original =
                full.twin.segments.iter().find(|s| s.name == segment.name).expect("the same name with keep_names");
            assert_eq!(subscribers(segment), subscribers(original));
            let mrr = |s: &SegmentTwin| -> f64 {
                s.cells.iter().flat_map(|c| &c.mrr).map(|g| g.mrr_major_units * g.subscribers as f64).sum()
            };
            // Each merged group's mean is written to the cent per renewal: at most half a cent per
            // renewal for each subscriber.
            let bound = 0.005 / segment.cadence.months_per_payment() * subscribers(segment) as f64 + 1e-6;
            assert!((mrr(segment) - mrr(original)).abs() <= bound, "{} against {}", mrr(segment), mrr(original));
        }
        let kept: u64 = shared.twin.twin.segments.iter().map(subscribers).sum();
        let dropped: u64 =
            full.twin.segments.iter().filter(|s| shared.dropped.contains(&s.name)).map(subscribers).sum();
        assert_eq!(kept + dropped, full.twin.segments.iter().map(subscribers).sum::<u64>());
    }
}

#[test]
fn segment_names_are_neutral_unless_kept() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..100 {
        let full = random_twin(&mut rng);
        let shared = shared_twin(&full, false);
        if shared.twin.twin.segments.is_empty() {
            continue;
        }
        let text = encode(&link_of(&shared, &mut rng)).expect("encodes");
        let decoded = decode(&text).expect("decodes");
        for (index, segment) in decoded.twin.twin.segments.iter().enumerate() {
            assert!(segment.name.starts_with(&format!("Segment {} (", letters(index))), "{}", segment.name);
        }
        let json = serde_json::to_string(&decoded.twin.twin).expect("JSON") + &decoded.twin.notes.join(" ");
        assert!(!json.contains("Customer product"), "a real name travelled: {json}");
        assert!(!json.contains("Private plan"), "a left-out segment's name travelled: {json}");
        let kept = shared_twin(&full, true);
        assert!(kept.twin.twin.segments.iter().all(|s| s.name.starts_with("Customer product")));
    }
}

#[test]
fn labels_run_from_a_to_z_then_aa() {
    assert_eq!((letters(0), letters(25), letters(26), letters(27)), ("A".into(), "Z".into(), "AA".into(), "AB".into()));
    assert_eq!(interval_label(Cadence::EveryMonths(12)), "year");
}

#[test]
fn small_cells_merge_with_neighbouring_ages_and_small_prices_into_their_mean() {
    let cadence = Cadence::EveryMonths(1);
    let group = |mrr: f64, subscribers: u64| MrrGroup { mrr_major_units: mrr, subscribers };
    let cell =
        |age: u32, groups: Vec<MrrGroup>| Cell { renewals_survived: age, next_renewal_offset_months: 0, mrr: groups };
    // Ages 0 (2 subscribers), 1 (3) and 2 (10): 0 and 1 make one cell of 5 at age (0*2 + 1*3) / 5 =
    // 0.6, rounded to 1; age 2 stays.
    let cells = vec![
        cell(0, vec![group(10.0, 2)]),
        cell(1, vec![group(20.0, 3)]),
        cell(2, vec![group(30.0, 6), group(31.0, 4)]),
    ];
    let shared = shared_cells(&cells, cadence);
    assert_eq!(shared.len(), 2);
    assert_eq!(shared[0].renewals_survived, 1);
    // 2 at 10 and 3 at 20: one group of 5 at 16 (the same total, 80).
    assert_eq!(shared[0].mrr, vec![group(16.0, 5)]);
    // 6 at 30 stays; 4 at 31 merges into it: 10 at 30.4.
    assert_eq!(shared[1].mrr, vec![group(30.4, 10)]);
    // New-subscriber weights: 3 at 49 join the nearest value with five that is not the list price
    // (59), 8 at 99, at their mean: 11 at (3 x 49 + 8 x 99) / 11 = 85.36.
    let new = shared_new_mrr(&[group(49.0, 3), group(59.0, 70), group(99.0, 8)], cadence);
    assert_eq!(new, vec![group(59.0, 70), group(85.36, 11)]);
}

#[test]
fn ages_whose_churn_probabilities_are_within_a_fifth_share_a_cell_at_their_mean_probability() {
    let group = |mrr: f64, subscribers: u64| MrrGroup { mrr_major_units: mrr, subscribers };
    let cell = |age: u32, offset: u32, n: u64| Cell {
        renewals_survived: age,
        next_renewal_offset_months: offset,
        mrr: vec![group(10.0 + f64::from(age), n)],
    };
    // alpha + beta = 10: from age 0, ages up to 0 + 0.2 x 10 = 2 churn within a fifth of age 0's
    // 1 / 10; from age 3, up to 3 + 2.6 = 5; from 6, up to 9; ...
    let retention = Retention::ShiftedBetaGeometric { alpha: 1.0, beta: 9.0, uncertainty: Covariance2::default() };
    let mut cells: Vec<Cell> = (0..10).map(|age| cell(age, 0, 10 + u64::from(age))).collect();
    // Another renewal month's cells never join these.
    cells.push(cell(4, 1, 7));
    cells.push(cell(5, 1, 7));
    let binned = binned_by_hazard(&cells, &retention);
    let runs: Vec<(u32, u64)> = binned
        .iter()
        .filter(|c| c.next_renewal_offset_months == 0)
        .map(|c| (c.renewals_survived, cell_count(c)))
        .collect();
    // Ages 0-2 (10, 11, 12 subscribers): mean probability (10/10 + 11/11 + 12/12) / 33 = 1/11,
    // age 11 - 10 = 1. Ages 3-5 (13, 14, 15): 42 / (13/13 + 14/14 + 15/15) = 14, age 4. Ages 6-9:
    // 70 / 4 = 17.5, age 7.5, rounded to 8.
    assert_eq!(runs, vec![(1, 33), (4, 42), (8, 70)]);
    let other: Vec<(u32, u64)> = binned
        .iter()
        .filter(|c| c.next_renewal_offset_months == 1)
        .map(|c| (c.renewals_survived, cell_count(c)))
        .collect();
    // Ages 4 and 5 of the next month: 14 / (7/14 + 7/15) = 14.48, age 4.48, rounded to 4.
    assert_eq!(other, vec![(4, 14)]);
    // No subscriber and no MRR is lost: each run keeps its ages' prices as groups.
    let mrr = |cells: &[Cell]| {
        cells.iter().flat_map(|c| &c.mrr).map(|g| g.mrr_major_units * g.subscribers as f64).sum::<f64>()
    };
    assert!((mrr(&binned) - mrr(&cells)).abs() < 1e-9);
    assert_eq!(binned[0].mrr, vec![group(10.0, 10), group(11.0, 11), group(12.0, 12)]);
    // A geometric retention churns alike at every age: one cell per renewal month.
    let geometric = Retention::Geometric { churn_probability: 0.05, variance_logit_churn: 0.0 };
    let binned = binned_by_hazard(&cells, &geometric);
    assert_eq!(binned.iter().map(cell_count).collect::<Vec<_>>(), vec![145, 14]);
    // A retention this polarised (alpha + beta = 2) keeps its young ages apart: only from age 3 on
    // does a run reach the next age (3 and 4: 27 / (13/5 + 14/6) = 5.47, age 3.47, rounded to 3).
    let polarised = Retention::ShiftedBetaGeometric { alpha: 1.0, beta: 1.0, uncertainty: Covariance2::default() };
    let ages: Vec<u32> = binned_by_hazard(&cells[..6], &polarised).iter().map(|c| c.renewals_survived).collect();
    assert_eq!(ages, vec![0, 1, 2, 3, 5]);
}

#[test]
fn parameters_are_rounded_within_a_tenth_of_their_standard_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..200 {
        let full = random_twin(&mut rng);
        let shared = shared_twin(&full, true);
        for segment in &shared.twin.twin.segments {
            let original = full.twin.segments.iter().find(|s| s.name == segment.name).expect("kept");
            if let (Some(a), Some(b)) = (&segment.acquisition.direct, &original.acquisition.direct) {
                let se = b.uncertainty.variance_first.sqrt();
                assert!((a.log_rate_intercept - b.log_rate_intercept).abs() <= se / 10.0 + 1e-15);
                let se = b.uncertainty.variance_second.sqrt();
                assert!((a.log_rate_slope_per_month - b.log_rate_slope_per_month).abs() <= se / 10.0 + 1e-15);
            }
            if let (
                Retention::ShiftedBetaGeometric { alpha, beta, .. },
                Retention::ShiftedBetaGeometric { alpha: a0, beta: b0, uncertainty },
            ) = (segment.retention, original.retention)
            {
                // On the engine's scale: the logits of the mean churn and of the polarisation, whose
                // standard errors the twin gives.
                let logit_m = |a: f64, b: f64| (a / b).ln();
                let logit_p = |a: f64, b: f64| -(a + b).ln();
                let se = uncertainty.variance_first.sqrt();
                assert!((logit_m(alpha, beta) - logit_m(a0, b0)).abs() <= se / 10.0 + 1e-12, "{alpha} {a0} {se}");
                let se = uncertainty.variance_second.sqrt();
                assert!((logit_p(alpha, beta) - logit_p(a0, b0)).abs() <= se / 10.0 + 1e-12, "{alpha} {a0} {se}");
            }
            if let (Some(p), Some(p0)) = (segment.price_response, original.price_response) {
                let (e, e0) = (p.churn_elasticity.expect("kept"), p0.churn_elasticity.expect("kept"));
                assert!((e.estimate - e0.estimate).abs() <= e0.standard_error / 10.0 + 1e-15);
            }
        }
    }
}

#[test]
fn rounding_makes_links_short() {
    // A standard error of 0.01: three decimals, whose rounding error is at most 0.0005.
    assert_eq!(round_to_error(0.123456789, 0.01), 0.123);
    assert_eq!(round_to_error(0.123456789, 0.004), 0.1235);
    // A relative standard error of 5%: three significant digits, at most 0.5% off.
    assert_eq!(round_to_relative_error(1.23456789, 0.05), 1.23);
    assert_eq!(round_to_error(7.5, 0.0), 7.5, "no uncertainty, no rounding");
}

#[test]
fn a_scenario_is_rewritten_to_the_shared_names_and_refused_on_a_left_out_segment() {
    let full = CalibratedTwin {
        twin: example_twin(),
        as_of: "2025-02-28T10:00:00Z".into(),
        currency: Currency::from_code("eur").expect("eur"),
        notes: Vec::new(),
    };
    let shared = shared_twin(&full, false);
    assert_eq!(shared.twin.as_of, "2025-02-28T00:00:00Z", "the as-of travels to the day");
    let rewritten = shared_scenario(&churn_scenario("Pro monthly"), &shared).expect("rewritten");
    assert_eq!(rewritten, churn_scenario("Segment A (month)"));

    let mut tiny = full.clone();
    for cell in &mut tiny.twin.segments[0].cells {
        for group in &mut cell.mrr {
            group.subscribers = 1;
        }
    }
    let shared = shared_twin(&tiny, false);
    assert!(shared.twin.twin.segments.is_empty());
    assert_eq!(shared.dropped, vec!["Pro monthly".to_owned()]);
    let error = shared_scenario(&churn_scenario("Pro monthly"), &shared).expect_err("refused");
    assert!(error.contains("fewer than 5 subscribers") && error.contains("take it out"), "{error}");
    assert!(shared.twin.notes.iter().any(|n| n.contains("fewer than 5 subscribers")), "{:?}", shared.twin.notes);
}

fn valid_link_text() -> (Link, String) {
    let full = CalibratedTwin {
        twin: example_twin(),
        as_of: "2025-02-28T10:00:00Z".into(),
        currency: Currency::from_code("usd").expect("usd"),
        notes: Vec::new(),
    };
    let shared = shared_twin(&full, false);
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut link = link_of(&shared, &mut rng);
    link.options = SimulateOptions { horizon_months: 6, paths: 40, seed: 7 };
    link.scenarios = vec![Scenario {
        version: 1,
        name: "Churn down".into(),
        changes: vec![Change::Churn {
            segments: vec!["Segment A (month)".into()],
            month: "2025-04".into(),
            until_month: None,
            percent: -10.0,
        }],
    }];
    let text = encode(&link).expect("encodes");
    (link, text)
}

#[test]
fn an_unknown_payload_version_is_refused_before_decompressing() {
    let (_, text) = valid_link_text();
    let payload = text.strip_prefix("s2.").expect("s2");
    for version in ["3", "10", "0", "02"] {
        let error = decode(&format!("#s{version}.{payload}")).expect_err("refused");
        assert!(error.contains(&format!("format s{version}")) && error.contains("reads formats s1 to s2"), "{error}");
    }
    // Not even base64: the version is refused first.
    let error = decode("#s3.@@@").expect_err("refused");
    assert!(error.contains("format s3"), "{error}");
    let error = decode("#x1.abc").expect_err("refused");
    assert!(error.contains("not a subtwin link"), "{error}");
}

#[test]
fn oversized_links_and_payloads_are_refused() {
    let error = decode(&"A".repeat(MAX_LINK_CHARS + 1)).expect_err("refused");
    assert!(error.contains("characters long"), "{error}");
    // A deflate bomb: 4 MiB of spaces packs into a few kilobytes.
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, &vec![b' '; 4 << 20]).expect("compress");
    let packed = encoder.finish().expect("compress");
    for version in ["s1", "s2"] {
        let text = format!("{version}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&packed));
        assert!(text.len() < MAX_LINK_CHARS, "{}", text.len());
        let error = decode(&text).expect_err("refused");
        assert!(error.contains("unpacks to more than"), "{error}");
    }
}

/// Packs a payload's JSON as a link in format `version` does, whatever it holds.
fn pack(version: &str, json: &[u8]) -> String {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut encoder, json).expect("compress");
    format!(
        "{version}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(encoder.finish().expect("compress"))
    )
}

/// A link's format (`s2`) and its payload's JSON.
fn unpack(text: &str) -> (&str, Vec<u8>) {
    let (version, payload) = text.split_once('.').expect("a format and a payload");
    let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64");
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(packed.as_slice()).read_to_end(&mut json).expect("inflate");
    (version, json)
}

/// `rounds` damaged, truncated or random versions of a valid link (`text`), each opened or refused
/// with a message, never a panic: how many (opened, refused). Whatever opens passes every check.
fn damage(text: &str, seed: u64, rounds: usize) -> (usize, usize) {
    let (version, json) = unpack(text);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let alphabet: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.#s12%=+/ ";
    let (mut opened, mut refused) = (0, 0);
    for round in 0..rounds {
        let damaged: Vec<u8> = match round % 6 {
            // Characters of the link replaced, inserted or removed.
            0 => {
                let mut bytes = text.as_bytes().to_vec();
                for _ in 0..1 + below(&mut rng, 4) {
                    let at = below(&mut rng, bytes.len() as u64) as usize;
                    match below(&mut rng, 3) {
                        0 => bytes[at] = alphabet[below(&mut rng, alphabet.len() as u64) as usize],
                        1 => bytes.insert(at, alphabet[below(&mut rng, alphabet.len() as u64) as usize]),
                        _ => {
                            bytes.remove(at);
                        }
                    }
                }
                bytes
            }
            // Truncated anywhere.
            1 => text.as_bytes()[..below(&mut rng, text.len() as u64) as usize].to_vec(),
            // Random text, sometimes behind a valid prefix.
            2 => {
                let mut bytes = if below(&mut rng, 2) == 0 { format!("{version}.").into_bytes() } else { Vec::new() };
                for _ in 0..below(&mut rng, 400) {
                    bytes.push(alphabet[below(&mut rng, alphabet.len() as u64) as usize]);
                }
                bytes
            }
            // Random bytes, deflated and encoded: past the outer layers.
            3 => {
                let bytes: Vec<u8> = (0..below(&mut rng, 300)).map(|_| rng.next_u64() as u8).collect();
                pack(version, &bytes).into_bytes()
            }
            // The payload's JSON with bytes changed (numbers, keys, brackets), packed again.
            4 => {
                let mut bytes = json.clone();
                for _ in 0..1 + below(&mut rng, 3) {
                    let at = below(&mut rng, bytes.len() as u64) as usize;
                    bytes[at] = b"0123456789-.e,[]{}\":aszn"[below(&mut rng, 24) as usize];
                }
                pack(version, &bytes).into_bytes()
            }
            // The payload's JSON with a number replaced by an extreme one.
            _ => {
                let text = String::from_utf8(json.clone()).expect("JSON is UTF-8");
                let extremes = ["1e308", "-1e308", "18446744073709551615", "-1", "0", "1e-320", "4294967296", "NaN"];
                let digits: Vec<usize> =
                    text.char_indices().filter(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i).collect();
                let at = digits[below(&mut rng, digits.len() as u64) as usize];
                let end = text[at..].find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'));
                let end = at + end.unwrap_or(0);
                let extreme = extremes[below(&mut rng, extremes.len() as u64) as usize];
                pack(version, format!("{}{extreme}{}", &text[..at], &text[end..]).as_bytes()).into_bytes()
            }
        };
        let damaged = String::from_utf8_lossy(&damaged).into_owned();
        match decode(&damaged) {
            Ok(decoded) => {
                // Whatever opens is a valid link: it passes every check, and simulates.
                assert_eq!(decoded.twin.twin.check(), Ok(()));
                assert_eq!(check_five(&decoded.twin.twin), Ok(()));
                opened += 1;
            }
            Err(message) => {
                assert!(message.ends_with('.') && message.len() > 40, "{message}");
                refused += 1;
            }
        }
    }
    (opened, refused)
}

/// An s2 payload's JSON with its fields named, as s1 writes them (an s1 payload as it is).
fn named(json: &[u8]) -> serde_json::Value {
    keyed_wire(serde_json::from_slice(json).expect("JSON")).expect("a payload")
}

/// An s2 link of a payload whose fields are named.
fn pack_named(payload: serde_json::Value) -> String {
    pack("s2", positional_wire(payload).expect("a payload").to_string().as_bytes())
}

#[test]
fn damaged_truncated_and_random_links_are_refused_never_a_panic() {
    let (link, text) = valid_link_text();
    let (opened, refused) = damage(&text, 7, 6000);
    assert!(refused > 4000, "{refused} refused, {opened} opened");
    assert_eq!(decode(&text), Ok(link));
    // And a link in format s1, which is read in its own way.
    let (opened, refused) = damage(include_str!("../tests/fixtures/demo-stripe.link-s1.txt").trim(), 8, 3000);
    assert!(refused > 2000, "s1: {refused} refused, {opened} opened");
}

#[test]
fn a_link_from_another_engine_version_opens_and_says_it_was_recomputed() {
    let (mut link, _) = valid_link_text();
    let scenarios: Vec<(String, Scenario)> = link.scenarios.iter().map(|s| ("link".to_owned(), s.clone())).collect();
    let report = crate::simulate_twin(&link.twin, &link.options, &scenarios).expect("simulates");
    let json = crate::report::simulate::to_json(&report);

    link.digest = report_digest(&json);
    let same = verdict(&decode(&encode(&link).expect("encodes")).expect("opens"), &json);
    assert!(same.same && !same.recomputed, "{same:?}");

    link.engine_version = crate::sim::ENGINE_VERSION + 1;
    link.digest = "0123456789abcdef".into();
    let opened = decode(&encode(&link).expect("encodes")).expect("a link from another engine opens");
    assert_eq!(opened.engine_version, crate::sim::ENGINE_VERSION + 1);
    let older = verdict(&opened, &json);
    assert!(older.recomputed && !older.same, "{older:?}");
    assert!(older.message.starts_with("Recomputed"), "{}", older.message);

    link.engine_version = crate::sim::ENGINE_VERSION;
    let edited = verdict(&decode(&encode(&link).expect("encodes")).expect("opens"), &json);
    assert!(!edited.same && !edited.recomputed && edited.message.contains("new link"), "{edited:?}");
}

#[test]
fn a_hand_made_link_with_a_small_cell_is_refused_and_none_is_made() {
    let (mut link, text) = valid_link_text();
    // An s2 link cannot write a group under five; its trials in progress can be.
    let (_, json) = unpack(&text);
    let mut payload = named(&json);
    assert_eq!(payload["g"][0]["t"]["i"], 9, "{payload}");
    payload["g"][0]["t"]["i"] = 2.into();
    let error = decode(&pack_named(payload)).expect_err("refused");
    assert!(error.contains("singles out customers") && error.contains("2 trials in progress"), "{error}");
    // An s1 link writes a cell's subscribers as they are.
    let (_, json) = unpack(include_str!("../tests/fixtures/demo-stripe.link-s1.txt").trim());
    let mut payload: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    let z = payload["g"][0]["z"].as_array_mut().expect("cells");
    *z.last_mut().expect("a count") = 2.into();
    let error = decode(&pack("s1", payload.to_string().as_bytes())).expect_err("refused");
    assert!(error.contains("singles out customers") && error.contains("describes 2 subscribers"), "{error}");
    // And no link is made of a twin that has one.
    link.twin.twin.segments[0].cells[0].mrr[0].subscribers = 2;
    let error = encode(&link).expect_err("refused");
    assert!(error.contains("singles out customers") && error.contains("fewer than 5"), "{error}");
}

#[test]
fn the_digest_is_sixteen_hex_digits_of_sha256() {
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
    assert_eq!(report_digest("abc"), "ba7816bf8f01cfea");
    assert_eq!(report_digest("abc\n"), "ba7816bf8f01cfea", "the command's final newline is not part of it");
}

/// What a committed link in format s1 opened to with the build that made it.
#[derive(serde::Deserialize)]
struct OpenedS1 {
    as_of: String,
    currency: String,
    notes: Vec<String>,
    engine_version: u32,
    digest: String,
    horizon_months: u32,
    paths: u32,
    seed: u64,
    scenarios: Vec<Scenario>,
    twin: Twin,
}

#[test]
fn a_link_in_format_s1_opens_to_the_twin_scenarios_and_run_it_was_made_with() {
    let text = include_str!("../tests/fixtures/demo-stripe.link-s1.txt");
    assert!(text.starts_with("s1."), "the fixture is an s1 link");
    let expected: OpenedS1 =
        serde_json::from_str(include_str!("../tests/fixtures/demo-stripe.link-s1.json")).expect("the fixture reads");
    let link = decode(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(link.twin.twin, expected.twin);
    assert_eq!(link.scenarios, expected.scenarios);
    assert_eq!(
        link.options,
        SimulateOptions { horizon_months: expected.horizon_months, paths: expected.paths, seed: expected.seed }
    );
    assert_eq!(
        (link.twin.as_of.as_str(), link.twin.currency.code.as_str(), &link.twin.notes),
        (expected.as_of.as_str(), expected.currency.as_str(), &expected.notes)
    );
    assert_eq!((link.engine_version, link.digest.as_str()), (expected.engine_version, expected.digest.as_str()));
}

/// A scenario with every kind of change and every field, a price response away from its defaults
/// (-0 among them), and a segment the twin does not have.
fn every_change(twin: &Twin) -> Scenario {
    let a = twin.segments[0].name.clone();
    let b = twin.segments.get(1).map_or_else(|| a.clone(), |s| s.name.clone());
    let text = format!(
        r#"{{"version": 1, "name": "Everything", "changes": [
        {{"kind": "price", "segments": [{a:?}, {b:?}], "month": "2026-02", "percent": 20, "applies_to": "after_grandfathering",
          "grandfather_months": 3, "notice_month": "2026-01",
          "response": {{"churn_elasticity": {{"uniform": {{"low": 0.5, "high": 1.5}}}}, "first_renewal_shock": {{"fixed": -0.0}},
                        "use_learned": false}}}},
        {{"kind": "price", "segments": [{a:?}], "month": "2026-02", "price": 70.8, "applies_to": "new_subscribers",
          "response": {{"acquisition_elasticity": {{"triangular": {{"low": 0, "mode": 1, "high": 2}}}}}}}},
        {{"kind": "price", "segments": [{a:?}], "month": "2026-03", "percent": -5, "applies_to": "next_renewal", "response": {{}}}},
        {{"kind": "intro_discount", "segments": [{b:?}], "month": "2026-02", "until_month": "2026-05", "percent": 50, "months": 3}},
        {{"kind": "move_to_annual", "from_segment": {a:?}, "to_segment": {b:?}, "month": "2026-04", "share_percent": 10,
          "discount_percent": 15}},
        {{"kind": "acquisition", "segments": ["Not in the twin"], "month": "2026-02", "until_month": "2026-08", "percent": 25}},
        {{"kind": "churn", "segments": [{a:?}], "month": "2026-02", "percent": -10}},
        {{"kind": "trial_conversion", "segments": [{b:?}], "month": "2026-02", "percent": 10}},
        {{"kind": "new_plan", "name": "Plus (month)", "like": {b:?}, "price": 39, "month": "2026-02",
          "takes": [{{"segment": {a:?}, "percent": 20}}, {{"segment": "Not in the twin", "percent": 5}}]}}]}}"#
    );
    scenario::from_json("every.json", text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn scenarios_travel_short_and_read_back_the_same() {
    let twin = shared_twin(&random_twin(&mut ChaCha8Rng::seed_from_u64(9)), false).twin.twin;
    let scenario = every_change(&twin);
    let wire = wire_scenario(&scenario, &twin);
    let back = scenario_of_wire(wire.clone(), &twin, 1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, scenario);
    let Some(Change::Price { response: Some(response), .. }) = back.changes.first() else { panic!("{back:?}") };
    assert!(matches!(response.first_renewal_shock, scenario::Assumed::Fixed(x) if x.is_sign_negative()), "-0 stays -0");
    // No field under its long name, no default response field, the twin's segments by position.
    let text = wire.to_string();
    for long in
        ["\"segments\"", "\"percent\"", "\"response\"", "\"version\"", "\"next_renewal\"", "\"acquisition_elasticity\""]
    {
        assert!(!text.contains(long), "{long} in {text}");
    }
    assert!(!text.contains(&twin.segments[0].name), "{text}");
    assert!(text.contains("\"Not in the twin\""), "a name the twin does not have travels as it is: {text}");
    // A scenario as s1 links write it (the file's fields, the segments by name) reads the same.
    let s1 = serde_json::to_value(&scenario).map(without_nulls).expect("a value");
    assert_eq!(scenario_of_wire(s1, &twin, 1), Ok(scenario));
}

#[test]
fn scenario_fields_have_one_short_name_each_and_none_is_a_field_name() {
    for (index, (long, short)) in SCENARIO_FIELDS.iter().enumerate() {
        assert!(short.len() < long.len(), "{long}");
        for (other_long, other_short) in SCENARIO_FIELDS.iter().skip(index + 1) {
            assert!(long != other_long && short != other_short, "{long} {short}");
        }
        assert!(SCENARIO_FIELDS.iter().all(|(other_long, _)| other_long != short), "{short} is a field's name");
    }
    for codes in [&CHANGE_KIND_CODES[..], &APPLIES_TO_CODES[..]] {
        for (index, (long, code)) in codes.iter().enumerate() {
            assert!(codes.iter().skip(index + 1).all(|(l, c)| l != long && c != code), "{long} {code}");
            assert!(codes.iter().all(|(l, _)| l != code), "{code} is a value's name");
        }
    }
}

#[test]
fn a_scenario_naming_a_segment_past_the_twins_or_a_field_twice_is_refused() {
    let twin = shared_twin(&random_twin(&mut ChaCha8Rng::seed_from_u64(9)), false).twin.twin;
    let value = |text: &str| serde_json::from_str::<serde_json::Value>(text).expect("JSON");
    let past =
        format!(r#"{{"n": "x", "c": [{{"k": "c", "g": [{}], "m": "2026-02", "p": -10}}]}}"#, twin.segments.len());
    let error = scenario_of_wire(value(&past), &twin, 2).expect_err("refused");
    assert!(error.contains("scenario 2 names segment number") && error.contains("segments."), "{error}");
    let twice = r#"{"n": "x", "c": [{"k": "c", "g": [0], "m": "2026-02", "p": -10, "percent": 5}]}"#;
    let error = scenario_of_wire(value(twice), &twin, 1).expect_err("refused");
    assert!(error.contains("the field percent twice"), "{error}");
    let unknown = r#"{"n": "x", "c": [{"k": "c", "g": [0], "m": "2026-02", "p": -10, "zz": 1}]}"#;
    let error = scenario_of_wire(value(unknown), &twin, 1).expect_err("refused");
    assert!(error.contains("unknown field `zz`"), "{error}");
    let fraction = r#"{"n": "x", "c": [{"k": "c", "g": [0.5], "m": "2026-02", "p": -10}]}"#;
    assert!(scenario_of_wire(value(fraction), &twin, 1).is_err());
    let read =
        scenario_of_wire(value(r#"{"n": "x", "c": [{"k": "c", "g": [0], "m": "2026-02", "p": -10}]}"#), &twin, 1);
    assert_eq!(read.map(|s| s.version), Ok(scenario::SCENARIO_VERSION), "the version a link leaves out");
}

#[test]
fn a_segments_neutral_name_is_left_out_and_read_back_and_an_s2_price_list_is_refused() {
    let (link, text) = valid_link_text();
    let (_, json) = unpack(&text);
    let payload = named(&json);
    assert_eq!(link.twin.twin.segments[0].name, "Segment A (month)");
    assert_eq!(payload["g"][0].get("n"), None, "{payload}");
    assert_eq!(payload["g"][0].get("p"), None, "{payload}");
    let mut kept = link.clone();
    kept.twin.twin.segments[0].name = "Pro monthly".into();
    if let Some(Change::Churn { segments, .. }) = kept.scenarios[0].changes.first_mut() {
        *segments = vec!["Pro monthly".into()];
    }
    let (_, json) = unpack(&encode(&kept).expect("encodes"));
    let payload = named(&json);
    assert_eq!(payload["g"][0]["n"], "Pro monthly");
    assert_eq!(decode(&encode(&kept).expect("encodes")), Ok(kept));
    // Prices referred to by position are s1's: an s2 link with a price list is refused.
    let mut with_list = payload;
    with_list["g"][0]["p"] = serde_json::json!([100]);
    let error = decode(&pack("s2", with_list.to_string().as_bytes())).expect_err("refused");
    assert!(error.contains("list of prices") && error.contains("format s2"), "{error}");
}

#[test]
fn seasons_in_hundredths_and_the_as_of_day_read_back_the_same_and_what_cannot_is_not_written() {
    let (mut link, _) = valid_link_text();
    let seasons = [0.03, -0.12, 0.0, 0.05, 1.27, -0.01, 0.1, 0.2, 0.3, -0.3, 0.07, 0.0];
    let trend = link.twin.twin.segments[0].acquisition.direct.as_mut().expect("a trend");
    trend.seasonal_log_multipliers = seasons;
    let text = encode(&link).expect("encodes");
    let (_, json) = unpack(&text);
    let payload = named(&json);
    assert_eq!(payload["a"], "2025-02-28", "the as-of day alone: {payload}");
    let written: Vec<i64> = payload["g"][0]["a"].as_array().expect("a trend")[6..]
        .iter()
        .map(|v| v.as_i64().expect("a whole number"))
        .collect();
    assert_eq!(written, vec![3, -12, 0, 5, 127, -1, 10, 20, 30, -30, 7, 0]);
    let back = decode(&text).expect("decodes");
    let trend = back.twin.twin.segments[0].acquisition.direct.as_ref().expect("a trend");
    assert_eq!(trend.seasonal_log_multipliers.map(f64::to_bits), seasons.map(f64::to_bits));
    assert_eq!(back, link);

    // An as-of instant with a time travels whole.
    link.twin.as_of = "2025-02-28T10:00:00Z".into();
    assert_eq!(decode(&encode(&link).expect("encodes")), Ok(link.clone()));
    // What a link cannot write exactly is refused, not changed.
    let mut day = link.clone();
    day.twin.as_of = "2025-02-28".into();
    assert!(encode(&day).expect_err("refused").contains("as-of"));
    let mut unrounded = link.clone();
    if let Some(trend) = unrounded.twin.twin.segments[0].acquisition.direct.as_mut() {
        trend.seasonal_log_multipliers[0] = 0.0314;
    }
    assert!(encode(&unrounded).expect_err("refused").contains("seasonal multipliers to the hundredth"));

    // A season of a hand-made s2 link that is not a whole number of hundredths is refused.
    let (_, json) = unpack(&encode(&link).expect("encodes"));
    let mut payload = named(&json);
    payload["g"][0]["a"][7] = serde_json::json!(2.5);
    let error = decode(&pack_named(payload)).expect_err("refused");
    assert!(error.contains("2.5 hundredths"), "{error}");
}

#[test]
fn prices_travel_as_steps_within_a_cell_and_counts_as_how_many_more_than_five() {
    let (link, text) = valid_link_text();
    let payload = named(&unpack(&text).1);
    // New subscribers: 49.00 for 30, 59.00 for 70; cells: age 0 at 59.00 for 40, age 7 at 49.00 for
    // 100 and 59.00 for 20.
    assert_eq!(payload["g"][0]["w"], serde_json::json!([4900, 25, 1000, 65]));
    assert_eq!(payload["g"][0]["z"], serde_json::json!([2, 0, 0, 0, 6, 1, 2, 5900, 4900, 1000, 35, 95, 15]));
    let mut unordered = link.clone();
    unordered.twin.twin.segments[0].cells[1].mrr.reverse();
    let error = encode(&unordered).expect_err("refused");
    assert!(error.contains("increasing within a cell"), "{error}");
}

#[test]
fn the_payload_is_positional_every_field_has_its_place_and_named_fields_are_read_too() {
    let (mut link, text) = valid_link_text();
    let (_, json) = unpack(&text);
    let payload: serde_json::Value = serde_json::from_slice(&json).expect("JSON");
    assert!(payload.is_array() && payload[9][0].is_array() && payload[9][0][3].is_array(), "{payload}");
    // Every field a payload can have: notes, a name kept, both elasticities, movements, trials' lag
    // and trials in progress.
    link.twin.notes = vec!["A note.".into()];
    let segment = &mut link.twin.twin.segments[0];
    segment.name = "Pro monthly".into();
    let estimate = |estimate, standard_error| NormalEstimate { estimate, standard_error };
    segment.price_response = Some(LearnedPriceResponse {
        churn_elasticity: Some(estimate(1.2, 0.3)),
        acquisition_elasticity: Some(estimate(0.8, 0.25)),
    });
    segment.movements = Some(MrrMovements { expansion: estimate(0.01, 0.002), contraction: estimate(0.005, 0.001) });
    if let Some(Change::Churn { segments, .. }) = link.scenarios[0].changes.first_mut() {
        *segments = vec!["Pro monthly".into()];
    }
    let text = encode(&link).expect("encodes");
    assert_eq!(decode(&text), Ok(link.clone()));
    let full = named(&unpack(&text).1);
    for field in ["n", "pc", "pa", "v", "t"] {
        assert!(full["g"][0].get(field).is_some(), "{field}: {full}");
    }
    assert!(full["g"][0]["t"].get("l").is_some() && full.get("o").is_some(), "{full}");
    // The same payload with its fields named, as s1 wrote them, reads the same.
    assert_eq!(decode(&pack("s2", full.to_string().as_bytes())), Ok(link));
    // An array with more fields than its place has is refused.
    let mut long: serde_json::Value = serde_json::from_slice(&unpack(&text).1).expect("JSON");
    long[9][0].as_array_mut().expect("a segment").extend(vec![serde_json::Value::Null; 3]);
    let error = decode(&pack("s2", long.to_string().as_bytes())).expect_err("refused");
    assert!(error.contains("a segment has 13 fields, more than the 10 it may have"), "{error}");
}
