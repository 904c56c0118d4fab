//! Exact random variates for the simulation, written on `libm` so that every platform draws the same
//! numbers from the same stream.
//!
//! Every function takes the generator as `&mut impl RngCore`; the engine passes a `ChaCha8Rng`.
//! Transcendental functions go through `libm` (never `f64::ln` and friends, which call the platform's
//! maths library natively and Rust's own port in WebAssembly, and can differ in the last bit), and
//! every algorithm is exact: the counts have exactly the named distribution, up to the rounding of
//! `f64` arithmetic in the probabilities, with no normal or other approximation anywhere. Where
//! rounding could leave a sliver of probability unaccounted for at the end of an inversion, the draw
//! starts again (a rejection), which keeps it exact for the probabilities as computed.
//!
//! - `binomial`: inversion (the BINV recursion) while `n · min(p, 1 − p)` is small; above that,
//!   the recursive order-statistic splitting of Knuth and Devroye (Devroye, *Non-Uniform Random
//!   Variate Generation*, 1986, ch. X.4): the i-th smallest of n uniforms is Beta(i, n + 1 − i), and
//!   comparing it with p halves the problem.
//! - `poisson`: inversion for small means; above, the gamma splitting of Ahrens & Dieter (1974): the
//!   time of the m-th arrival of a unit-rate process is Gamma(m).
//! - `hypergeometric`: inversion on the pmf computed by its ratio recursion, from 0 when the support
//!   is short and from the mode otherwise (the mode's probability by Loader's saddle-point method,
//!   as R's `dhyper` computes it, accurate to about 1e-14 relative at any size).
//!
//! The functions are pure in everything but the generator; the draws they consume depend only on the
//! arguments and the stream, so a path's results are a function of its stream alone.

use rand::RngCore;

/// Binomial draws use inversion while `n · min(p, 1 − p)` is at most this, and split above.
const BINOMIAL_INVERSION_LIMIT: f64 = 30.0;
/// Poisson draws use inversion while the mean is at most this, and split above.
const POISSON_INVERSION_LIMIT: f64 = 30.0;
/// The largest Poisson mean drawn; larger means are drawn as this (no caller comes near it: the
/// engine's rates are capped far below).
const MAX_POISSON_MEAN: f64 = 1e15;
/// (1 − p)^n is computed by repeated squaring up to this n, and through logarithms above.
const POWER_BY_SQUARING_LIMIT: u64 = 1024;
/// Hypergeometric draws whose support has at most this many values beyond 0 invert from 0.
const HYPERGEOMETRIC_SHORT_SUPPORT: u64 = 64;

/// Uniform on [0, 1), with 53 random bits.
pub fn uniform(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// Uniform on (0, 1): never 0 or 1, so its logarithm is finite.
pub fn uniform_open(rng: &mut impl RngCore) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / 9_007_199_254_740_992.0)
}

/// Standard normal, by Box–Muller (one of the pair, so that the function needs no state).
pub fn standard_normal(rng: &mut impl RngCore) -> f64 {
    let radius = libm::sqrt(-2.0 * libm::log(uniform_open(rng)));
    radius * libm::cos(2.0 * std::f64::consts::PI * uniform(rng))
}

/// Gamma(shape, 1), by Marsaglia & Tsang (2000); a shape below 1 by the boost
/// Gamma(a) = Gamma(a + 1) · U^(1/a). The shape must be positive and finite (0 otherwise).
pub fn gamma(rng: &mut impl RngCore, shape: f64) -> f64 {
    if shape >= 1.0 && shape.is_finite() {
        return marsaglia_tsang(rng, shape);
    }
    libm::exp(ln_gamma_variate(rng, shape))
}

/// The logarithm of a Gamma(shape, 1) variate. Working in logarithms keeps very small shapes exact:
/// for a shape of 1e-3 the variate itself is often below the smallest `f64`, its logarithm never.
fn ln_gamma_variate(rng: &mut impl RngCore, shape: f64) -> f64 {
    if !(shape > 0.0 && shape.is_finite()) {
        return f64::NEG_INFINITY;
    }
    if shape < 1.0 {
        let boost = libm::log(uniform_open(rng)) / shape;
        return libm::log(marsaglia_tsang(rng, shape + 1.0)) + boost;
    }
    libm::log(marsaglia_tsang(rng, shape))
}

/// Marsaglia & Tsang's squeeze-and-reject method for Gamma(shape ≥ 1, 1).
fn marsaglia_tsang(rng: &mut impl RngCore, shape: f64) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let x = standard_normal(rng);
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = uniform_open(rng);
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

