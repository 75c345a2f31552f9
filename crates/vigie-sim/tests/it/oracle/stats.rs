//! Statistics for the oracles: a one-sample Kolmogorov-Smirnov test against an exact CDF,
//! a mean within 3 standard errors, Wilson intervals, and the CDFs the closed forms need
//! (exponential, Erlang, gamma, log-normal).
//!
//! Every check returns a value that says whether it passes and prints every figure, so an
//! oracle can both assert that the engine agrees with the closed form and assert that the
//! same samples *reject* a deliberately wrong closed form (the test has power: it would
//! fail on a wrong engine, not only pass on a right one).

use std::fmt;

/// 99 % critical value of the Kolmogorov distribution: reject when √n·D > 1.628
/// (asymptotic; the exact value at n = 100,000 differs in the fourth digit).
pub const KS_99: f64 = 1.628;

/// How many standard errors a mean may stray from its closed form (a 0.27 % two-sided
/// false alarm rate per check for a normal estimator; runs are seeded, so a passing check
/// passes every time).
pub const SE_TOLERANCE: f64 = 3.0;

/// The 97.5 % normal quantile: Wilson 95 % intervals.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A one-sample Kolmogorov-Smirnov test.
#[derive(Debug, Clone)]
pub struct Ks {
    pub what: String,
    pub n: usize,
    /// sup |F_n(t) − F(t)|.
    pub d: f64,
    /// Where the supremum is reached.
    pub at: f64,
    /// The 99 % critical value of D for this n.
    pub critical: f64,
}

impl Ks {
    pub fn passes(&self) -> bool {
        self.n > 0 && self.d <= self.critical
    }
}

impl fmt::Display for Ks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "KS {}: n = {}, D = {:.5} at t = {:.4} (99 % critical {:.5}) -> {}",
            self.what,
            self.n,
            self.d,
            self.at,
            self.critical,
            if self.passes() { "agrees" } else { "rejected" }
        )
    }
}

/// KS statistic of `xs` against `cdf`. Every sample must be finite (a sample that never
/// reaches is filtered out by the caller, who checks the reach probability separately).
pub fn ks(what: &str, xs: &[f64], cdf: impl Fn(f64) -> f64) -> Ks {
    let mut s: Vec<f64> = xs.to_vec();
    assert!(
        s.iter().all(|x| x.is_finite()),
        "KS {what}: non-finite sample"
    );
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let (mut d, mut at) = (0.0f64, f64::NAN);
    for (i, &x) in s.iter().enumerate() {
        let f = cdf(x);
        // The empirical CDF jumps from i/n to (i+1)/n at x: both sides count.
        let lo = (f - i as f64 / n as f64).abs();
        let hi = ((i + 1) as f64 / n as f64 - f).abs();
        if lo.max(hi) > d {
            d = lo.max(hi);
            at = x;
        }
    }
    Ks {
        what: what.to_string(),
        n,
        d,
        at,
        critical: KS_99 / (n as f64).sqrt(),
    }
}

/// A sample mean against its closed form.
#[derive(Debug, Clone)]
pub struct MeanCheck {
    pub what: String,
    pub n: usize,
    pub mean: f64,
    pub se: f64,
    pub expected: f64,
}

impl MeanCheck {
    /// Distance from the closed form, in standard errors.
    pub fn z(&self) -> f64 {
        if self.se == 0.0 {
            if self.mean == self.expected {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            (self.mean - self.expected) / self.se
        }
    }

    pub fn passes(&self) -> bool {
        self.n > 1 && self.z().abs() <= SE_TOLERANCE
    }
}

impl fmt::Display for MeanCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mean {}: n = {}, {:.6} ± {:.6} (1 SE), closed form {:.6}, z = {:+.2} -> {}",
            self.what,
            self.n,
            self.mean,
            self.se,
            self.expected,
            self.z(),
            if self.passes() { "agrees" } else { "rejected" }
        )
    }
}

/// Mean and standard deviation (n − 1 denominator), in two passes for accuracy.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, (ss / (n - 1.0)).sqrt())
}

