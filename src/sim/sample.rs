//! Exact random variates for the simulation, written on `libm` so that every platform draws the same
//! numbers from the same stream.
//!
//! Every function takes the generator as `&mut impl RngCore`; the engine passes a month's
//! `Xoshiro256PlusPlus`. Transcendental functions go through `libm` (never `f64::ln` and friends,
//! which call the platform's maths library natively and Rust's own port in WebAssembly, and can
//! differ in the last bit); the operations IEEE 754 rounds exactly (`sqrt`, `floor`, `abs`,
//! `copysign`) use the processor's own instruction, which gives the same bits everywhere, and
//! every algorithm is exact: the counts have exactly the named distribution, up to the rounding of
//! `f64` arithmetic in the probabilities, with no normal or other approximation anywhere. Where
//! rounding could leave a sliver of probability unaccounted for at the end of an inversion, the draw
//! starts again (a rejection), which keeps it exact for the probabilities as computed.
//!
//! - `binomial`: inversion (the BINV recursion) while `n · min(p, 1 − p)` is small; above that,
//!   Hörmann's transformed rejection with decomposition (BTRD, 1993), whose acceptance test uses the
//!   pmf's ratio to the mode's, computed exactly (a product of the pmf's ratios near the mode, Loader's
//!   saddle-point terms beyond), against a hat that a test below checks lies above the pmf: about
//!   1.34 candidates per draw at the smallest means it serves, 1.13 for large ones, at any n.
//! - `poisson`: inversion for small means; from a mean of 10, Hörmann's transformed rejection with
//!   squeeze (PTRS, 1993), whose acceptance test uses the pmf by Loader's saddle-point terms, against
//!   a hat that a test below checks lies above the pmf: about 1.1 candidates per draw at any mean.
//! - `hypergeometric`: inversion on the pmf computed by its ratio recursion, from 0 when the support
//!   is short and from the mode otherwise (the mode's probability by Loader's saddle-point method,
//!   as R's `dhyper` computes it, accurate to about 1e-14 relative at any size).
//!
//! The functions are pure in everything but the generator; the draws they consume depend only on the
//! arguments and the stream, so a path's results are a function of its stream alone.

use rand::{Rng, RngCore};

/// Binomial draws use inversion while `n · min(p, 1 − p)` is below this, and BTRD from it on (BTRD
/// needs a mode of at least 10)...
const BINOMIAL_BTRD_SMALLEST_MEAN: f64 = 10.0;
/// ...except that while n is at most `POWER_BY_SQUARING_LIMIT`, where inversion's start (1 − p)^n
/// takes a few multiplications, inversion is the quicker up to this mean.
const BINOMIAL_INVERSION_LIMIT: f64 = 20.0;
/// How much higher than Hörmann's PTRS's hat is here (see [`PtrsHat`]).
const PTRS_HAT_RAISED: f64 = 1.01;
/// Poisson draws use inversion below this mean (about `mean` steps), and PTRS from it on.
const POISSON_PTRS_SMALLEST_MEAN: f64 = 10.0;
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
    let radius = f64::sqrt(-2.0 * libm::log(uniform_open(rng)));
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
    let c = 1.0 / f64::sqrt(9.0 * d);
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
///
/// Inlined where it is called, as far as the common draw's first test: with p at most 1/2 and a
/// small mean, a uniform below [`surely_zero_below`] is a 0 (more than half the engine's draws),
/// which then costs no call. Everything else is out of line, and the draws are those of
/// [`binomial_by_inversion`] and the rest, bit for bit.
#[inline(always)]
pub fn binomial(rng: &mut impl RngCore, trials: u64, probability: f64) -> u64 {
    if trials == 0 || probability.is_nan() || probability <= 0.0 {
        return 0;
    }
    if probability <= 0.5 && inverts(trials, probability) {
        return inversion::<true>(rng, trials, probability);
    }
    binomial_otherwise(rng, trials, probability)
}

/// [`binomial`] past its inlined part: a probability of 1 or more, above 1/2, or a mean for BTRD.
#[inline(never)]
fn binomial_otherwise(rng: &mut impl RngCore, trials: u64, probability: f64) -> u64 {
    if probability >= 1.0 {
        return trials;
    }
    if probability > 0.5 {
        // Count the failures instead: 1 - p is exact for p in [0.5, 1].
        return trials - binomial_below_half(rng, trials, 1.0 - probability);
    }
    binomial_below_half(rng, trials, probability)
}

/// Whether Binomial(n, p), p in (0, 0.5], is drawn by inversion (else by BTRD).
#[inline(always)]
fn inverts(n: u64, p: f64) -> bool {
    let mean = n as f64 * p;
    mean < BINOMIAL_BTRD_SMALLEST_MEAN || (mean < BINOMIAL_INVERSION_LIMIT && n <= POWER_BY_SQUARING_LIMIT)
}

/// Binomial(n, p) for p in (0, 0.5]: inversion for a small mean, BTRD above.
fn binomial_below_half(rng: &mut impl RngCore, n: u64, p: f64) -> u64 {
    if inverts(n, p) {
        binomial_by_inversion(rng, n, p)
    } else {
        binomial_by_btrd(rng, n, p)
    }
}

/// Binomial by sequential search from 0 (BINV, Kachitvichyanukul & Schmeiser 1988), for p in
/// (0, 0.5] and a mean n p below 20. Costs about `n · p` steps. A uniform below f(0) = (1 − p)^n is
/// a draw of 0 at once: most of the engine's draws (seven in ten on the demo), a branch a processor
/// mostly predicts; below [`surely_zero_below`], 1 − n p less a margin, it is one before (1 − p)^n
/// is even worked out (more than half the demo's draws). Past them, the first
/// [`INVERSION_UNROLLED`] steps are taken whatever the uniform, and the draw counted by
/// comparisons, not branches: whether it is 1, 2 or more is a coin a processor cannot predict, and
/// a mispredicted branch costs more than the steps. The draws are those of the plain sequential
/// search, bit for bit.
fn binomial_by_inversion(rng: &mut impl RngCore, n: u64, p: f64) -> u64 {
    inversion::<true>(rng, n, p)
}

/// [`binomial_by_inversion`], or without `SHORTCUTS` (which the tests compare it with) the same draw
/// from the cumulative probabilities alone. Inlined as far as its first test, the rest out of line.
#[inline(always)]
fn inversion<const SHORTCUTS: bool>(rng: &mut impl RngCore, n: u64, p: f64) -> u64 {
    let first = uniform(rng);
    if SHORTCUTS && first < surely_zero_below(n, p) {
        return 0;
    }
    inversion_from::<SHORTCUTS>(rng, n, p, first)
}