/// Beta(a, b), as X / (X + Y) with X ~ Gamma(a) and Y ~ Gamma(b); from their logarithms when a shape
/// is below 1, where X or Y may be smaller than any `f64`.
pub fn beta(rng: &mut impl RngCore, a: f64, b: f64) -> f64 {
    if a >= 1.0 && b >= 1.0 {
        let x = marsaglia_tsang(rng, a);
        let y = marsaglia_tsang(rng, b);
        return x / (x + y);
    }
    let ln_x = ln_gamma_variate(rng, a);
    let ln_y = ln_gamma_variate(rng, b);
    if ln_x == f64::NEG_INFINITY && ln_y == f64::NEG_INFINITY {
        // Only reached with a shape that is not positive and finite: the caller's contract was broken.
        return 0.5;
    }
    1.0 / (1.0 + libm::exp(ln_y - ln_x))
}

/// Binomial(trials, probability): the number of successes. A probability at or below 0 (or NaN)
/// gives 0; at or above 1, `trials`.
pub fn binomial(rng: &mut impl RngCore, trials: u64, probability: f64) -> u64 {
    if trials == 0 || probability.is_nan() || probability <= 0.0 {
        return 0;
    }
    if probability >= 1.0 {
        return trials;
    }
    let mut successes = 0u64;
    let mut n = trials;
    let mut p = probability;
    while n as f64 * p.min(1.0 - p) > BINOMIAL_INVERSION_LIMIT {
        // Of n uniforms, the i-th smallest V is Beta(i, n + 1 - i). If V > p, fewer than i of them lie
        // below p, and those are among the i - 1 below V, which are uniform on (0, V): count them as
        // Binomial(i - 1, p / V). Otherwise the i below V all count, and the n - i above V are uniform
        // on (V, 1): count those as Binomial(n - i, (p - V) / (1 - V)).
        let i = n / 2 + 1;
        let v = beta(rng, i as f64, (n + 1 - i) as f64);
        if p < v {
            n = i - 1;
            p /= v;
        } else {
            successes += i;
            n -= i;
            p = (p - v) / (1.0 - v);
        }
    }
    successes + binomial_by_inversion(rng, n, p)
}

/// Binomial by sequential search from 0 (BINV, Kachitvichyanukul & Schmeiser 1988), on the smaller of
/// p and 1 − p. Costs about `n · min(p, 1 − p)` steps.
fn binomial_by_inversion(rng: &mut impl RngCore, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        // 1 - p is exact for p in [0.5, 1].
        return n - binomial_by_inversion(rng, n, 1.0 - p);
    }
    let q = 1.0 - p;
    let odds = p / q;
    let a = (n as f64 + 1.0) * odds;
    let pmf_zero = power_of_complement(p, q, n);
    loop {
        let mut u = uniform(rng);
        let mut pmf = pmf_zero;
        let mut x = 0u64;
        loop {
            if u < pmf {
                return x;
            }
            u -= pmf;
            x += 1;
            if x > n {
                break;
            }
            pmf *= a / x as f64 - odds;
            if pmf == 0.0 {
                break;
            }
        }
        // u fell in the probability that rounding lost: draw again.
    }
}

/// (1 − p)^n. Small n, the common case in the engine, by repeated squaring: a few multiplications
/// instead of `exp` and `log1p`, with a relative error of about n units in the last place (from
/// rounding q = 1 − p), at most 1e-13 below the cut-off. Larger n through logarithms, whose error does
/// not grow with n.
fn power_of_complement(p: f64, q: f64, n: u64) -> f64 {
    if n > POWER_BY_SQUARING_LIMIT {
        return libm::exp(n as f64 * libm::log1p(-p));
    }
    let (mut result, mut base, mut exponent) = (1.0, q, n);
    while exponent > 0 {
        if exponent & 1 == 1 {
            result *= base;
        }
        base *= base;
        exponent >>= 1;
    }
    result
}

/// Poisson(mean). A mean at or below 0 (or NaN) gives 0; means above 1e15 are drawn as 1e15.
pub fn poisson(rng: &mut impl RngCore, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    let mut lambda = mean.min(MAX_POISSON_MEAN);
    let mut count = 0u64;
    while lambda > POISSON_INVERSION_LIMIT {
        // Count the arrivals of a unit-rate Poisson process in [0, lambda). The m-th arrives at
        // G ~ Gamma(m). If G > lambda, the arrivals before lambda are among the first m - 1, which lie
        // uniformly on (0, G): Binomial(m - 1, lambda / G). Otherwise m arrived, and the process starts
        // afresh at G with lambda - G to go.
        let m = libm::floor(0.875 * lambda) as u64;
        let g = marsaglia_tsang(rng, m as f64);
        if g > lambda {
            return count + binomial(rng, m - 1, lambda / g);
        }
        count += m;
        lambda -= g;
    }
    count + poisson_by_inversion(rng, lambda)
}