/// The sample mean of `xs` against `expected`, standard error sd/√n from the samples.
pub fn mean(what: &str, xs: &[f64], expected: f64) -> MeanCheck {
    let (m, sd) = mean_sd(xs);
    MeanCheck {
        what: what.to_string(),
        n: xs.len(),
        mean: m,
        se: sd / (xs.len() as f64).sqrt(),
        expected,
    }
}

/// A proportion against its closed form: standard error √(p(1−p)/n) under the closed
/// form (the test's null hypothesis), with the Wilson 95 % interval for the report.
#[derive(Debug, Clone)]
pub struct ProportionCheck {
    pub what: String,
    pub k: u64,
    pub n: u64,
    pub expected: f64,
}

impl ProportionCheck {
    pub fn estimate(&self) -> f64 {
        self.k as f64 / self.n as f64
    }

    pub fn se(&self) -> f64 {
        (self.expected * (1.0 - self.expected) / self.n as f64).sqrt()
    }

    pub fn z(&self) -> f64 {
        let se = self.se();
        if se == 0.0 {
            if self.estimate() == self.expected {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            (self.estimate() - self.expected) / se
        }
    }

    pub fn passes(&self) -> bool {
        self.n > 0 && self.z().abs() <= SE_TOLERANCE
    }
}

impl fmt::Display for ProportionCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lo, hi) = wilson(self.k, self.n, Z95);
        write!(
            f,
            "P({}): {}/{} = {:.5} (Wilson 95 % [{:.5}, {:.5}]), closed form {:.5}, z = {:+.2} -> {}",
            self.what,
            self.k,
            self.n,
            self.estimate(),
            lo,
            hi,
            self.expected,
            self.z(),
            if self.passes() { "agrees" } else { "rejected" }
        )
    }
}

pub fn proportion(what: &str, k: u64, n: u64, expected: f64) -> ProportionCheck {
    ProportionCheck {
        what: what.to_string(),
        k,
        n,
        expected,
    }
}

/// Wilson score interval of k successes in n trials at normal quantile z.
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let p = k as f64 / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// CDF of the exponential distribution of rate `rate`.
pub fn exp_cdf(rate: f64, t: f64) -> f64 {
    if t <= 0.0 {
        0.0
    } else {
        1.0 - (-rate * t).exp()
    }
}

/// CDF of Erlang(k, rate): the sum of k independent exponentials of rate `rate`,
/// 1 − Σ_{j<k} e^{−λt} (λt)^j / j!.
pub fn erlang_cdf(k: u32, rate: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    let x = rate * t;
    let mut term = (-x).exp();
    let mut tail = 0.0;
    for j in 0..k {
        if j > 0 {
            term *= x / j as f64;
        }
        tail += term;
    }
    (1.0 - tail).clamp(0.0, 1.0)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: ~1e-15 relative).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularised lower incomplete gamma P(a, x): the series for x < a + 1, else the
/// continued fraction of Q (Numerical Recipes §6.2, to 1e-14).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let lead = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let (mut ap, mut sum, mut del) = (a, 1.0 / a, 1.0 / a);
        for _ in 0..10_000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (sum * lead.exp()).clamp(0.0, 1.0)
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (1.0 - lead.exp() * h).clamp(0.0, 1.0)
    }
}

/// CDF of the gamma distribution with this shape and scale.
pub fn gamma_cdf(shape: f64, scale: f64, t: f64) -> f64 {
    gamma_p(shape, t / scale)
}

