//! Recovery tests: subscribers simulated from known parameters, refitted, and checked against the
//! truth. The 95% intervals must cover the true alpha and beta about 95% of the time, constant churn
//! must come out as the geometric limit, and pooling must pull small segments and leave big ones.
//!
//! The simulation: each subscriber joins in a month drawn uniformly from 0 to 24 and is observed to
//! month 24, so it has passed K = 24 - join month renewals (K = 0 is a subscriber still in its first
//! period). Its churn probability theta is drawn from Beta(alpha, beta) and the renewal T = 1, 2, ...
//! at which it churns is geometric in theta; it churned at T if T <= K, else it is censored after K
//! renewals. Random numbers come from ChaCha8 seeded per seed, through samplers written on `libm`
//! (the same approach as the demo generator's private samplers), so every platform draws the same.

use super::data::{RenewalAgeCounts, RenewalData};
use super::fit::{fit_sbg, IntervalMethod, CHURNERS_FOR_HESSIAN_INTERVALS};
use super::pooling::pool_segments;
use super::{compare_models, RetentionModel, SbgParameters};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Uniform on (0, 1), never 0 or 1.
fn uniform_open(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / 9_007_199_254_740_992.0)
}

/// Standard normal by Box-Muller (one of the pair).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let radius = libm::sqrt(-2.0 * libm::log(uniform_open(rng)));
    radius * libm::cos(2.0 * std::f64::consts::PI * uniform_open(rng))
}

/// Gamma(shape, 1) by Marsaglia-Tsang, with the boost Gamma(a) = Gamma(a + 1) U^(1/a) below 1.
fn gamma(rng: &mut ChaCha8Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let boost = libm::pow(uniform_open(rng), 1.0 / shape);
        return gamma(rng, shape + 1.0) * boost;
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let x = normal(rng);
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = uniform_open(rng);
        if libm::log(u) < 0.5 * x * x + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

/// Beta(a, b) from two gammas.
fn beta(rng: &mut ChaCha8Rng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    x / (x + y)
}

/// The renewal at which a subscriber with churn probability theta churns (1, 2, ...), by inversion,
/// or None if that is after `observed_renewals`.
fn churn_renewal(rng: &mut ChaCha8Rng, theta: f64, observed_renewals: u32) -> Option<u32> {
    let failures_before = libm::floor(libm::log(uniform_open(rng)) / libm::log1p(-theta));
    (failures_before < f64::from(observed_renewals)).then(|| failures_before as u32 + 1)
}

/// Subscribers with churn probabilities drawn by `draw_theta`, staggered over 24 months of entry.
fn simulate(seed: u64, subscribers: usize, draw_theta: &dyn Fn(&mut ChaCha8Rng) -> f64) -> RenewalData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut rows = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let join_month = (rng.next_u64() % 25) as u32;
        let observed_renewals = 24 - join_month;
        let theta = draw_theta(&mut rng);
        rows.push(match churn_renewal(&mut rng, theta, observed_renewals) {
            Some(renewal) => RenewalAgeCounts { renewals: renewal, churned: 1, censored: 0 },
            None => RenewalAgeCounts { renewals: observed_renewals, churned: 0, censored: 1 },
        });
    }
    RenewalData::from_counts(&rows).unwrap()
}

fn simulate_sbg(seed: u64, subscribers: usize, truth: SbgParameters) -> RenewalData {
    simulate(seed, subscribers, &|rng| beta(rng, truth.alpha, truth.beta))
}

/// Over `seeds` simulated segments, how many intervals covered the true alpha and beta, and which
/// interval methods were used.
fn coverage(seeds: u64, subscribers: usize, truth: SbgParameters, seed_offset: u64) -> (u64, u64, Vec<IntervalMethod>) {
    let (mut alpha_covered, mut beta_covered, mut methods) = (0, 0, Vec::new());
    for seed in 0..seeds {
        let data = simulate_sbg(seed_offset + seed, subscribers, truth);
        // A failed fit counts as a miss.
        if let Ok(fit) = fit_sbg(&data) {
            alpha_covered += u64::from(fit.alpha_interval.contains(truth.alpha));
            beta_covered += u64::from(fit.beta_interval.contains(truth.beta));
            methods.push(fit.interval_method);
        }
    }
    (alpha_covered, beta_covered, methods)
}

