//! A small, deterministic minimiser for the models' fits: Newton's method inside a box, with
//! Levenberg-style damping and a backtracking line search, falling back to Nelder-Mead when Newton
//! stalls; and a bracketing root finder for the ends of profile-likelihood intervals.
//!
//! The problems here have two to four parameters and cheap, smooth objectives, so plain dense
//! algebra on `Vec`s is enough. Box bounds keep every parameter where the model is meaningful and
//! turn a likelihood that keeps rising towards an edge (the geometric limit) into a minimum on the
//! bound that the caller can recognise and report, instead of a run-away iterate.

/// A function value with its gradient and Hessian (for minimisation).
#[derive(Debug, Clone)]
pub(crate) struct Derivatives {
    pub value: f64,
    pub gradient: Vec<f64>,
    pub hessian: Vec<Vec<f64>>,
}

/// Closed bounds for every coordinate.
#[derive(Debug, Clone)]
pub(crate) struct Bounds {
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

impl Bounds {
    fn clip(&self, point: &mut [f64]) {
        for ((coordinate, &lower), &upper) in point.iter_mut().zip(&self.lower).zip(&self.upper) {
            *coordinate = coordinate.clamp(lower, upper);
        }
    }
}

/// Where a minimisation ended.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub point: Vec<f64>,
    pub value: f64,
    /// Whether the stopping rule was met, rather than the iteration limit or a stalled search.
    pub converged: bool,
}

const NEWTON_MAX_ITERATIONS: usize = 200;
const LINE_SEARCH_HALVINGS: usize = 60;
/// Newton stops when the decrease it still predicts is below this share of the value's size.
const PREDICTED_DECREASE_TOLERANCE: f64 = 1e-13;

/// Minimises with bounded Newton; if that does not converge, restarts with Nelder-Mead from the best
/// point found and polishes that result with Newton again. The best point of all is returned.
pub(crate) fn minimise(
    value: &dyn Fn(&[f64]) -> f64,
    derivatives: &dyn Fn(&[f64]) -> Derivatives,
    start: &[f64],
    bounds: &Bounds,
) -> Minimum {
    let first = newton(value, derivatives, start, bounds);
    if first.converged {
        return first;
    }
    let simplex = nelder_mead(value, &first.point, bounds, &NelderMeadTolerance::TIGHT);
    let polished = newton(value, derivatives, &simplex.point, bounds);
    [first, simplex, polished]
        .into_iter()
        .filter(|candidate| candidate.value.is_finite())
        .min_by(|a, b| a.value.total_cmp(&b.value))
        .unwrap_or(Minimum { point: start.to_vec(), value: f64::INFINITY, converged: false })
}

/// Newton's method in a box. Coordinates sitting on a bound with the gradient pushing outward are
/// held there (projected Newton); the others take a damped Newton step, shortened until it
/// decreases the function enough (Armijo).
pub(crate) fn newton(
    value: &dyn Fn(&[f64]) -> f64,
    derivatives: &dyn Fn(&[f64]) -> Derivatives,
    start: &[f64],
    bounds: &Bounds,
) -> Minimum {
    let mut point = start.to_vec();
    bounds.clip(&mut point);
    let mut current = derivatives(&point);
    if !current.value.is_finite() {
        return Minimum { point, value: f64::INFINITY, converged: false };
    }
    for _ in 0..NEWTON_MAX_ITERATIONS {
        let free: Vec<usize> = (0..point.len())
            .filter(|&i| {
                let pushed_below = point[i] <= bounds.lower[i] && current.gradient[i] > 0.0;
                let pushed_above = point[i] >= bounds.upper[i] && current.gradient[i] < 0.0;
                !(pushed_below || pushed_above)
            })
            .collect();
        if free.is_empty() {
            return Minimum { point, value: current.value, converged: true };
        }
        let tolerance = PREDICTED_DECREASE_TOLERANCE * current.value.abs().max(1.0);
        let mut damping = 0.0;
        let mut accepted = None;
        for _ in 0..12 {
            let Some(step) = damped_newton_step(&current, &free, damping) else {
                damping = next_damping(damping, &current);
                continue;
            };
            let slope: f64 = free.iter().zip(&step).map(|(&i, s)| current.gradient[i] * s).sum();
            if -slope <= tolerance {
                return Minimum { point, value: current.value, converged: true };
            }
            if let Some(trial) = backtrack(value, &current, &point, &free, &step, bounds) {
                accepted = Some(trial);
                break;
            }
            damping = next_damping(damping, &current);
        }
        let Some((trial_point, trial_value)) = accepted else {
            return Minimum { point, value: current.value, converged: false };
        };
        let improvement = current.value - trial_value;
        point = trial_point;
        current = derivatives(&point);
        if !current.value.is_finite() {
            return Minimum { point, value: f64::INFINITY, converged: false };
        }
        if improvement <= 1e-15 * current.value.abs().max(1.0) {
            // The search can no longer tell points apart: this is as close as doubles allow.
            return Minimum { point, value: current.value, converged: true };
        }
    }
    Minimum { point, value: current.value, converged: false }
}

