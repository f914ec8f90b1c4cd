//! Random draws and money rounding used across the generator.
//!
//! The generator only depends on `rand` for uniform draws from a seeded ChaCha8 stream; the few
//! distributions it needs (normal, log-normal, Poisson, weighted choice) are written here so
//! that their output cannot change with a dependency upgrade.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A uniform draw in `[low, high)`.
pub(crate) fn uniform(rng: &mut ChaCha8Rng, low: f64, high: f64) -> f64 {
    low + (high - low) * rng.random::<f64>()
}

/// A standard normal draw (Box-Muller).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - rng.random::<f64>(); // (0, 1]: ln is finite
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A log-normal factor with median 1 and log-scale standard deviation `sigma`.
pub(crate) fn lognormal(rng: &mut ChaCha8Rng, sigma: f64) -> f64 {
    (sigma * normal(rng)).exp()
}

/// A Poisson count with mean `lambda` (Knuth's method below 30, a rounded normal above).
pub(crate) fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> i64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut product = rng.random::<f64>();
        let mut count = 0;
        while product > limit {
            count += 1;
            product *= rng.random::<f64>();
        }
        count
    } else {
        (lambda + lambda.sqrt() * normal(rng)).round().max(0.0) as i64
    }
}

/// An index drawn with probability proportional to `weights` (all non-negative, not all zero).
pub(crate) fn weighted_index(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if target < *w {
            return i;
        }
        target -= w;
    }
    weights.len().saturating_sub(1)
}

/// Dollars rounded to cents.
pub(crate) fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

/// A shelf price: the amount rounded to a price ending in 9 cents (3.47 -> 3.49), at least 0.49.
pub(crate) fn shelf_price(amount: f64) -> f64 {
    cents(((amount * 10.0).floor() / 10.0 + 0.09).max(0.49))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn shelf_prices_end_in_nine_cents() {
        assert_eq!(shelf_price(3.471), 3.49);
        assert_eq!(shelf_price(3.50), 3.59);
        assert_eq!(shelf_price(0.10), 0.49);
    }

    #[test]
    fn poisson_draws_have_the_requested_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for lambda in [3.0, 50.0] {
            let n = 20_000;
            let sum: i64 = (0..n).map(|_| poisson(&mut rng, lambda)).sum();
            let mean = sum as f64 / n as f64;
            assert!(
                (mean - lambda).abs() < lambda * 0.03,
                "mean {mean} for {lambda}"
            );
        }
    }
}