/// [`inversion`] once its first uniform, `first`, was drawn and found above [`surely_zero_below`].
#[inline(never)]
fn inversion_from<const SHORTCUTS: bool>(rng: &mut impl RngCore, n: u64, p: f64, first: f64) -> u64 {
    let q = 1.0 - p;
    let pmf_zero = power_of_complement(p, q, n);
    if SHORTCUTS && first < pmf_zero {
        return 0;
    }
    let odds = p / q;
    let a = (n as f64 + 1.0) * odds;
    // The pmf at 1..INVERSION_UNROLLED by the recursion f(x) = f(x − 1) (a / x − odds), and the
    // cumulative probabilities; beyond n the factor is 0 or below and the pmf stays 0.
    let mut pmf = [0.0; INVERSION_UNROLLED];
    let mut cdf = [0.0; INVERSION_UNROLLED];
    let (mut f, mut c) = (pmf_zero, pmf_zero);
    pmf[0] = f;
    cdf[0] = c;
    for x in 1..INVERSION_UNROLLED {
        f *= a / x as f64 - odds;
        c += f;
        pmf[x] = f;
        cdf[x] = c;
    }
    let mut u = first;
    loop {
        let below = cdf.iter().map(|c| u64::from(u >= *c)).sum::<u64>();
        if below < INVERSION_UNROLLED as u64 {
            if below <= n {
                return below;
            }
        } else {
            let last = INVERSION_UNROLLED - 1;
            if let Some(x) = binomial_inversion_search(n, odds, a, last as u64, pmf[last], u - cdf[last]) {
                return x;
            }
        }
        // u fell in the probability that rounding lost: draw again.
        u = uniform(rng);
    }
}

/// A number below (1 − p)^n as [`power_of_complement`] works it out, for p in (0, 0.5] and n p below
/// 20: 1 − n p (Bernoulli's inequality: 1 − n p ≤ (1 − p)^n) less (n + 32) units of 2^-52. The power
/// is within (n / 2 + 11) such units of (1 − p)^n (the rounding of 1 − p, n / 2 units, and of at
/// most 21 multiplications; through `exp` and `log1p` for n > 1024, a few units), and this number is
/// within 11 of 1 − n p − (n + 32) units, so it is always below; a test checks it over many (n, p).
/// A uniform below it is a draw of 0, as the search from 0 would have found.
fn surely_zero_below(n: u64, p: f64) -> f64 {
    let trials = n as f64;
    1.0 - trials * p - (trials + 32.0) * f64::EPSILON
}

/// How many values of the pmf [`binomial_by_inversion`] works out before it draws.
const INVERSION_UNROLLED: usize = 6;

/// The search of [`binomial_by_inversion`] on from `from` (whose pmf is `pmf_from`), with `u` less
/// the probability up to `from`, and the recursion's constants `odds` = p / q and `a` = (n + 1) odds;
/// `None` when `u` is beyond the probabilities as computed.
fn binomial_inversion_search(n: u64, odds: f64, a: f64, from: u64, pmf_from: f64, mut u: f64) -> Option<u64> {
    // Counting in floats saves a conversion a step; a mean below 20 keeps x far below 2^53 (the pmf
    // underflows long before).
    let top = n as f64;
    let (mut pmf, mut x) = (pmf_from, from as f64);
    loop {
        x += 1.0;
        if x > top {
            return None;
        }
        pmf *= a / x - odds;
        if pmf == 0.0 {
            return None;
        }
        if u < pmf {
            return Some(x as u64);
        }
        u -= pmf;
    }
}

/// Binomial by BTRD, Hörmann's transformed rejection with decomposition ("The generation of binomial
/// random variates", 1993), for p in (0, 0.5] and a mean n p of at least 10 (so a mode of at least 10).
///
/// A point (u, v) uniform on [−1/2, 1/2) × [0, 1) gives the candidate k = ⌊G(u)⌋ with
/// G(u) = (2a / (1/2 − |u|) + b) u + c, which is accepted when v α / G′(u) ≤ f(k) / f(m), f the pmf and
/// m the mode: the hat α / G′(u) lies above f(⌊G(u)⌋) / f(m) everywhere, so what is accepted has
/// exactly the pmf. In the rectangle |u| ≤ 0.43, v ≤ v_r the test always passes (the rectangle lies
/// under the pmf), so those candidates, 40% of them at a mean of 10 and 79% for a large mean, cost one
/// uniform and no logarithm. Otherwise f(k) / f(m) is computed, not bounded: as a product of the
/// pmf's ratios within 15 of the mode, by Loader's saddle-point terms beyond, which do not cancel at
/// any n. Candidates are counted from the mode in integers, so G's rounding moves the boundaries
/// between values by a few units in the last place of a distance from the mode, not of n p. From 1.34
/// candidates per draw at a mean of 10 to 1.13 for a large one (α f(m)).
fn binomial_by_btrd(rng: &mut impl RngCore, n: u64, p: f64) -> u64 {
    let q = 1.0 - p;
    let BtrdHat { a, b, alpha, v_r, mode, offset } = BtrdHat::new(n, p, q);
    let u_r_v_r = 0.86 * v_r;
    loop {
        let v = uniform(rng);
        if v <= u_r_v_r {
            // Inside the rectangle, v / v_r is uniform on [0, 0.86]: reuse it as u, on [-0.43, 0.43].
            let u = v / v_r - 0.43;
            let y = floor_to_i64((2.0 * a / (0.5 - f64::abs(u)) + b) * u + offset);
            if let Some(k) = from_mode(mode, y, n) {
                return k;
            }
            continue;
        }
        let (u, v) = if v >= v_r {
            (uniform(rng) - 0.5, v)
        } else {
            // v / v_r is uniform on (0.86, 1): reuse it as u on the two strips 0.43 < |u| ≤ 1/2.
            let w = v / v_r - 0.93;
            (f64::copysign(0.5, w) - w, uniform(rng) * v_r)
        };
        let us = 0.5 - f64::abs(u);
        if us <= 0.0 {
            continue;
        }
        let y = floor_to_i64((2.0 * a / us + b) * u + offset);
        let Some(k) = from_mode(mode, y, n) else {
            continue;
        };
        let v = v * alpha / (a / (us * us) + b);
        let (low, high) = if k > mode { (mode, k) } else { (k, mode) };
        let accept = if high - low <= 15 {
            // f(high) / f(low) = up / down, the products over low < i ≤ high of f(i) / f(i - 1) =
            // (n - i + 1) p / (i q)'s numerators and denominators: at most 15 factors each, none
            // below 1/4 (i ≤ m + 15 with m ≤ (n + 1) / 2 and n p ≥ 10), none above 2^64, so both
            // products stay within 2^-30 and 2^960.
            let (mut up, mut down) = (1.0, 1.0);
            let (mut i, mut rest) = (low as f64 + 1.0, (n - low) as f64);
            for _ in low..high {
                up *= rest * p;
                down *= i * q;
                i += 1.0;
                rest -= 1.0;
            }
            if k > mode {
                v * down <= up
            } else {
                v * up <= down
            }
        } else {
            libm::log(v) <= binomial_ln_pmf_ratio(k, mode, n, p, q)
        };
        if accept {
            return k;
        }
    }
}