/// The next Levenberg damping: grows tenfold from a scale set by the Hessian's diagonal.
fn next_damping(damping: f64, current: &Derivatives) -> f64 {
    let scale = current.hessian.iter().enumerate().map(|(i, row)| row[i].abs()).fold(1e-8, f64::max);
    if damping == 0.0 {
        1e-6 * scale
    } else {
        damping * 10.0
    }
}

/// Solves (H_ff + damping I) step = -g_f on the free coordinates, or None when the damped Hessian is
/// not positive definite (so the step would not point downhill).
fn damped_newton_step(current: &Derivatives, free: &[usize], damping: f64) -> Option<Vec<f64>> {
    let matrix: Vec<Vec<f64>> = free
        .iter()
        .map(|&i| free.iter().map(|&j| current.hessian[i][j] + if i == j { damping } else { 0.0 }).collect())
        .collect();
    let right: Vec<f64> = free.iter().map(|&i| -current.gradient[i]).collect();
    cholesky_solve(&matrix, &right)
}

/// Halves the step until the clipped point decreases the function by the Armijo rule.
fn backtrack(
    value: &dyn Fn(&[f64]) -> f64,
    current: &Derivatives,
    point: &[f64],
    free: &[usize],
    step: &[f64],
    bounds: &Bounds,
) -> Option<(Vec<f64>, f64)> {
    let mut length = 1.0;
    for _ in 0..LINE_SEARCH_HALVINGS {
        let mut trial = point.to_vec();
        for (&i, s) in free.iter().zip(step) {
            trial[i] += length * s;
        }
        bounds.clip(&mut trial);
        let decrease_predicted: f64 =
            trial.iter().zip(point).zip(&current.gradient).map(|((t, p), g)| g * (t - p)).sum();
        let trial_value = value(&trial);
        if trial_value.is_finite() && trial_value <= current.value + 1e-4 * decrease_predicted {
            return Some((trial, trial_value));
        }
        length *= 0.5;
    }
    None
}

/// Solves A x = b for a symmetric positive definite A by Cholesky; None when A is not.
pub(crate) fn cholesky_solve(matrix: &[Vec<f64>], right: &[f64]) -> Option<Vec<f64>> {
    let lower = cholesky(matrix)?;
    let size = right.len();
    let mut forward = vec![0.0; size];
    for i in 0..size {
        let sum: f64 = (0..i).map(|k| lower[i][k] * forward[k]).sum();
        forward[i] = (right[i] - sum) / lower[i][i];
    }
    let mut solution = vec![0.0; size];
    for i in (0..size).rev() {
        let sum: f64 = (i + 1..size).map(|k| lower[k][i] * solution[k]).sum();
        solution[i] = (forward[i] - sum) / lower[i][i];
    }
    Some(solution)
}

/// The lower-triangular Cholesky factor, or None when the matrix is not positive definite.
pub(crate) fn cholesky(matrix: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let size = matrix.len();
    let mut lower = vec![vec![0.0; size]; size];
    for i in 0..size {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| lower[i][k] * lower[j][k]).sum();
            if i == j {
                let pivot = matrix[i][i] - sum;
                if !(pivot > 0.0 && pivot.is_finite()) {
                    return None;
                }
                lower[i][i] = libm::sqrt(pivot);
            } else {
                lower[i][j] = (matrix[i][j] - sum) / lower[j][j];
            }
        }
    }
    Some(lower)
}

/// When Nelder-Mead stops: the values at the simplex's vertices differ by at most `relative_value`
/// times the best value's size (at least 1), and the vertices lie within `width` of the best one in
/// every coordinate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NelderMeadTolerance {
    pub relative_value: f64,
    pub width: f64,
}

impl NelderMeadTolerance {
    /// For objectives computed exactly: as close as the simplex can get.
    pub const TIGHT: NelderMeadTolerance = NelderMeadTolerance { relative_value: 1e-14, width: 1e-9 };
}