/// Poisson by sequential search from 0; costs about `mean` steps.
fn poisson_by_inversion(rng: &mut impl RngCore, mean: f64) -> u64 {
    let pmf_zero = libm::exp(-mean);
    loop {
        let mut u = uniform(rng);
        let mut pmf = pmf_zero;
        let mut x = 0u64;
        loop {
            if u < pmf {
                return x;
            }
            u -= pmf;
            x += 1;
            pmf *= mean / x as f64;
            if pmf == 0.0 {
                break;
            }
        }
    }
}

/// Hypergeometric: the number of marked items among `draws` taken without replacement from
/// `population` items of which `successes` are marked. Arguments beyond the population are taken
/// as the whole population.
pub fn hypergeometric(rng: &mut impl RngCore, population: u64, successes: u64, draws: u64) -> u64 {
    let total = population;
    let marked = successes.min(total);
    let taken = draws.min(total);
    // Symmetries: count in the smaller of the sample and its complement, and the smaller of the
    // marked and unmarked items, so that both are at most half the population and the support
    // starts at 0.
    let draws_flipped = taken > total - taken;
    let n = if draws_flipped { total - taken } else { taken };
    let marked_flipped = marked > total - marked;
    let k = if marked_flipped { total - marked } else { marked };
    let x = if n == 0 || k == 0 {
        0
    } else if n.min(k) <= HYPERGEOMETRIC_SHORT_SUPPORT {
        hypergeometric_from_zero(rng, total, k, n)
    } else {
        hypergeometric_from_mode(rng, total, k, n)
    };
    let x = if marked_flipped { n - x } else { x };
    if draws_flipped {
        marked - x
    } else {
        x
    }
}

/// P(X = x + 1) / P(X = x) for the hypergeometric (N, K, n).
fn hypergeometric_ratio_up(total: u64, marked: u64, draws: u64, x: u64) -> f64 {
    let numerator = (marked - x) as f64 * (draws - x) as f64;
    let denominator = (x + 1) as f64 * (total - marked - draws + x + 1) as f64;
    numerator / denominator
}

/// P(X = x - 1) / P(X = x) for the hypergeometric (N, K, n), x ≥ 1.
fn hypergeometric_ratio_down(total: u64, marked: u64, draws: u64, x: u64) -> f64 {
    let numerator = x as f64 * (total - marked - draws + x) as f64;
    let denominator = (marked - x + 1) as f64 * (draws - x + 1) as f64;
    numerator / denominator
}

/// Inversion from 0, for a short support (n and K at most half of N, min(n, K) small).
/// P(X = 0) = prod over i < K of (N - n - i) / (N - i): at most 64 factors, none below about
/// 1/3 unless N itself is small, so it stays far from underflow.
fn hypergeometric_from_zero(rng: &mut impl RngCore, total: u64, marked: u64, draws: u64) -> u64 {
    let (short, other) = if marked <= draws { (marked, draws) } else { (draws, marked) };
    let mut pmf_zero = 1.0;
    for i in 0..short {
        pmf_zero *= (total - other - i) as f64 / (total - i) as f64;
    }
    loop {
        let mut u = uniform(rng);
        let mut pmf = pmf_zero;
        let mut x = 0u64;
        loop {
            if u < pmf {
                return x;
            }
            u -= pmf;
            if x == short {
                break;
            }
            pmf *= hypergeometric_ratio_up(total, marked, draws, x);
            x += 1;
        }
    }
}

/// Inversion from the mode, stepping outwards one value down and one up in turn; the walk is about
/// a standard deviation long on average. The mode's probability comes from Loader's method.
fn hypergeometric_from_mode(rng: &mut impl RngCore, total: u64, marked: u64, draws: u64) -> u64 {
    let top = marked.min(draws);
    let mode = ((u128::from(draws) + 1) * (u128::from(marked) + 1) / (u128::from(total) + 2)) as u64;
    let mode = mode.min(top);
    let pmf_mode = hypergeometric_pmf(total, marked, draws, mode);
    loop {
        let mut u = uniform(rng);
        if u < pmf_mode {
            return mode;
        }
        u -= pmf_mode;
        let (mut low, mut pmf_low) = (mode, pmf_mode);
        let (mut high, mut pmf_high) = (mode, pmf_mode);
        loop {
            let low_open = low > 0 && pmf_low > 0.0;
            let high_open = high < top && pmf_high > 0.0;
            if !low_open && !high_open {
                break;
            }
            if low_open {
                pmf_low *= hypergeometric_ratio_down(total, marked, draws, low);
                low -= 1;
                if u < pmf_low {
                    return low;
                }
                u -= pmf_low;
            }
            if high_open {
                pmf_high *= hypergeometric_ratio_up(total, marked, draws, high);
                high += 1;
                if u < pmf_high {
                    return high;
                }
                u -= pmf_high;
            }
        }
    }
}