/// ⌊x⌋ for |x| < 2^63, by truncation (exact, and far quicker than `libm::floor` where the target
/// has no rounding instruction); beyond, `as` saturates, and NaN gives 0.
fn floor_to_i64(x: f64) -> i64 {
    let t = x as i64;
    t - i64::from((t as f64) > x)
}

/// BTRD's constants for Binomial(n, p), p ≤ 1/2, n p ≥ 10: the hat's shape (a, b), its height α,
/// the quick-acceptance rectangle's height v_r, the mode m, and c − m, where c = n p + 1/2 is the
/// hat's centre. These are Hörmann's constants; a test below checks, value by value over means from
/// 10 up, that the hat lies above the pmf and the rectangle under it, with at least 0.46% and 0.50% to
/// spare (the limit of a large mean; 1.0% and 0.8% at means below 45).
struct BtrdHat {
    a: f64,
    b: f64,
    alpha: f64,
    v_r: f64,
    mode: u64,
    offset: f64,
}

impl BtrdHat {
    fn new(n: u64, p: f64, q: f64) -> BtrdHat {
        let nf = n as f64;
        let spread = f64::sqrt(nf * p * q);
        let b = 1.15 + 2.53 * spread;
        let a = -0.0873 + 0.0248 * b + 0.01 * p;
        let alpha = (2.83 + 5.1 / b) * spread;
        let v_r = 0.92 - 4.2 / b;
        // The mode ⌊(n + 1) p⌋, within 10..=n for n p ≥ 10 and p ≤ 1/2.
        let mode = f64::floor((nf + 1.0) * p).min(nf) as u64;
        let offset = (nf * p - mode as f64) + 0.5;
        BtrdHat { a, b, alpha, v_r, mode, offset }
    }
}