/// Nelder-Mead in a box (points are clipped into it), with the standard coefficients: reflection 1,
/// expansion 2, contraction 1/2, shrink 1/2. The first simplex steps 0.5 along each coordinate
/// (towards the inside when a bound is near).
pub(crate) fn nelder_mead(
    value: &dyn Fn(&[f64]) -> f64,
    start: &[f64],
    bounds: &Bounds,
    tolerance: &NelderMeadTolerance,
) -> Minimum {
    let size = start.len();
    let evaluate = |point: &mut Vec<f64>| {
        bounds.clip(point);
        let v = value(point);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let mut first = start.to_vec();
    let mut simplex: Vec<(Vec<f64>, f64)> = vec![(first.clone(), evaluate(&mut first))];
    for i in 0..size {
        let mut vertex = start.to_vec();
        vertex[i] += if vertex[i] + 0.5 <= bounds.upper[i] { 0.5 } else { -0.5 };
        let v = evaluate(&mut vertex);
        simplex.push((vertex, v));
    }
    let mut converged = false;
    for _ in 0..4000 {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[size].1);
        let spread = (worst - best).abs();
        let width = simplex
            .iter()
            .flat_map(|(p, _)| p.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if best.is_finite() && spread <= tolerance.relative_value * best.abs().max(1.0) && width <= tolerance.width {
            converged = true;
            break;
        }
        let centroid: Vec<f64> =
            (0..size).map(|i| simplex[..size].iter().map(|(p, _)| p[i]).sum::<f64>() / size as f64).collect();
        let toward = |coefficient: f64| -> Vec<f64> {
            centroid.iter().zip(&simplex[size].0).map(|(c, w)| c + coefficient * (c - w)).collect()
        };
        let mut reflected = toward(1.0);
        let reflected_value = evaluate(&mut reflected);
        if reflected_value < simplex[0].1 {
            let mut expanded = toward(2.0);
            let expanded_value = evaluate(&mut expanded);
            simplex[size] = if expanded_value < reflected_value {
                (expanded, expanded_value)
            } else {
                (reflected, reflected_value)
            };
            continue;
        }
        if reflected_value < simplex[size - 1].1 {
            simplex[size] = (reflected, reflected_value);
            continue;
        }
        let outside = reflected_value < simplex[size].1;
        let mut contracted = toward(if outside { 0.5 } else { -0.5 });
        let contracted_value = evaluate(&mut contracted);
        if contracted_value < reflected_value.min(simplex[size].1) {
            simplex[size] = (contracted, contracted_value);
            continue;
        }
        let best_point = simplex[0].0.clone();
        for vertex in simplex.iter_mut().skip(1) {
            let mut shrunk: Vec<f64> = vertex.0.iter().zip(&best_point).map(|(v, b)| b + 0.5 * (v - b)).collect();
            let v = evaluate(&mut shrunk);
            *vertex = (shrunk, v);
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (point, value) = simplex.swap_remove(0);
    Minimum { point, value, converged }
}

/// A root of `function` between `inside` (where it is negative) and `outside` (where it is positive),
/// by the Illinois variant of false position, to within `tolerance` in the argument.
pub(crate) fn bracketed_root(function: &dyn Fn(f64) -> f64, inside: f64, outside: f64, tolerance: f64) -> f64 {
    let (mut a, mut b) = (inside, outside);
    let (mut value_a, mut value_b) = (function(a), function(b));
    let mut side = 0;
    for _ in 0..200 {
        if (b - a).abs() <= tolerance {
            break;
        }
        let mut c = (a * value_b - b * value_a) / (value_b - value_a);
        if !c.is_finite() || (c - a) * (c - b) >= 0.0 {
            c = 0.5 * (a + b);
        }
        let value_c = function(c);
        if !value_c.is_finite() || value_c > 0.0 {
            b = c;
            value_b = if value_c.is_finite() { value_c } else { f64::MAX };
            if side == 1 {
                value_a *= 0.5;
            }
            side = 1;
        } else {
            a = c;
            value_a = value_c;
            if side == -1 {
                value_b *= 0.5;
            }
            side = -1;
        }
    }
    0.5 * (a + b)
}

/// Gradient and Hessian of `value` by central differences with step `step` in every coordinate, for
/// objectives without analytic derivatives.
pub(crate) fn finite_difference_derivatives(value: &dyn Fn(&[f64]) -> f64, point: &[f64], step: f64) -> Derivatives {
    let size = point.len();
    let at = value(point);
    let shifted = |moves: &[(usize, f64)]| {
        let mut moved = point.to_vec();
        for &(i, delta) in moves {
            moved[i] += delta;
        }
        value(&moved)
    };
    let mut gradient = vec![0.0; size];
    let mut diagonal = vec![0.0; size];
    for (i, (slope, curvature)) in gradient.iter_mut().zip(&mut diagonal).enumerate() {
        let (up, down) = (shifted(&[(i, step)]), shifted(&[(i, -step)]));
        *slope = (up - down) / (2.0 * step);
        *curvature = (up - 2.0 * at + down) / (step * step);
    }
    // The mixed second derivatives below the diagonal, each computed once and mirrored.
    let mixed = |i: usize, j: usize| {
        let cross =
            shifted(&[(i, step), (j, step)]) - shifted(&[(i, step), (j, -step)]) - shifted(&[(i, -step), (j, step)])
                + shifted(&[(i, -step), (j, -step)]);
        cross / (4.0 * step * step)
    };
    let below: Vec<Vec<f64>> = (0..size).map(|i| (0..i).map(|j| mixed(i, j)).collect()).collect();
    let hessian = (0..size)
        .map(|i| {
            (0..size)
                .map(|j| match i.cmp(&j) {
                    std::cmp::Ordering::Equal => diagonal[i],
                    std::cmp::Ordering::Greater => below[i][j],
                    std::cmp::Ordering::Less => below[j][i],
                })
                .collect()
        })
        .collect();
    Derivatives { value: at, gradient, hessian }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rosenbrock(p: &[f64]) -> f64 {
        (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2)
    }

    fn rosenbrock_derivatives(p: &[f64]) -> Derivatives {
        let (x, y) = (p[0], p[1]);
        Derivatives {
            value: rosenbrock(p),
            gradient: vec![-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)],
            hessian: vec![vec![2.0 - 400.0 * y + 1200.0 * x * x, -400.0 * x], vec![-400.0 * x, 200.0]],
        }
    }

    fn wide() -> Bounds {
        Bounds { lower: vec![-10.0, -10.0], upper: vec![10.0, 10.0] }
    }

    #[test]
    fn newton_finds_the_rosenbrock_minimum_from_the_classic_start() {
        let found = newton(&rosenbrock, &rosenbrock_derivatives, &[-1.2, 1.0], &wide());
        assert!(found.converged);
        assert!((found.point[0] - 1.0).abs() < 1e-7 && (found.point[1] - 1.0).abs() < 1e-7, "{:?}", found.point);
    }

    #[test]
    fn nelder_mead_finds_the_rosenbrock_minimum_without_derivatives() {
        let found = nelder_mead(&rosenbrock, &[-1.2, 1.0], &wide(), &NelderMeadTolerance::TIGHT);
        assert!(found.converged);
        assert!((found.point[0] - 1.0).abs() < 1e-5 && (found.point[1] - 1.0).abs() < 1e-5, "{:?}", found.point);
    }

    #[test]
    fn a_minimum_outside_the_box_ends_on_the_bound_with_the_other_coordinate_optimal() {
        // Minimum at (3, -2) unconstrained; the box stops x at 1, and y is still free to reach -2.
        let value = |p: &[f64]| (p[0] - 3.0).powi(2) + (p[1] + 2.0).powi(2) + 0.5 * p[0] * (p[1] + 2.0);
        let derivatives = |p: &[f64]| Derivatives {
            value: value(p),
            gradient: vec![2.0 * (p[0] - 3.0) + 0.5 * (p[1] + 2.0), 2.0 * (p[1] + 2.0) + 0.5 * p[0]],
            hessian: vec![vec![2.0, 0.5], vec![0.5, 2.0]],
        };
        let bounds = Bounds { lower: vec![-5.0, -5.0], upper: vec![1.0, 5.0] };
        let found = minimise(&value, &derivatives, &[0.0, 0.0], &bounds);
        // With x = 1, the best y solves 2 (y + 2) + 0.5 = 0: y = -2.25.
        assert!(found.converged && found.point[0] == 1.0 && (found.point[1] + 2.25).abs() < 1e-9, "{:?}", found);
    }

    #[test]
    fn finite_differences_match_analytic_derivatives_on_a_smooth_function() {
        let numeric = finite_difference_derivatives(&rosenbrock, &[0.3, -0.2], 1e-4);
        let exact = rosenbrock_derivatives(&[0.3, -0.2]);
        for i in 0..2 {
            assert!((numeric.gradient[i] - exact.gradient[i]).abs() < 1e-5);
            for j in 0..2 {
                assert!((numeric.hessian[i][j] - exact.hessian[i][j]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn the_root_finder_lands_on_the_crossing_of_a_skewed_function() {
        let root = bracketed_root(&|x| libm::exp(x) - 10.0, 0.0, 5.0, 1e-12);
        assert!((root - libm::log(10.0)).abs() < 1e-10);
        assert!(cholesky(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }
}