/// P(X = x) for the hypergeometric (N, K, n), as R's `dhyper` computes it: the product of two
/// binomial probabilities over a third, all at p = n / N, each by Loader's saddle-point formula.
fn hypergeometric_pmf(total: u64, marked: u64, draws: u64, x: u64) -> f64 {
    let n_total = total as f64;
    let p = draws as f64 / n_total;
    let q = (total - draws) as f64 / n_total;
    let marked_part = binomial_pmf_loader(x as f64, marked as f64, p, q);
    let unmarked_part = binomial_pmf_loader((draws - x) as f64, (total - marked) as f64, p, q);
    let whole = binomial_pmf_loader(draws as f64, n_total, p, q);
    marked_part * unmarked_part / whole
}

/// The binomial probability P(X = x) for X ~ Binomial(n, p), q = 1 − p, by Loader ("Fast and Accurate
/// Computation of Binomial Probabilities", 2000): no cancellation at any size.
fn binomial_pmf_loader(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if p == 0.0 {
        return if x == 0.0 { 1.0 } else { 0.0 };
    }
    if q == 0.0 {
        return if x == n { 1.0 } else { 0.0 };
    }
    if x == 0.0 {
        if n == 0.0 {
            return 1.0;
        }
        let ln = if p < 0.1 { -deviance_term(n, n * q) - n * p } else { n * libm::log(q) };
        return libm::exp(ln);
    }
    if x == n {
        let ln = if q < 0.1 { -deviance_term(n, n * p) - n * q } else { n * libm::log(p) };
        return libm::exp(ln);
    }
    let ln = stirling_error(n)
        - stirling_error(x)
        - stirling_error(n - x)
        - deviance_term(x, n * p)
        - deviance_term(n - x, n * q);
    let ln_scale = libm::log(2.0 * std::f64::consts::PI) + libm::log(x) + libm::log1p(-x / n);
    libm::exp(ln - 0.5 * ln_scale)
}

/// ln(n!) − ln(sqrt(2πn) (n/e)^n) for a whole number n ≥ 1: Stirling's formula's error.
fn stirling_error(n: f64) -> f64 {
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    if n <= 15.0 {
        // Directly: ln(n!) is a short sum here, and the difference loses only a few units in the last
        // place of ln(n!) (at most about 28), which is far below what the pmf needs.
        let mut ln_factorial = 0.0;
        let mut k = 2.0;
        while k <= n {
            ln_factorial += libm::log(k);
            k += 1.0;
        }
        return ln_factorial - (n + 0.5) * libm::log(n) + n - 0.5 * libm::log(2.0 * std::f64::consts::PI);
    }
    let nn = n * n;
    if n > 500.0 {
        (S0 - S1 / nn) / n
    } else if n > 80.0 {
        (S0 - (S1 - S2 / nn) / nn) / n
    } else if n > 35.0 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// x ln(x / m) + m − x, the deviance term of Loader's method, by its series where x is near m (where
/// the direct formula would cancel).
fn deviance_term(x: f64, m: f64) -> f64 {
    if libm::fabs(x - m) < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut sum = (x - m) * v;
        let mut term = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            term *= v2;
            let next = sum + term / f64::from(2 * j + 1);
            if next == sum {
                return next;
            }
            sum = next;
        }
        return sum;
    }
    x * libm::log(x / m) + m - x
}

/// Multivariate hypergeometric: `out[i]` is how many of `draws` items taken without replacement come
/// from group `i` of `counts`, by successive univariate draws (group i against all later groups).
/// `out` must be as long as `counts`; draws beyond the total are taken as the total. (Taking a few
/// items one at a time, each uniform among those left, is no faster: it needs a random number per
/// item, where this needs one per group.)
pub fn multivariate_hypergeometric(rng: &mut impl RngCore, counts: &[u64], draws: u64, out: &mut [u64]) {
    let mut population: u64 = counts.iter().fold(0u64, |sum, c| sum.saturating_add(*c));
    let mut remaining = draws.min(population);
    for (count, taken) in counts.iter().zip(out.iter_mut()) {
        let x = if remaining == 0 { 0 } else { hypergeometric(rng, population, *count, remaining) };
        *taken = x;
        population -= count;
        remaining -= x;
    }
}