/// A fit takes well under a millisecond, so each check runs 1,000 seeds. With true coverage 95%, the
/// number covered is Binomial(1000, 0.95): mean 950, standard deviation sqrt(1000 * 0.95 * 0.05) =
/// 6.9. The accepted range 929..=971 (92.9% to 97.1%) is about three standard deviations either side;
/// exactly (scipy's binom), P(X < 929) = 0.15% and P(X > 971) = 0.04%, so an interval with exactly
/// 95% coverage fails a check about once in 500 seed sets, while one covering 91% or 99% fails almost
/// surely.
const SEEDS: u64 = 1_000;
const COVERED_AT_LEAST: u64 = 929;
const COVERED_AT_MOST: u64 = 971;

#[test]
fn hessian_intervals_cover_the_true_parameters_95_percent_of_the_time_when_churners_are_many() {
    let truth = SbgParameters::new(0.8, 2.5).unwrap();
    let (alpha_covered, beta_covered, methods) = coverage(SEEDS, 400, truth, 10_000);
    // The setting must really be the many-churners one: Hessian intervals in every fit.
    assert!(methods.iter().all(|&m| m == IntervalMethod::WaldOnLogScale), "{CHURNERS_FOR_HESSIAN_INTERVALS}");
    assert_eq!(methods.len() as u64, SEEDS);
    assert!((COVERED_AT_LEAST..=COVERED_AT_MOST).contains(&alpha_covered), "alpha covered {alpha_covered}/{SEEDS}");
    assert!((COVERED_AT_LEAST..=COVERED_AT_MOST).contains(&beta_covered), "beta covered {beta_covered}/{SEEDS}");
}

#[test]
fn profile_intervals_cover_the_true_parameters_95_percent_of_the_time_when_churners_are_few() {
    // Forty subscribers, mean churn 1/6: about a dozen churners, some segments fewer than ten.
    let truth = SbgParameters::new(0.6, 3.0).unwrap();
    let (alpha_covered, beta_covered, methods) = coverage(SEEDS, 40, truth, 20_000);
    assert!(methods.iter().all(|&m| m == IntervalMethod::ProfileLikelihood));
    assert!((COVERED_AT_LEAST..=COVERED_AT_MOST).contains(&alpha_covered), "alpha covered {alpha_covered}/{SEEDS}");
    assert!((COVERED_AT_LEAST..=COVERED_AT_MOST).contains(&beta_covered), "beta covered {beta_covered}/{SEEDS}");
}

#[test]
fn intervals_cover_95_percent_where_heterogeneity_is_weak_and_the_two_methods_mix() {
    // Alpha + beta = 9: the geometric boundary is near enough that about four fits in five fall back
    // to the profile likelihood although every one has more than 50 churners. Hessian intervals
    // alone covered 98% here in a trial run (too wide on one side), the rule's mix 95%.
    let truth = SbgParameters::new(3.0, 6.0).unwrap();
    let (alpha_covered, beta_covered, methods) = coverage(SEEDS, 300, truth, 25_000);
    let hessian = methods.iter().filter(|&&m| m == IntervalMethod::WaldOnLogScale).count();
    assert!(hessian > 50 && hessian < 500, "{hessian} Hessian intervals of {SEEDS}");
    assert!((COVERED_AT_LEAST..=COVERED_AT_MOST).contains(&alpha_covered), "alpha covered {alpha_covered}/{SEEDS}");
    assert!((COVERED_AT_LEAST..=COVERED_AT_MOST).contains(&beta_covered), "beta covered {beta_covered}/{SEEDS}");
}

#[test]
fn constant_churn_gives_the_geometric_limit_or_huge_parameters_with_the_right_mean_never_nan() {
    // Every subscriber churns with probability 0.08 at every renewal: alpha and beta are infinite.
    let mut unbounded_above = 0;
    for seed in 0..40 {
        let data = simulate(30_000 + seed, 2_000, &|_| 0.08);
        let fit = fit_sbg(&data).unwrap();
        let p = fit.parameters;
        assert!(p.alpha.is_finite() && p.beta.is_finite() && fit.log_likelihood.is_finite(), "seed {seed}: {fit:?}");
        // The mean churn is h(1), estimated mostly from the ~1,900 subscribers at the first renewal:
        // standard error sqrt(0.08 * 0.92 / 1900) = 0.0062; four of them is 0.025.
        assert!((p.mean_churn() - 0.08).abs() < 0.025, "seed {seed}: mean churn {}", p.mean_churn());
        // Heterogeneity is tiny when not exactly nil: alpha + beta far above any real mix of churn rates.
        assert!(fit.geometric_limit || p.alpha + p.beta > 50.0, "seed {seed}: {fit:?}");
        if fit.geometric_limit {
            assert_eq!((fit.alpha_interval.upper, fit.beta_interval.upper), (None, None), "seed {seed}");
            assert!(fit.warnings().iter().any(|w| w.contains("constant churn")));
        }
        unbounded_above += u32::from(fit.alpha_interval.upper.is_none() && fit.beta_interval.upper.is_none());
    }
    // The geometric model is rejected at 5% (so the upper ends are finite) in about 2.5% of seeds
    // (half a chi-square(1) tail: the true value sits on the boundary); 34 of 40 leaves wide room.
    assert!(unbounded_above >= 34, "only {unbounded_above} of 40 seeds left alpha and beta unbounded above");
}

