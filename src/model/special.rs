//! Small numerical helpers shared by the models: the logistic function and its logs, a
//! ratio of gamma functions that stays accurate for huge arguments, and the normal and chi-square
//! quantiles of the 95% intervals. All on `libm`, so the same bits come out on every platform.

/// The 97.5% quantile of the standard normal, as scipy's `norm.ppf(0.975)` (and so lifelines) gives it.
pub(crate) const NORMAL_QUANTILE_97_5: f64 = 1.959963984540054;

/// Half the 95% quantile of the chi-square distribution with one degree of freedom: a profile
/// log-likelihood this far below its maximum marks the end of a 95% profile interval.
pub(crate) const HALF_CHI_SQUARE_1_95: f64 = 3.841458820694124 / 2.0;

/// The logistic function 1 / (1 + e^-x), without overflow for large |x|.
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + libm::exp(-x))
    } else {
        let e = libm::exp(x);
        e / (1.0 + e)
    }
}

/// ln(1 + e^x), without overflow.
pub(crate) fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + libm::log1p(libm::exp(-x))
    } else {
        libm::log1p(libm::exp(x))
    }
}

/// ln sigmoid(x) = -ln(1 + e^-x), accurate in both tails.
pub(crate) fn ln_sigmoid(x: f64) -> f64 {
    -softplus(-x)
}

/// ln(p / (1 - p)).
pub(crate) fn logit(p: f64) -> f64 {
    libm::log(p) - libm::log1p(-p)
}

/// ln Gamma(x + h) - ln Gamma(x) for x > 0 and h >= 0. Subtracting two ln-gammas loses every digit
/// when x is huge (the geometric limit, where alpha and beta run to millions), so above a threshold
/// the difference of Stirling's series is taken term by term instead.
pub(crate) fn ln_gamma_ratio(x: f64, h: f64) -> f64 {
    if h == 0.0 {
        return 0.0;
    }
    if x < 50.0 {
        return libm::lgamma(x + h) - libm::lgamma(x);
    }
    // ln Gamma(z) = (z - 1/2) ln z - z + ln(2 pi) / 2 + 1/(12 z) - 1/(360 z^3) + 1/(1260 z^5) - ...;
    // the next term, 1/(1680 z^7), is below 1e-15 for z >= 50.
    let y = x + h;
    let leading = (x - 0.5) * libm::log1p(h / x) + h * libm::log(y) - h;
    let series = |z: f64| {
        let z2 = z * z;
        (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / (1260.0 * z2)) / z2) / z
    };
    leading + series(y) - series(x)
}

/// ln B(alpha, beta + shift) - ln B(alpha, beta) for positive alpha and beta and shift >= 0: the ln
/// S(t) of the sBG (shift t) and of the beta-discrete-Weibull (shift t^c). It equals both
/// [ln Gamma(beta + shift) - ln Gamma(beta)] - [ln Gamma(alpha + beta + shift) - ln Gamma(alpha + beta)]
/// and [ln Gamma(alpha + beta) - ln Gamma(beta)] - [ln Gamma(alpha + beta + shift) - ln Gamma(beta + shift)];
/// the first form steps by the shift and the second by alpha, and the smaller step keeps the ln-gamma
/// differences small where they are taken directly.
pub(crate) fn ln_beta_ratio(alpha: f64, beta: f64, shift: f64) -> f64 {
    if shift <= alpha {
        ln_gamma_ratio(beta, shift) - ln_gamma_ratio(alpha + beta, shift)
    } else {
        ln_gamma_ratio(beta, alpha) - ln_gamma_ratio(beta + shift, alpha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logistic_helpers_invert_each_other_and_stay_finite_in_the_tails() {
        for x in [-40.0, -5.0, -0.3, 0.0, 0.7, 6.0, 15.0] {
            assert!((logit(sigmoid(x)) - x).abs() < 1e-9 * (1.0 + x * x), "{x}");
            assert!((ln_sigmoid(x) - libm::log(sigmoid(x))).abs() < 1e-12, "{x}");
        }
        assert!(ln_sigmoid(-800.0).is_finite() && softplus(800.0) == 800.0 && sigmoid(-800.0) == 0.0);
    }

    #[test]
    fn the_gamma_ratio_matches_factorials_and_the_ln_gamma_difference_on_both_branches() {
        // Gamma(5 + 3) / Gamma(5) = 5 * 6 * 7.
        assert!((ln_gamma_ratio(5.0, 3.0) - libm::log(210.0)).abs() < 1e-13);
        // For x = 60 (the series branch) against a product: Gamma(63) / Gamma(60) = 60 * 61 * 62.
        assert!((ln_gamma_ratio(60.0, 3.0) - libm::log(60.0 * 61.0 * 62.0)).abs() < 1e-13);
        // A fractional step on the series branch against the ln-gamma difference.
        let direct = libm::lgamma(80.5 + 2.25) - libm::lgamma(80.5);
        assert!((ln_gamma_ratio(80.5, 2.25) - direct).abs() < 1e-12);
        // Huge x: ln Gamma(x + 1) - ln Gamma(x) = ln x exactly.
        assert!((ln_gamma_ratio(1e12, 1.0) - libm::log(1e12)).abs() < 1e-12);
    }

    #[test]
    fn the_beta_ratio_is_the_same_by_either_form() {
        // B(1, 1 + t) / B(1, 1) = 1 / (t + 1), and B(2, 3 + 2) / B(2, 3) = (3 * 4) / (5 * 6).
        assert!((ln_beta_ratio(1.0, 1.0, 5000.0) + libm::log(5001.0)).abs() < 1e-14);
        assert!((ln_beta_ratio(2.0, 3.0, 2.0) - libm::log(0.4)).abs() < 1e-14);
        assert!((ln_beta_ratio(2.5, 3.0, 2.0) - libm::log(3.0 * 4.0 / (5.5 * 6.5))).abs() < 1e-14);
    }
}