/// Multinomial: `out[i]` is how many of `trials` fall in category `i`, whose probability is
/// proportional to `weights[i]`, by successive binomials (category i against all later ones). With
/// no weight at all, nothing is assigned. `out` must be as long as `weights`.
pub fn multinomial(rng: &mut impl RngCore, trials: u64, weights: &[u64], out: &mut [u64]) {
    let mut remaining_weight: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    let mut remaining = trials;
    for (weight, count) in weights.iter().zip(out.iter_mut()) {
        let x = if remaining == 0 || remaining_weight == 0 {
            0
        } else {
            binomial(rng, remaining, *weight as f64 / remaining_weight as f64)
        };
        *count = x;
        remaining -= x;
        remaining_weight -= u128::from(*weight);
    }
}

/// Beta-binomial(trials, a, b): a probability drawn from Beta(a, b), then that many successes.
pub fn beta_binomial(rng: &mut impl RngCore, trials: u64, a: f64, b: f64) -> u64 {
    let p = beta(rng, a, b);
    binomial(rng, trials, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// Asserts that the sample's mean and variance are within 5 standard errors of the given ones.
    /// The standard error of the variance uses the sample's fourth central moment.
    fn assert_moments(what: &str, sample: &[f64], mean: f64, variance: f64) {
        let count = sample.len() as f64;
        let sample_mean = sample.iter().sum::<f64>() / count;
        let centred = |power: i32| sample.iter().map(|x| (x - sample_mean).powi(power)).sum::<f64>() / count;
        let sample_variance = centred(2) * count / (count - 1.0);
        let fourth = centred(4);
        let mean_error = (variance / count).sqrt();
        let variance_error = ((fourth - sample_variance * sample_variance) / count).sqrt();
        assert!(
            (sample_mean - mean).abs() <= 5.0 * mean_error,
            "{what}: mean {sample_mean} vs {mean} (standard error {mean_error})"
        );
        assert!(
            (sample_variance - variance).abs() <= 5.0 * variance_error,
            "{what}: variance {sample_variance} vs {variance} (standard error {variance_error})"
        );
    }

    /// Pearson's chi-square test of draws against an exact pmf on `low..=high` (which must hold
    /// essentially all the mass; draws outside it fail the test). Adjacent values are pooled until
    /// each bin expects at least 5 draws. Fails when the statistic exceeds the 99.9% quantile of the
    /// chi-square distribution (Wilson–Hilferty), so a correct sampler fails one seed in a thousand:
    /// the seeds below are fixed, so a failure is a real change, not chance.
    fn assert_fits(what: &str, draws: &[u64], pmf: impl Fn(u64) -> f64, low: u64, high: u64) {
        let count = draws.len() as f64;
        let mut observed = vec![0u64; (high - low + 1) as usize];
        for &x in draws {
            assert!((low..=high).contains(&x), "{what}: draw {x} outside {low}..={high}");
            observed[(x - low) as usize] += 1;
        }
        let expected: Vec<f64> = (low..=high).map(|x| pmf(x) * count).collect();
        let missing = count - expected.iter().sum::<f64>();
        assert!(missing.abs() < 1e-6 * count, "{what}: the range misses {missing} expected draws");
        let mut bins: Vec<(f64, f64)> = Vec::new();
        let (mut e_acc, mut o_acc) = (0.0, 0.0);
        for (e, o) in expected.iter().zip(&observed) {
            e_acc += e;
            o_acc += *o as f64;
            if e_acc >= 5.0 {
                bins.push((e_acc, o_acc));
                (e_acc, o_acc) = (0.0, 0.0);
            }
        }
        if let Some(last) = bins.last_mut() {
            last.0 += e_acc;
            last.1 += o_acc;
        }
        let statistic: f64 = bins.iter().map(|(e, o)| (o - e) * (o - e) / e).sum();
        let df = (bins.len() - 1) as f64;
        let z = 3.090_232; // the standard normal's 99.9% quantile
        let h = 2.0 / (9.0 * df);
        let critical = df * (1.0 - h + z * h.sqrt()).powi(3);
        assert!(
            statistic < critical,
            "{what}: chi-square {statistic:.1} on {df} degrees of freedom exceeds {critical:.1}"
        );
    }

    fn ln_choose(n: u64, k: u64) -> f64 {
        libm::lgamma(n as f64 + 1.0) - libm::lgamma(k as f64 + 1.0) - libm::lgamma((n - k) as f64 + 1.0)
    }

    /// The binomial pmf from log-gamma functions: independent of the samplers' recursions.
    fn binomial_pmf(n: u64, p: f64) -> impl Fn(u64) -> f64 {
        move |x| {
            if x > n {
                return 0.0;
            }
            (ln_choose(n, x) + x as f64 * p.ln() + (n - x) as f64 * (-p).ln_1p()).exp()
        }
    }

    fn poisson_pmf(mean: f64) -> impl Fn(u64) -> f64 {
        move |x| (x as f64 * mean.ln() - mean - libm::lgamma(x as f64 + 1.0)).exp()
    }

    fn hypergeometric_pmf_reference(total: u64, marked: u64, draws: u64) -> impl Fn(u64) -> f64 {
        move |x| {
            if x > marked || x > draws || draws - x > total - marked {
                return 0.0;
            }
            (ln_choose(marked, x) + ln_choose(total - marked, draws - x) - ln_choose(total, draws)).exp()
        }
    }

    /// A range of about 12 standard deviations around the mean, within the support.
    fn around(mean: f64, variance: f64, top: u64) -> (u64, u64) {
        let spread = 12.0 * variance.sqrt() + 12.0;
        let low = (mean - spread).max(0.0) as u64;
        let high = ((mean + spread) as u64).min(top);
        (low, high)
    }

    #[test]
    fn uniform_and_normal_have_their_moments() {
        let mut r = rng(1);
        let uniforms: Vec<f64> = (0..200_000).map(|_| uniform(&mut r)).collect();
        assert!(uniforms.iter().all(|u| (0.0..1.0).contains(u)));
        assert_moments("uniform", &uniforms, 0.5, 1.0 / 12.0);
        let normals: Vec<f64> = (0..200_000).map(|_| standard_normal(&mut r)).collect();
        assert_moments("normal", &normals, 0.0, 1.0);
    }

    #[test]
    fn gamma_has_mean_and_variance_equal_to_its_shape() {
        let mut r = rng(2);
        for shape in [0.05, 0.3, 1.0, 2.5, 100.0, 1e6] {
            let draws: Vec<f64> = (0..100_000).map(|_| gamma(&mut r, shape)).collect();
            assert_moments(&format!("gamma({shape})"), &draws, shape, shape);
        }
    }

    #[test]
    fn beta_has_its_moments_even_for_tiny_shapes() {
        let mut r = rng(3);
        for (a, b) in [(0.5, 0.5), (2.0, 5.0), (0.01, 0.02), (300.0, 20.0), (1e-4, 3.0)] {
            let draws: Vec<f64> = (0..100_000).map(|_| beta(&mut r, a, b)).collect();
            assert!(draws.iter().all(|x| (0.0..=1.0).contains(x)), "beta({a}, {b}) left [0, 1]");
            let mean = a / (a + b);
            let variance = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            assert_moments(&format!("beta({a}, {b})"), &draws, mean, variance);
        }
    }

    #[test]
    fn binomial_fits_its_pmf_by_inversion_and_by_splitting() {
        // (n, p): small n; inversion at the limit; splitting at moderate and large n; extreme p on
        // both sides, which inversion reaches through the complement.
        let cases: [(u64, f64); 9] = [
            (10, 0.3),
            (60, 0.5),
            (61, 0.5),
            (200, 0.5),
            (10_000, 0.3),
            (1_000_000, 0.5),
            (1_000_000, 1e-5),
            (1_000_000, 1.0 - 1e-5),
            (50, 0.999),
        ];
        let mut r = rng(4);
        for (n, p) in cases {
            let draws: Vec<u64> = (0..60_000).map(|_| binomial(&mut r, n, p)).collect();
            let (low, high) = around(n as f64 * p, n as f64 * p * (1.0 - p), n);
            assert_fits(&format!("binomial({n}, {p})"), &draws, binomial_pmf(n, p), low, high);
        }
    }

    #[test]
    fn binomial_has_its_moments_at_a_trillion_trials() {
        let mut r = rng(5);
        let (n, p) = (1_000_000_000_000u64, 0.3);
        let draws: Vec<f64> = (0..20_000).map(|_| binomial(&mut r, n, p) as f64).collect();
        assert_moments("binomial(1e12, 0.3)", &draws, n as f64 * p, n as f64 * p * (1.0 - p));
    }

    #[test]
    fn binomial_handles_the_edges() {
        let mut r = rng(6);
        assert_eq!(binomial(&mut r, 0, 0.5), 0);
        assert_eq!(binomial(&mut r, 10, 0.0), 0);
        assert_eq!(binomial(&mut r, 10, f64::NAN), 0);
        assert_eq!(binomial(&mut r, 10, -1.0), 0);
        assert_eq!(binomial(&mut r, 10, 1.0), 10);
        assert_eq!(binomial(&mut r, u64::MAX, 1.0), u64::MAX);
        assert!(binomial(&mut r, u64::MAX / 2, 1e-30) < 1000);
    }

    #[test]
    fn poisson_fits_its_pmf_for_small_and_large_means() {
        let mut r = rng(7);
        for mean in [0.3, 4.0, 29.5, 30.5, 750.0, 1e6] {
            let draws: Vec<u64> = (0..60_000).map(|_| poisson(&mut r, mean)).collect();
            let (low, high) = around(mean, mean, u64::MAX);
            assert_fits(&format!("poisson({mean})"), &draws, poisson_pmf(mean), low, high);
        }
    }

    #[test]
    fn poisson_has_its_moments_at_ten_billion() {
        let mut r = rng(8);
        let draws: Vec<f64> = (0..20_000).map(|_| poisson(&mut r, 1e10) as f64).collect();
        assert_moments("poisson(1e10)", &draws, 1e10, 1e10);
        assert_eq!(poisson(&mut r, 0.0), 0);
        assert_eq!(poisson(&mut r, f64::NAN), 0);
    }

    #[test]
    fn hypergeometric_fits_its_pmf_on_both_paths_and_all_symmetries() {
        // (N, K, n): short support from 0; the draws flipped (n > N/2); the marked flipped
        // (K > N/2); both; long supports from the mode, small and large.
        let cases: [(u64, u64, u64); 7] = [
            (50, 20, 10),
            (20, 7, 12),
            (100, 60, 30),
            (100, 90, 95),
            (1_000_000, 10, 400_000),
            (10_000, 3_000, 2_500),
            (20_000_000, 9_999_997, 5_000_000),
        ];
        let mut r = rng(9);
        for (total, marked, draws) in cases {
            let sample: Vec<u64> = (0..50_000).map(|_| hypergeometric(&mut r, total, marked, draws)).collect();
            let (nf, kf, nn) = (total as f64, marked as f64, draws as f64);
            let mean = nn * kf / nf;
            let variance = nn * kf / nf * (1.0 - kf / nf) * (nf - nn) / (nf - 1.0);
            let (low, high) = around(mean, variance, marked.min(draws));
            let pmf = hypergeometric_pmf_reference(total, marked, draws);
            assert_fits(&format!("hypergeometric({total}, {marked}, {draws})"), &sample, pmf, low, high);
        }
    }

    #[test]
    fn hypergeometric_handles_the_edges() {
        let mut r = rng(10);
        assert_eq!(hypergeometric(&mut r, 10, 0, 5), 0);
        assert_eq!(hypergeometric(&mut r, 10, 10, 5), 5);
        assert_eq!(hypergeometric(&mut r, 10, 4, 10), 4);
        assert_eq!(hypergeometric(&mut r, 10, 4, 0), 0);
        assert_eq!(hypergeometric(&mut r, 0, 0, 0), 0);
        assert_eq!(hypergeometric(&mut r, 10, 40, 50), 10);
    }

    #[test]
    fn loaders_pmf_matches_the_log_gamma_one() {
        for (total, marked, draws, x) in [(10_000u64, 3_000u64, 2_500u64, 750u64), (1_000, 300, 200, 55)] {
            let ours = hypergeometric_pmf(total, marked, draws, x);
            let reference = hypergeometric_pmf_reference(total, marked, draws)(x);
            assert!((ours / reference - 1.0).abs() < 1e-9, "{ours} vs {reference}");
        }
        // Stirling's error at 1 is 1 - ln(2 pi) / 2; the series and the direct sum agree at 15/16.
        assert!((stirling_error(1.0) - (1.0 - 0.5 * libm::log(2.0 * std::f64::consts::PI))).abs() < 1e-15);
        let direct_16 =
            libm::lgamma(17.0) - 16.5 * libm::log(16.0) + 16.0 - 0.5 * libm::log(2.0 * std::f64::consts::PI);
        assert!((stirling_error(16.0) - direct_16).abs() < 1e-13);
    }

    #[test]
    fn multivariate_hypergeometric_takes_exactly_the_draws_in_proportion() {
        let mut r = rng(11);
        let counts = [500u64, 0, 300, 200];
        let mut out = [0u64; 4];
        let mut sums = [0f64; 4];
        let trials = 20_000;
        for _ in 0..trials {
            multivariate_hypergeometric(&mut r, &counts, 100, &mut out);
            assert_eq!(out.iter().sum::<u64>(), 100);
            assert!(out.iter().zip(&counts).all(|(o, c)| o <= c));
            for (s, o) in sums.iter_mut().zip(&out) {
                *s += *o as f64;
            }
        }
        for (i, count) in counts.iter().enumerate() {
            let share = *count as f64 / 1000.0;
            let expected = 100.0 * share;
            let standard_error = (100.0 * share * (1.0 - share) * 900.0 / 999.0 / trials as f64).sqrt();
            let mean = sums[i] / trials as f64;
            assert!((mean - expected).abs() <= 5.0 * standard_error + 1e-12, "group {i}: {mean} vs {expected}");
        }
        multivariate_hypergeometric(&mut r, &counts, 5000, &mut out);
        assert_eq!(out, counts, "drawing more than there are takes everyone");
    }

    #[test]
    fn each_group_of_a_multivariate_hypergeometric_draw_is_hypergeometric() {
        // Short supports (inversion from 0) and long ones (from the mode).
        let mut r = rng(14);
        for (counts, draws) in [(vec![5u64, 0, 7, 9], 10u64), (vec![2000, 0, 1200, 3000, 800], 1000)] {
            let total: u64 = counts.iter().sum();
            let mut out = vec![0u64; counts.len()];
            let mut by_group = vec![Vec::new(); counts.len()];
            for _ in 0..40_000 {
                multivariate_hypergeometric(&mut r, &counts, draws, &mut out);
                for (group, taken) in by_group.iter_mut().zip(&out) {
                    group.push(*taken);
                }
            }
            for (index, (count, sample)) in counts.iter().zip(&by_group).enumerate().filter(|(_, (c, _))| **c > 0) {
                let what = format!("group {index} of {counts:?}, {draws} drawn");
                let pmf = hypergeometric_pmf_reference(total, *count, draws);
                assert_fits(&what, sample, pmf, 0, draws.min(*count));
            }
        }
    }

    #[test]
    fn multinomial_assigns_every_trial_in_proportion() {
        let mut r = rng(12);
        let weights = [1u64, 0, 3, 6];
        let mut out = [0u64; 4];
        let mut firsts = Vec::new();
        for _ in 0..20_000 {
            multinomial(&mut r, 50, &weights, &mut out);
            assert_eq!(out.iter().sum::<u64>(), 50);
            assert_eq!(out[1], 0);
            firsts.push(out[0] as f64);
        }
        assert_moments("multinomial first category", &firsts, 5.0, 50.0 * 0.1 * 0.9);
        multinomial(&mut r, 50, &[0, 0], &mut out[..2]);
        assert_eq!(&out[..2], &[0, 0]);
    }

    #[test]
    fn beta_binomial_has_its_moments() {
        let mut r = rng(13);
        let (n, a, b) = (40u64, 2.0, 3.0);
        let draws: Vec<f64> = (0..100_000).map(|_| beta_binomial(&mut r, n, a, b) as f64).collect();
        let nf = n as f64;
        let mean = nf * a / (a + b);
        let variance = nf * a * b * (a + b + nf) / ((a + b) * (a + b) * (a + b + 1.0));
        assert_moments("beta-binomial(40, 2, 3)", &draws, mean, variance);
    }

    /// These pin the samplers' output for one seed. They are the same on every platform (libm and
    /// ChaCha8 are), so a change here means the algorithms or their order of draws changed, which
    /// changes every simulation's numbers: update them only on purpose.
    #[test]
    fn the_same_seed_gives_the_same_draws_everywhere() {
        let mut r = rng(42);
        let uniforms: Vec<f64> = (0..2).map(|_| uniform(&mut r)).collect();
        let normals: Vec<f64> = (0..2).map(|_| standard_normal(&mut r)).collect();
        let gammas: Vec<f64> = (0..2).map(|_| gamma(&mut r, 2.5)).collect();
        let betas: Vec<f64> = (0..2).map(|_| beta(&mut r, 0.5, 3.0)).collect();
        let binomials: Vec<u64> = (0..3).map(|_| binomial(&mut r, 1000, 0.3)).collect();
        let small_binomials: Vec<u64> = (0..3).map(|_| binomial(&mut r, 20, 0.1)).collect();
        let poissons: Vec<u64> = (0..3).map(|_| poisson(&mut r, 400.0)).collect();
        let hypergeometrics: Vec<u64> = (0..3).map(|_| hypergeometric(&mut r, 1000, 300, 200)).collect();
        let (mut few, mut many, mut shares) = ([0u64; 3], [0u64; 3], [0u64; 3]);
        multivariate_hypergeometric(&mut r, &[5, 7, 9], 10, &mut few);
        multivariate_hypergeometric(&mut r, &[500, 300, 200], 100, &mut many);
        multinomial(&mut r, 100, &[1, 2, 7], &mut shares);
        let pinned = format!(
            "{uniforms:?} {normals:?} {gammas:?} {betas:?} {binomials:?} {small_binomials:?} {poissons:?} \
             {hypergeometrics:?} {few:?} {many:?} {shares:?}"
        );
        let expected = "[0.6818961923066714, 0.950275407672484] [-0.9080526709984266, 0.9269949187990785] \
                        [3.006659235254205, 0.508869784109694] [0.20874518150190746, 0.0003476223441074574] \
                        [293, 300, 313] [1, 1, 1] [418, 379, 429] [63, 62, 61] [2, 3, 5] [47, 31, 22] [11, 24, 65]";
        assert_eq!(pinned, expected);
        let mut again = rng(42);
        assert_eq!(uniform(&mut again), uniforms[0]);
    }
}