#[test]
fn pooling_pulls_a_small_segment_toward_the_others_and_leaves_a_big_one_alone() {
    // Four segments around alpha = 0.9, beta = 3 (mean churn 0.23), one big segment with lower churn
    // (0.175; its own estimate must stand), and one of thirty subscribers with higher churn (0.4).
    let common = SbgParameters::new(0.9, 3.0).unwrap();
    let mut segments: Vec<RenewalData> = [400usize, 300, 500, 350]
        .iter()
        .enumerate()
        .map(|(i, &n)| simulate_sbg(40_000 + i as u64, n, common))
        .collect();
    segments.push(simulate_sbg(40_010, 6_000, SbgParameters::new(0.7, 3.3).unwrap()));
    segments.push(simulate_sbg(40_020, 30, SbgParameters::new(1.6, 2.4).unwrap()));
    let pooled = pool_segments(&segments).unwrap();
    let prior = pooled.prior.unwrap();
    let big = pooled.segments[4];
    let small = pooled.segments[5];

    // The big segment: 6,000 subscribers, tens of thousands of renewals. Its own logit mean churn has
    // a standard error of about 1 / sqrt(5,760 * 0.11 * 0.89) = 0.04; pooling may move it by a
    // fraction of that, and its 12-renewal survival by a fraction of a percentage point.
    assert!(big.pull_logit_mean_churn().unwrap().abs() < 0.02, "{big:?}");
    assert!(big.pull_logit_polarisation().unwrap().abs() < 0.05, "{big:?}");
    assert!(big.change_in_survival_at_horizon().unwrap().abs() < 0.004, "{big:?}");

    // The small one: its mean churn moves a real part of the way toward the prior's centre.
    let own = small.unpooled.unwrap();
    let gap = prior.centre_logit_mean_churn - own.logit_mean_churn;
    let pull = small.pull_logit_mean_churn().unwrap();
    assert!(gap.abs() > 0.3, "the small segment should start far from the others: {own:?} vs {prior:?}");
    assert!(pull * gap > 0.0 && pull.abs() > 0.2 * gap.abs(), "pull {pull} of gap {gap}");
    assert!(small.change_in_survival_at_horizon().unwrap().abs() > 0.02, "{small:?}");
}

#[test]
fn a_segment_without_churners_gets_a_pooled_estimate_near_the_others() {
    let common = SbgParameters::new(0.9, 3.0).unwrap();
    let mut segments: Vec<RenewalData> = (0..3).map(|i| simulate_sbg(50_000 + i, 300, common)).collect();
    segments.push(RenewalData::from_survivor_curve(&[6, 6, 6]).unwrap());
    segments.push(RenewalData::from_counts(&[]).unwrap());
    let pooled = pool_segments(&segments).unwrap();
    for segment in &pooled.segments[3..] {
        assert!(segment.unpooled.is_none());
        let s12 = segment.survival_at_horizon_pooled;
        assert!(s12.is_finite() && s12 > 0.0 && s12 < 1.0, "{segment:?}");
    }
    // Six subscribers who all stayed two renewals: retention a little better than the others'.
    assert!(pooled.segments[3].survival_at_horizon_pooled >= pooled.segments[4].survival_at_horizon_pooled);
}

#[test]
fn strongly_heterogeneous_segments_prefer_a_mixture_model_on_held_out_renewals() {
    let data = simulate_sbg(60_000, 3_000, SbgParameters::new(0.5, 1.5).unwrap());
    let comparison = compare_models(&data).unwrap();
    assert_ne!(comparison.chosen, RetentionModel::Geometric, "{comparison:?}");
    assert!(comparison.sbg_held_out_log_likelihood > comparison.geometric_held_out_log_likelihood);
    assert!(comparison.held_out_churners > 0);
}