/// Complementary error function (Numerical Recipes `erfcc`, |error| < 1.2e-7 everywhere:
/// far below the 5e-3 a KS test at n = 100,000 resolves).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// CDF of the log-normal whose logarithm is N(mu, sigma²).
pub fn lognormal_cdf(mu: f64, sigma: f64, t: f64) -> f64 {
    if t <= 0.0 {
        0.0
    } else {
        normal_cdf((t.ln() - mu) / sigma)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn exp_samples(rate: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| -(1.0 - rng.gen::<f64>()).ln() / rate)
            .collect()
    }

    #[test]
    fn ks_accepts_the_true_cdf_and_rejects_a_wrong_rate() {
        let xs = exp_samples(2.0, 100_000, 1);
        let right = ks("exp(2)", &xs, |t| exp_cdf(2.0, t));
        assert!(right.passes(), "{right}");
        let wrong = ks("exp(2.1)", &xs, |t| exp_cdf(2.1, t));
        assert!(!wrong.passes(), "{wrong}");
    }

    #[test]
    fn ks_of_a_known_sample_by_hand() {
        // Uniform CDF on [0, 1]; samples 0.1, 0.5, 0.9: the ECDF steps 1/3, 2/3, 1.
        // |F − ECDF| over both sides of each step: max is at 0.5 (0.5 − 1/3 = 1/6)
        // and at 0.9 (0.9 − 2/3 = 0.2333): D = 0.2333.
        let k = ks("uniform", &[0.9, 0.1, 0.5], |t| t.clamp(0.0, 1.0));
        assert!((k.d - (0.9 - 2.0 / 3.0)).abs() < 1e-12, "{k}");
        assert_eq!(k.at, 0.9);
        assert!((k.critical - KS_99 / 3f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn ks_false_alarm_rate_is_about_one_percent() {
        // 400 runs of n = 500 exponential samples: the 99 % test rejects ~4 of them
        // (binomial sd 2); more than 14 would mean the critical value is wrong.
        let rejected = (0..400)
            .filter(|&s| {
                !ks("exp(1)", &exp_samples(1.0, 500, 1000 + s), |t| {
                    exp_cdf(1.0, t)
                })
                .passes()
            })
            .count();
        assert!(rejected <= 14, "{rejected} of 400 rejected");
    }

    #[test]
    fn mean_within_three_standard_errors() {
        let xs = exp_samples(0.5, 100_000, 2);
        let right = mean("exp(0.5)", &xs, 2.0);
        assert!(right.passes(), "{right}");
        // The SE of the mean is 2/√n = 0.0063: a mean 1 % off is 3.2 SE away.
        let wrong = mean("exp(0.5)", &xs, 2.04);
        assert!(!wrong.passes(), "{wrong}");
        let exact = mean("constant", &[3.0; 10], 3.0);
        assert!(exact.passes() && exact.z() == 0.0, "{exact}");
        assert!(!mean("constant", &[3.0; 10], 3.0001).passes());
    }

    #[test]
    fn proportion_and_wilson() {
        let p = proportion("coin", 50_300, 100_000, 0.5);
        assert!(p.passes(), "{p}"); // z = 1.9
        assert!(!proportion("coin", 50_500, 100_000, 0.5).passes()); // z = 3.2
                                                                     // Wilson (1927) for 0 of 10 at 95 %: [0, 0.2775]; 5 of 10: [0.2366, 0.7634].
        let (lo, hi) = wilson(0, 10, Z95);
        assert!(lo == 0.0 && (hi - 0.277_533).abs() < 1e-5, "{lo} {hi}");
        let (lo, hi) = wilson(5, 10, Z95);
        assert!((lo - 0.236_593).abs() < 1e-5 && (hi - 0.763_407).abs() < 1e-5);
    }

    #[test]
    fn cdfs_match_known_values() {
        // Erlang(1) is the exponential; Erlang(3, 1) at 2: 1 − e^{−2}(1 + 2 + 2) = 0.323324.
        assert!((erlang_cdf(1, 2.0, 0.7) - exp_cdf(2.0, 0.7)).abs() < 1e-15);
        assert!((erlang_cdf(3, 1.0, 2.0) - 0.323_323_583_816_936_5).abs() < 1e-12);
        // Gamma with integer shape is Erlang; gamma(0.5, 2) is chi-square(1):
        // P(χ²₁ ≤ 3.841459) = 0.95.
        for t in [0.01, 0.5, 2.0, 7.0, 30.0] {
            assert!(
                (gamma_cdf(3.0, 1.0, t) - erlang_cdf(3, 1.0, t)).abs() < 1e-12,
                "{t}"
            );
        }
        assert!((gamma_cdf(0.5, 2.0, 3.841_459) - 0.95).abs() < 1e-6);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
        // Normal quantiles.
        assert!((normal_cdf(Z95) - 0.975).abs() < 2e-7);
        assert!((normal_cdf(-1.0) - 0.158_655_253_9).abs() < 2e-7);
        assert!((lognormal_cdf(0.0, 1.0, 1.0) - 0.5).abs() < 2e-7);
    }
}