/// The value `y` away from the mode, if it lies in 0..=n.
fn from_mode(mode: u64, y: i64, n: u64) -> Option<u64> {
    // i128 holds every u64 plus or minus any i64.
    let k = i128::from(mode) + i128::from(y);
    if (0..=i128::from(n)).contains(&k) {
        Some(k as u64)
    } else {
        None
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
        // Multiply by the base or by 1 (exact), chosen by masking bits: a branch on n's bits, which
        // change from call to call, would be mispredicted about once a bit.
        let mask = 0u64.wrapping_sub(exponent & 1);
        result *= f64::from_bits((base.to_bits() & mask) | (1f64.to_bits() & !mask));
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
    let mean = mean.min(MAX_POISSON_MEAN);
    if mean < POISSON_PTRS_SMALLEST_MEAN {
        poisson_by_inversion(rng, mean)
    } else {
        poisson_by_ptrs(rng, mean)
    }
}

/// PTRS's constants for a Poisson mean μ ≥ 10 (Hörmann, "The transformed rejection method for
/// generating Poisson random variables", 1993): the hat's shape (a, b), its height 1 / α
/// (`inverse_alpha`) and the quick-acceptance rectangle's height v_r. At Hörmann's own constants the
/// hat dips up to 0.5% below the pmf at the far end of some values' ranges of u (at μ = 10, near
/// k = 16; the test below finds it), which would draw those values a little too rarely; so the hat
/// here is 1% higher, and the rectangle as high as Hörmann's (v_r 1% lower against the higher hat):
/// exact, for about 1% more candidates.
struct PtrsHat {
    a: f64,
    b: f64,
    inverse_alpha: f64,
    v_r: f64,
}

impl PtrsHat {
    fn new(mean: f64) -> PtrsHat {
        let b = 0.931 + 2.53 * f64::sqrt(mean);
        PtrsHat {
            a: -0.059 + 0.02483 * b,
            b,
            inverse_alpha: (1.1239 + 1.1328 / (b - 3.4)) * PTRS_HAT_RAISED,
            v_r: (0.9277 - 3.6224 / (b - 2.0)) / PTRS_HAT_RAISED,
        }
    }
}

/// Poisson by PTRS, transformed rejection with squeeze, for a mean of at least 10: constant time at
/// any mean. A point (u, v) uniform on [−1/2, 1/2) × [0, 1) gives the candidate k = ⌊G(u)⌋ with
/// G(u) = (2a / (1/2 − |u|) + b) u + μ + 0.43, accepted when v ≤ α f(k) G′(u), f the pmf: the hat
/// 1 / (α G′(u)) lies above f(⌊G(u)⌋) everywhere, so what is accepted has exactly the pmf. Inside
/// |u| ≤ 0.43, v ≤ v_r the test always passes (the rectangle lies under the pmf); near |u| = 1/2, v > 1/2 − |u|
/// always fails. A test below checks both against the pmf. About 1.1 candidates per draw.
fn poisson_by_ptrs(rng: &mut impl RngCore, mean: f64) -> u64 {
    let PtrsHat { a, b, inverse_alpha, v_r } = PtrsHat::new(mean);
    loop {
        let u = uniform(rng) - 0.5;
        let v = uniform(rng);
        let us = 0.5 - f64::abs(u);
        if us <= 0.0 {
            continue;
        }
        let k = floor_to_i64((2.0 * a / us + b) * u + mean + 0.43);
        if us >= 0.07 && v <= v_r {
            // k ≥ 0 here: |(2a / us + b) u| ≤ 0.43 (2a / 0.07 + b) < μ at μ ≥ 10.
            return k.max(0) as u64;
        }
        if k < 0 || (us < 0.013 && v > us) {
            continue;
        }
        if v * inverse_alpha / (a / (us * us) + b) <= poisson_pmf_loader(k as f64, mean) {
            return k as u64;
        }
    }
}

/// The Poisson probability P(X = k) for a mean μ, by Loader's saddle-point form (no cancellation at
/// any size): exp(−stirling_error(k) − deviance(k, μ)) / sqrt(2π k), and e^−μ at k = 0.
fn poisson_pmf_loader(k: f64, mean: f64) -> f64 {
    if k == 0.0 {
        return libm::exp(-mean);
    }
    libm::exp(-stirling_error(k) - deviance_term(k, mean)) / f64::sqrt(2.0 * std::f64::consts::PI * k)
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
    libm::exp(binomial_ln_pmf_loader(x, n, p, q))
}

/// The logarithm of [`binomial_pmf_loader`]'s probability (−∞ where it is 0).
fn binomial_ln_pmf_loader(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if p == 0.0 {
        return if x == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if q == 0.0 {
        return if x == n { 0.0 } else { f64::NEG_INFINITY };
    }
    if x == 0.0 {
        if n == 0.0 {
            return 0.0;
        }
        return if p < 0.1 { -deviance_term(n, n * q) - n * p } else { n * libm::log(q) };
    }
    if x == n {
        return if q < 0.1 { -deviance_term(n, n * p) - n * q } else { n * libm::log(p) };
    }
    let ln = stirling_error(n)
        - stirling_error(x)
        - stirling_error(n - x)
        - deviance_term(x, n * p)
        - deviance_term(n - x, n * q);
    let ln_scale = libm::log(2.0 * std::f64::consts::PI) + libm::log(x) + libm::log1p(-x / n);
    ln - 0.5 * ln_scale
}

/// ln(f(k) / f(m)) for the Binomial(n, p) pmf f, q = 1 − p, 0 < m < n, from Loader's terms: Stirling's
/// errors and the deviances, each accurate to a few units in the last place, with the common
/// `stirling_error(n)` and 2π cancelled by hand and the square-root factors in one logarithm.
fn binomial_ln_pmf_ratio(k: u64, m: u64, n: u64, p: f64, q: f64) -> f64 {
    let (kf, mf, nf) = (k as f64, m as f64, n as f64);
    if k == 0 || k == n {
        return binomial_ln_pmf_loader(kf, nf, p, q) - binomial_ln_pmf_loader(mf, nf, p, q);
    }
    let (k_rest, m_rest) = ((n - k) as f64, (n - m) as f64);
    let (np, nq) = (nf * p, nf * q);
    let errors = stirling_error(mf) + stirling_error(m_rest) - stirling_error(kf) - stirling_error(k_rest);
    let deviances =
        deviance_term(mf, np) + deviance_term(m_rest, nq) - deviance_term(kf, np) - deviance_term(k_rest, nq);
    errors + deviances + 0.5 * libm::log((mf * m_rest) / (kf * k_rest))
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
    if f64::abs(x - m) < 0.1 * (x + m) {
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
/// from group `i` of `counts`. `out` must be as long as `counts`; draws beyond the total are taken as
/// the total. No more draws than groups (the engine's usual case: a churner or two from a cell's few
/// MRR values) are taken one at a time, each uniform among the items left (an exact bounded integer)
/// and found by a walk over the groups: a random number and a short walk per item, where the
/// successive univariate draws (group i against all later groups) that serve larger draws take a
/// hypergeometric draw per group.
pub fn multivariate_hypergeometric(rng: &mut impl RngCore, counts: &[u64], draws: u64, out: &mut [u64]) {
    let mut population: u64 = counts.iter().fold(0u64, |sum, c| sum.saturating_add(*c));
    let mut remaining = draws.min(population);
    if remaining <= counts.len() as u64 && population < u64::MAX {
        out.iter_mut().for_each(|o| *o = 0);
        for left in (population - remaining + 1..=population).rev() {
            let mut item = rng.random_range(0..left);
            for (count, taken) in counts.iter().zip(out.iter_mut()) {
                let here = count - *taken;
                if item < here {
                    *taken += 1;
                    break;
                }
                item -= here;
            }
        }
        return;
    }
    for (count, taken) in counts.iter().zip(out.iter_mut()) {
        let x = if remaining == 0 { 0 } else { hypergeometric(rng, population, *count, remaining) };
        *taken = x;
        population -= count;
        remaining -= x;
    }
}

/// Multinomial: `out[i]` is how many of `trials` fall in category `i`, whose probability is
/// proportional to `weights[i]`. With no weight at all, nothing is assigned. `out` must be as long as
/// `weights`. Up to twice as many trials as categories (a month's new subscribers over a per-seat
/// plan's MRR values) are placed one at a time, each by an exact bounded integer below the total
/// weight and a walk over the categories; more by successive binomials (category i against all
/// later ones).
pub fn multinomial(rng: &mut impl RngCore, trials: u64, weights: &[u64], out: &mut [u64]) {
    let mut remaining_weight: u128 = weights.iter().map(|w| u128::from(*w)).sum();
    let mut remaining = trials;
    if trials <= 2 * weights.len() as u64 && remaining_weight > 0 && remaining_weight <= u128::from(u64::MAX) {
        out.iter_mut().for_each(|o| *o = 0);
        let total = remaining_weight as u64;
        for _ in 0..trials {
            let mut point = rng.random_range(0..total);
            for (weight, count) in weights.iter().zip(out.iter_mut()) {
                if point < *weight {
                    *count += 1;
                    break;
                }
                point -= weight;
            }
        }
        return;
    }
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
        let (statistic, df) = chi_square_statistic(what, draws, pmf, low, high);
        let z = 3.090_232; // the standard normal's 99.9% quantile
        let h = 2.0 / (9.0 * df);
        let critical = df * (1.0 - h + z * h.sqrt()).powi(3);
        assert!(
            statistic < critical,
            "{what}: chi-square {statistic:.1} on {df} degrees of freedom exceeds {critical:.1}"
        );
    }

    /// Pearson's chi-square statistic of draws against an exact pmf on `low..=high`, and its degrees
    /// of freedom, as [`assert_fits`] pools them.
    fn chi_square_statistic(what: &str, draws: &[u64], pmf: impl Fn(u64) -> f64, low: u64, high: u64) -> (f64, f64) {
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
        (statistic, (bins.len() - 1) as f64)
    }

    /// P(χ² ≥ statistic) on `df` degrees of freedom: the regularized upper incomplete gamma function
    /// Q(df / 2, statistic / 2), by its series below df / 2 + 1 and its continued fraction (modified
    /// Lentz) above.
    fn chi_square_p_value(statistic: f64, df: f64) -> f64 {
        let (a, x) = (0.5 * df, 0.5 * statistic);
        if x <= 0.0 {
            return 1.0;
        }
        let prefix = (a * x.ln() - x - libm::lgamma(a)).exp();
        if x < a + 1.0 {
            let (mut term, mut sum, mut shape) = (1.0 / a, 1.0 / a, a);
            while term > 1e-17 * sum {
                shape += 1.0;
                term *= x / shape;
                sum += term;
            }
            return (1.0 - prefix * sum).max(0.0);
        }
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let (mut c, mut d) = (1.0 / tiny, 1.0 / b);
        let mut fraction = d;
        for i in 1..100_000 {
            let an = -f64::from(i) * (f64::from(i) - a);
            b += 2.0;
            d = an * d + b;
            d = if d.abs() < tiny { tiny } else { d };
            c = b + an / c;
            c = if c.abs() < tiny { tiny } else { c };
            d = 1.0 / d;
            let delta = d * c;
            fraction *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        prefix * fraction
    }

    /// The p-value of draws against an exact pmf on `low..=high` (see [`chi_square_statistic`]).
    fn fit_p_value(what: &str, draws: &[u64], pmf: impl Fn(u64) -> f64, low: u64, high: u64) -> f64 {
        let (statistic, df) = chi_square_statistic(what, draws, pmf, low, high);
        chi_square_p_value(statistic, df)
    }

    /// A two-sample chi-square test of two samples of one size: the pooled sample's quantiles at
    /// multiples of 1/50 cut the values into bins (equal values stay together), and over the bins
    /// Σ (a − b)² / (a + b) is chi-square with one degree of freedom fewer than there are bins when
    /// both samples have one distribution. Returns the statistic, its degrees of freedom and the
    /// p-value.
    #[cfg(not(target_arch = "wasm32"))]
    fn two_sample_test(first: &[u64], second: &[u64]) -> (f64, f64, f64) {
        assert_eq!(first.len(), second.len());
        let mut pooled: Vec<u64> = first.iter().chain(second).copied().collect();
        pooled.sort_unstable();
        let mut cuts: Vec<u64> = (1..50).map(|i| pooled[i * pooled.len() / 50]).collect();
        cuts.dedup();
        let mut counts = vec![(0.0, 0.0); cuts.len() + 1];
        for &x in first {
            counts[cuts.partition_point(|c| *c <= x)].0 += 1.0;
        }
        for &x in second {
            counts[cuts.partition_point(|c| *c <= x)].1 += 1.0;
        }
        let used: Vec<&(f64, f64)> = counts.iter().filter(|(a, b)| a + b > 0.0).collect();
        let statistic: f64 = used.iter().map(|(a, b)| (a - b) * (a - b) / (a + b)).sum();
        let df = (used.len() - 1) as f64;
        (statistic, df, chi_square_p_value(statistic, df))
    }

    /// Binomial(n, p) probabilities on `low..=high`, from the ratios f(x + 1) / f(x) =
    /// (n − x) p / ((x + 1) q) summed in logarithms outward from the mean and normalised over the
    /// range: independent of the samplers' Loader terms, and unlike log-gamma differences (which lose
    /// 1e-3 of the pmf at a trillion trials) accurate at any n. The range must hold essentially all the
    /// mass: each end is checked to be below 1e-15 of the peak, unless it is an end of the support.
    fn binomial_pmf_table(n: u64, p: f64, low: u64, high: u64) -> Vec<f64> {
        let q = 1.0 - p;
        let ln_odds = (p / q).ln();
        let step = |x: u64| ((n - x) as f64 / (x + 1) as f64).ln() + ln_odds;
        let anchor = ((n as f64 * p) as u64).clamp(low, high);
        let mut ln = vec![0.0; (high - low + 1) as usize];
        for x in anchor..high {
            ln[(x + 1 - low) as usize] = ln[(x - low) as usize] + step(x);
        }
        for x in (low..anchor).rev() {
            ln[(x - low) as usize] = ln[(x + 1 - low) as usize] - step(x);
        }
        let peak = ln.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = ln.iter().map(|l| (l - peak).exp()).collect();
        assert!(low == 0 || weights[0] < 1e-15, "binomial({n}, {p}): {low} is not far enough out");
        assert!(high == n || weights[weights.len() - 1] < 1e-15, "binomial({n}, {p}): {high} is not far enough out");
        let total: f64 = weights.iter().sum();
        weights.iter().map(|w| w / total).collect()
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
    fn the_bound_for_a_draw_of_zero_lies_below_the_computed_power() {
        // Every n the inversion sees up to 1,100 (past the squarings' limit), at probabilities from
        // 1e-15 (where the bound and the power meet at 1) to the largest of a mean below 20.
        let mut r = rng(43);
        for n in 1..=1_100u64 {
            let largest = (20.0 / n as f64).min(0.5);
            let grid = (0..40).map(|i| largest * 10f64.powf(-15.0 * i as f64 / 39.0));
            let random = (0..40).map(|_| largest * uniform_open(&mut r));
            for p in grid.chain(random).chain([largest, f64::MIN_POSITIVE]) {
                let (bound, power) = (surely_zero_below(n, p), power_of_complement(p, 1.0 - p, n));
                assert!(bound < power, "n {n}, p {p}: the bound {bound} is not below (1 - p)^n = {power}");
            }
        }
    }

    #[test]
    fn inversion_with_its_shortcuts_draws_what_the_cumulative_probabilities_draw() {
        // The same stream through both: every draw equal, whatever its size, including draws that
        // search on past the unrolled steps and the rare ones rounding sends back for a new uniform.
        let cases: [(u64, f64); 9] = [
            (1, 0.03),
            (2, 1e-9),
            (27, 0.03),
            (27, 0.3),
            (60, 0.005),
            (200, 0.09),
            (1_024, 0.0195),
            (5_000, 0.0019),
            (3, 0.5),
        ];
        for (n, p) in cases {
            let (mut with, mut without) = (rng(47), rng(47));
            for draw in 0..200_000 {
                let (a, b) = (inversion::<true>(&mut with, n, p), inversion::<false>(&mut without, n, p));
                assert_eq!(a, b, "Binomial({n}, {p}), draw {draw}");
            }
        }
    }

    #[test]
    fn binomial_fits_its_pmf_by_inversion_and_by_btrd() {
        // (n, p): inversion at a small n; BTRD at a mean of 30 and at moderate and large n; extreme p
        // on both sides, reached through the complement.
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

    /// The p-value floor of the binomial tests below: each case fails a correct sampler with this
    /// probability, so a test of about 20 cases fails one seed in 500. The seeds are fixed, so a
    /// failure is a change, not chance.
    const BINOMIAL_P_VALUE_FLOOR: f64 = 1e-4;

    #[test]
    fn binomial_fits_its_pmf_on_both_methods_at_every_switch_and_size() {
        let trillion = 1_000_000_000_000u64;
        // (n, p, what it exercises)
        let cases: [(u64, f64, &str); 21] = [
            (10, 0.3, "inversion"),
            (66, 0.3, "inversion at its largest mean for a small n (19.8)"),
            (67, 0.3, "BTRD just above it (20.1)"),
            (39, 0.5, "inversion at p = 1/2 (19.5)"),
            (40, 0.5, "BTRD at p = 1/2 at its smallest mean for a small n (20)"),
            (1_100, 0.009, "inversion from (1 - p)^n by logarithms (9.9)"),
            (1_100, 0.0091, "BTRD at its smallest mean, 10.01"),
            (200, 0.5, "BTRD at p = 1/2"),
            (1_400, 0.03, "BTRD at an engine's size"),
            (5_305, 0.03, "BTRD at an engine's size"),
            (50_000, 0.03, "BTRD at an engine's size"),
            (1_000_000, 0.5, "BTRD with a large mean"),
            (1_000_000, 1e-5, "BTRD with a tiny p"),
            (1_000_000, 1.0 - 1e-5, "p close to 1: BTRD on the failures"),
            (50, 0.999, "p close to 1: inversion on the failures"),
            (1_000, 0.75, "p above 1/2: BTRD on the failures"),
            (trillion, 5e-12, "a trillion trials, inversion"),
            (trillion, 1.2e-11, "a trillion trials, BTRD near its smallest mean"),
            (trillion, 1e-9, "a trillion trials, BTRD"),
            (trillion, 0.5 - 1e-6, "a trillion trials at about a half"),
            (u64::MAX / 2, 1e-17, "n beyond 2^53, BTRD"),
        ];
        let mut r = rng(15);
        for (n, p, what) in cases {
            let draws: Vec<u64> = (0..200_000).map(|_| binomial(&mut r, n, p)).collect();
            let (low, high) = around(n as f64 * p, n as f64 * p * (1.0 - p), n);
            let table = binomial_pmf_table(n, p, low, high);
            let pmf = |x: u64| table[(x - low) as usize];
            let what = format!("binomial({n}, {p}), {what}");
            let p_value = fit_p_value(&what, &draws, pmf, low, high);
            assert!(p_value >= BINOMIAL_P_VALUE_FLOOR, "{what}: p-value {p_value:.2e}");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn binomial_draws_like_rand_distrs() {
        use rand_distr::Distribution;
        let cases: [(u64, f64); 7] = [
            (40, 0.3),
            (200, 0.05),
            (5_305, 0.03),
            (50_000, 0.03),
            (1_000_000, 0.02),
            (1_000_000, 0.5),
            (1_000_000_000_000, 0.3),
        ];
        let (mut ours, mut theirs) = (rng(16), rng(17));
        for (n, p) in cases {
            let reference = rand_distr::Binomial::new(n, p).unwrap();
            let first: Vec<u64> = (0..200_000).map(|_| binomial(&mut ours, n, p)).collect();
            let second: Vec<u64> = (0..200_000).map(|_| reference.sample(&mut theirs)).collect();
            let (statistic, df, p_value) = two_sample_test(&first, &second);
            assert!(
                p_value >= BINOMIAL_P_VALUE_FLOOR,
                "binomial({n}, {p}) against rand_distr: chi-square {statistic:.1} on {df}, p-value {p_value:.2e}"
            );
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn poisson_draws_like_rand_distrs() {
        use rand_distr::Distribution;
        let (mut ours, mut theirs) = (rng(26), rng(27));
        for mean in [3.0, 10.0, 52.0, 5_000.0, 1e9] {
            let reference = rand_distr::Poisson::new(mean).unwrap();
            let first: Vec<u64> = (0..200_000).map(|_| poisson(&mut ours, mean)).collect();
            let second: Vec<u64> = (0..200_000).map(|_| reference.sample(&mut theirs) as u64).collect();
            let (statistic, df, p_value) = two_sample_test(&first, &second);
            assert!(
                p_value >= BINOMIAL_P_VALUE_FLOOR,
                "poisson({mean}) against rand_distr: chi-square {statistic:.1} on {df}, p-value {p_value:.2e}"
            );
        }
    }

    /// PTRS is exact when, for every u, the acceptance probability α f(k) G′(u) of the candidate
    /// k = ⌊G(u)⌋ is at most 1 (the hat 1 / (α G′(u)) lies above f(k)), at least v_r inside the quick
    /// acceptance's |u| ≤ 0.43 (the rectangle lies under), and at most 1/2 − |u| where |u| > 0.487
    /// (the quick rejection drops nothing it should keep). G′ grows with |u|, so over the u that give
    /// one k the hat is lowest at the largest |u| and highest at the smallest: check those ends for
    /// every k within 30 standard deviations and 60 of the mean, over means from 10 up: the hat with at
    /// least 0.4% to spare (0.48% at the worst, μ = 10), the rectangle 0.1% (0.14% as μ grows).
    #[test]
    fn ptrs_hat_lies_above_the_pmf_and_its_rectangle_below() {
        for mean in [10.0, 10.01, 10.5, 11.0, 12.5, 15.0, 20.0, 33.3, 50.0, 100.0, 1e3, 1e4, 1e5, 1e7, 1e9] {
            let PtrsHat { a, b, inverse_alpha, v_r } = PtrsHat::new(mean);
            // The u ≥ 0 with H(u) = (2a / (1/2 − u) + b) u = t ≥ 0 (the smaller root of a quadratic).
            let inverse = |t: f64| {
                let shifted = t + 2.0 * a - 0.5 * b;
                t / (2.0 * a + 0.5 * b + t + (shifted * shifted + 4.0 * a * b).sqrt())
            };
            let hat = |u: f64| inverse_alpha / (a / ((0.5 - u) * (0.5 - u)) + b);
            let reach = 30.0 * mean.sqrt() + 60.0;
            let (first, last) = (((mean - reach).max(0.0)) as u64, (mean + reach) as u64);
            for k in first..=last {
                let pmf = (k as f64 * mean.ln() - mean - libm::lgamma(k as f64 + 1.0)).exp();
                if pmf < 1e-300 {
                    continue;
                }
                // k is drawn when H(u) lies in [k − μ − 0.43, k + 1 − μ − 0.43).
                let (t0, t1) = (k as f64 - mean - 0.43, k as f64 + 1.0 - mean - 0.43);
                let farthest = inverse(t0.abs().max(t1.abs()));
                assert!(hat(farthest) > pmf * 1.004, "poisson({mean}): the hat dips below the pmf at {k}");
                let nearest = inverse(if t0 <= 0.0 && t1 >= 0.0 { 0.0 } else { t0.abs().min(t1.abs()) });
                if nearest <= 0.43 {
                    assert!(
                        v_r * hat(nearest) < pmf / 1.001,
                        "poisson({mean}): the rectangle rises above the pmf at {k}"
                    );
                }
                if farthest > 0.487 {
                    assert!(pmf <= (0.5 - farthest) * hat(farthest), "poisson({mean}): the quick rejection drops {k}");
                }
            }
        }
    }

    #[test]
    fn binomial_has_its_moments_beyond_a_trillion_trials() {
        let mut r = rng(18);
        let cases: [(u64, f64); 4] =
            [(1_000_000_000_000_000, 0.5), (1 << 62, 0.01), (u64::MAX, 0.3), (u64::MAX, 1.0 - 1e-9)];
        for (n, p) in cases {
            // Above a half, the failures: summed in floats, counts near 2^64 would lose more than the
            // standard error of a mean of 2^64 - 2e10.
            let q = 1.0 - p;
            let count = |x: u64| if p > 0.5 { n - x } else { x };
            let draws: Vec<f64> = (0..20_000).map(|_| count(binomial(&mut r, n, p)) as f64).collect();
            let nf = n as f64;
            assert_moments(&format!("binomial({n}, {p})"), &draws, nf * p.min(q), nf * p * q);
        }
    }

    #[test]
    fn binomial_handles_more_edges() {
        let mut r = rng(19);
        assert_eq!(binomial(&mut r, 10, f64::INFINITY), 10);
        assert_eq!(binomial(&mut r, 10, f64::NEG_INFINITY), 0);
        assert_eq!(binomial(&mut r, 10, -0.0), 0);
        assert_eq!(binomial(&mut r, u64::MAX, f64::NAN), 0);
        assert_eq!(binomial(&mut r, u64::MAX, 0.0), 0);
        assert_eq!(binomial(&mut r, 0, 1.0), 0);
        assert_eq!(binomial(&mut r, u64::MAX, f64::MIN_POSITIVE), 0);
        // One trial at a half: 10,000 draws give 5,000 ones with a standard deviation of 50.
        let ones = (0..10_000).filter(|_| binomial(&mut r, 1, 0.5) == 1).count();
        assert!((4_700..=5_300).contains(&ones), "{ones} ones");
        // The most trials: at a half (a standard deviation of 2^31), and at the largest p below 1,
        // whose 2,048 expected failures (a standard deviation of 45) are drawn by BTRD.
        let half = binomial(&mut r, u64::MAX, 0.5);
        assert!(half.abs_diff(1 << 63) < 10 << 31, "{half}");
        let failures = u64::MAX - binomial(&mut r, u64::MAX, 1.0 - f64::EPSILON / 2.0);
        assert!((1_600..=2_500).contains(&failures), "{failures} failures");
    }

    /// BTRD is exact only if its hat α / G′(u) lies above f(⌊G(u)⌋) / f(m) for every u, and its
    /// quick-acceptance rectangle v_r α / G′(u), |u| ≤ 0.43, below it. G′ grows with |u|, so over the
    /// u that give a value k the hat is lowest (the rectangle highest) at the end farthest from
    /// (nearest to) u = 0: check those ends for every value within 20 standard deviations and 60 of
    /// the mode (beyond, the pmf falls like exp(−z²/2) and the hat like 1/z², ever further apart),
    /// over means from 10 up, every n at small means. The margins shrink as the mean grows, towards
    /// those of the limit checked last, 0.46% and 0.50%; at means below 45 they are at least 1.0% and
    /// 0.8%.
    #[test]
    fn btrd_hat_lies_above_the_pmf_and_its_rectangle_below() {
        fn margins(n: u64, p: f64) -> (f64, f64) {
            let q = 1.0 - p;
            let BtrdHat { a, b, alpha, v_r, mode, offset } = BtrdHat::new(n, p, q);
            // The u ≥ 0 with H(u) = (2a / (1/2 − u) + b) u = t ≥ 0: the smaller root of
            // b u² − (2a + b / 2 + t) u + t / 2, in a form that does not cancel.
            let inverse = |t: f64| {
                let shifted = t + 2.0 * a - 0.5 * b;
                t / (2.0 * a + 0.5 * b + t + (shifted * shifted + 4.0 * a * b).sqrt())
            };
            let hat = |u: f64| alpha / (a / ((0.5 - u) * (0.5 - u)) + b);
            let reach = (20.0 * (n as f64 * p * q).sqrt() + 60.0) as i64;
            let (mut above, mut below) = (f64::INFINITY, f64::INFINITY);
            for y in -reach..=reach {
                let Some(k) = from_mode(mode, y, n) else {
                    continue;
                };
                let ratio = if k == mode { 1.0 } else { binomial_ln_pmf_ratio(k, mode, n, p, q).exp() };
                // k = m + y when H(u) + offset lies in [y, y + 1).
                let (t0, t1) = (y as f64 - offset, y as f64 + 1.0 - offset);
                above = above.min(hat(inverse(t0.abs().max(t1.abs()))) / ratio - 1.0);
                let nearest = if t0 <= 0.0 && t1 >= 0.0 { 0.0 } else { t0.abs().min(t1.abs()) };
                let u = inverse(nearest);
                if u <= 0.43 {
                    below = below.min(ratio / (v_r * hat(u)) - 1.0);
                }
            }
            (above, below)
        }
        let mut cases: Vec<(u64, f64)> = Vec::new();
        for p in [0.5, 0.45, 0.3, 0.1, 0.01] {
            let first = (10.0 / p) as u64;
            cases.extend((first..first + (40.0 / p) as u64).map(|n| (n, p)));
        }
        for mean in [10.0, 10.5, 11.0, 15.0, 20.0, 30.0, 50.0, 100.0, 1e3, 1e4, 1e5] {
            for p in [1e-9, 1e-3, 0.03, 0.1, 0.3, 0.5] {
                cases.push(((mean / p) as u64, p));
            }
        }
        for (n, p) in cases {
            if (n as f64) * p < BINOMIAL_BTRD_SMALLEST_MEAN {
                continue;
            }
            let (above, below) = margins(n, p);
            assert!(above > 0.0, "binomial({n}, {p}): the hat dips {:.2e} below the pmf", -above);
            assert!(below > 0.0, "binomial({n}, {p}): the rectangle rises {:.2e} above the pmf", -below);
        }
        // As the mean grows, in units of the standard deviation the hat and the rectangle tend to
        // fixed curves (a = 0.0248 b, b = 2.53, α = 2.83, v_r = 0.92) and the pmf to the normal
        // density: check the limit too.
        let (a, b, alpha, v_r) = (0.0248 * 2.53, 2.53, 2.83, 0.92);
        for i in 1..499_000 {
            let u = f64::from(i) * 1e-6;
            let us = 0.5 - u;
            let z = (2.0 * a / us + b) * u;
            let density = (-0.5 * z * z).exp();
            let hat = alpha / (a / (us * us) + b);
            assert!(hat > 1.004 * density, "the limiting hat at u = {u}");
            if u <= 0.43 {
                assert!(v_r * hat < density / 1.004, "the limiting rectangle at u = {u}");
            }
        }
    }

    #[test]
    fn loaders_pmf_ratio_matches_sums_of_the_pmfs_ratios() {
        let trillion = 1_000_000_000_000u64;
        let cases: [(u64, f64, u64, u64); 9] = [
            (1_000, 0.3, 300, 340),
            (1_000, 0.3, 300, 250),
            (50, 0.5, 25, 1),
            (50, 0.5, 25, 0),
            (50, 0.5, 25, 50),
            (trillion, 0.3, 300_000_000_000, 300_000_002_000),
            (trillion, 0.3, 300_000_000_000, 299_999_000_000),
            (trillion, 1e-9, 1_000, 1_100),
            (trillion, 1e-9, 1_000, 900),
        ];
        for (n, p, m, k) in cases {
            let q = 1.0 - p;
            let ln_odds = (p / q).ln();
            let step = |x: u64| ((n - x) as f64 / (x + 1) as f64).ln() + ln_odds;
            let reference: f64 = if k > m { (m..k).map(step).sum() } else { -(k..m).map(step).sum::<f64>() };
            let ours = binomial_ln_pmf_ratio(k, m, n, p, q);
            let tolerance = 1e-12 * (1.0 + reference.abs()) + 1e-16 * k.abs_diff(m) as f64;
            assert!((ours - reference).abs() < tolerance, "binomial({n}, {p}), {k} against {m}: {ours} vs {reference}");
        }
    }

    #[test]
    fn chi_square_p_values_match_the_tables() {
        // 95% and 99.9% quantiles on 1, 10 and 100 degrees of freedom.
        for (statistic, df, p_value) in
            [(3.841_459, 1.0, 0.05), (18.307_04, 10.0, 0.05), (124.342_1, 100.0, 0.05), (29.588_3, 10.0, 0.001)]
        {
            let ours = chi_square_p_value(statistic, df);
            assert!((ours / p_value - 1.0).abs() < 1e-4, "{statistic} on {df}: {ours} vs {p_value}");
        }
        assert!((chi_square_p_value(0.5, 4.0) - 0.973_500_7).abs() < 1e-6);
    }

    #[test]
    fn poisson_fits_its_pmf_for_small_and_large_means() {
        let mut r = rng(7);
        for mean in [0.3, 4.0, 9.99, 10.0, 10.5, 13.0, 29.5, 50.0, 750.0, 1e6] {
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
    fn few_draws_taken_one_at_a_time_are_hypergeometric_in_every_group() {
        let mut r = rng(48);
        let counts = [5u64, 0, 7, 9, 3];
        let total: u64 = counts.iter().sum();
        let mut out = [0u64; 5];
        for draws in 1..=5u64 {
            let mut by_group = vec![Vec::new(); counts.len()];
            for _ in 0..40_000 {
                multivariate_hypergeometric(&mut r, &counts, draws, &mut out);
                assert_eq!(out.iter().sum::<u64>(), draws);
                assert!(out.iter().zip(&counts).all(|(o, c)| o <= c));
                for (group, taken) in by_group.iter_mut().zip(&out) {
                    group.push(*taken);
                }
            }
            for (index, (count, sample)) in counts.iter().zip(&by_group).enumerate().filter(|(_, (c, _))| **c > 0) {
                let what = format!("group {index} of {counts:?}, {draws} drawn one at a time");
                let p_value = fit_p_value(
                    &what,
                    sample,
                    hypergeometric_pmf_reference(total, *count, draws),
                    0,
                    draws.min(*count),
                );
                assert!(p_value >= BINOMIAL_P_VALUE_FLOOR, "{what}: p-value {p_value:.2e}");
            }
        }
        // Two groups drawn together: the joint pmf, not only the margins.
        let mut pairs = Vec::new();
        for _ in 0..40_000 {
            multivariate_hypergeometric(&mut r, &[2, 2, 2], 2, &mut out[..3]);
            pairs.push(out[0] * 3 + out[1]);
        }
        // Of C(6, 2) = 15 pairs: (0, 0) 1, (0, 1) 4, (0, 2) 1, (1, 0) 4, (1, 1) 4, (2, 0) 1.
        let joint = |code: u64| match code {
            0 | 2 | 6 => 1.0 / 15.0,
            1 | 3 | 4 => 4.0 / 15.0,
            _ => 0.0,
        };
        let p_value = fit_p_value("two of [2, 2, 2]", &pairs, joint, 0, 8);
        assert!(p_value >= BINOMIAL_P_VALUE_FLOOR, "two of [2, 2, 2]: p-value {p_value:.2e}");
    }

    #[test]
    fn few_trials_placed_one_at_a_time_are_binomial_in_every_category() {
        let mut r = rng(49);
        let weights = [1u64, 0, 3, 6, 10];
        let mut out = [0u64; 5];
        for trials in [1u64, 4, 10] {
            let mut by_category = vec![Vec::new(); weights.len()];
            for _ in 0..40_000 {
                multinomial(&mut r, trials, &weights, &mut out);
                assert_eq!(out.iter().sum::<u64>(), trials);
                assert_eq!(out[1], 0);
                for (category, count) in by_category.iter_mut().zip(&out) {
                    category.push(*count);
                }
            }
            for (index, (weight, sample)) in weights.iter().zip(&by_category).enumerate().filter(|(_, (w, _))| **w > 0)
            {
                let what = format!("category {index} of {weights:?}, {trials} trials one at a time");
                let p_value = fit_p_value(&what, sample, binomial_pmf(trials, *weight as f64 / 20.0), 0, trials);
                assert!(p_value >= BINOMIAL_P_VALUE_FLOOR, "{what}: p-value {p_value:.2e}");
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
        let (mut picked, mut placed) = ([0u64; 3], [0u64; 3]);
        multivariate_hypergeometric(&mut r, &[5, 7, 9], 3, &mut picked);
        multinomial(&mut r, 5, &[1, 2, 7], &mut placed);
        let pinned = format!(
            "{uniforms:?} {normals:?} {gammas:?} {betas:?} {binomials:?} {small_binomials:?} {poissons:?} \
             {hypergeometrics:?} {few:?} {many:?} {shares:?} {picked:?} {placed:?}"
        );
        let expected = "[0.6818961923066714, 0.950275407672484] [-0.9080526709984266, 0.9269949187990785] \
                        [3.006659235254205, 0.508869784109694] [0.20874518150190746, 0.0003476223441074574] \
                        [312, 322, 324] [2, 0, 1] [382, 412, 409] [52, 60, 68] [4, 3, 3] [47, 28, 25] [11, 27, 62] [1, 1, 1] [0, 2, 3]";
        assert_eq!(pinned, expected);
        let mut again = rng(42);
        assert_eq!(uniform(&mut again), uniforms[0]);
    }
}
