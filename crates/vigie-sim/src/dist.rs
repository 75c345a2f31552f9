//! Sampling times to compromise and the keyed random streams of `vigie exercise`.
//!
//! # Distributions
//!
//! A [`vigie_model::Ttc`] is given by its mean `m` (hours) and coefficient of variation
//! `c` (standard deviation / mean). [`TtcSampler`] maps it to textbook parameters:
//!
//! | `dist`        | sampled as                                                        |
//! |---------------|-------------------------------------------------------------------|
//! | `exponential` | rate 1/m: m × a standard exponential (c is 1 by definition)       |
//! | `gamma`       | shape k = 1/c², scale θ = m·c² (so kθ = m and √k·θ = c·m)         |
//! | `lognormal`   | σ² = ln(1 + c²), μ = ln(m) − σ²/2 (so e^(μ+σ²/2) = m)             |
//! | `fixed`       | always m                                                          |
//!
//! A gamma or log-normal with c = 0 is the fixed time m; a mean of 0 is always 0; an
//! infinite mean never succeeds. `p_success` is a Bernoulli drawn first, from its own
//! uniform: with probability 1 − p_success the step is impossible in that sample.
//!
//! # Random streams
//!
//! Every number of a step in sample `i` of seed `s` comes from a [`StepRng`]: SplitMix64
//! (Steele, Lea, Flood 2014) started at `splitmix64(base ^ key)`, with
//! `base = splitmix64(splitmix64(s) ^ i)` ([`sample_base`], [`step_rng`]) and `key` the
//! step's stable key ([`step_key`]: SHA-256 of its source id, target id, technique,
//! derivation rule and occurrence, done once when the exercise is compiled). Draw `j` of a
//! stream is the SplitMix64 finaliser of its start plus (j + 1)·φ: a step costs one mix to
//! start and one per number drawn. So a step's numbers depend neither on the order in
//! which steps are visited nor on the thread that runs the sample, and two models that
//! differ by one change give the same numbers to every step they share (common random
//! numbers). The attack time and the detection of a step use two distinct streams (keys
//! `key` and `key ^` [`DETECTION_SALT`]), so changing a step's detection leaves its time
//! unchanged and vice versa.

use rand::{Rng, RngCore};
use rand_distr::{Distribution, Exp1, Gamma, LogNormal};
use sha2::{Digest, Sha256};
use vigie_model::{Ttc, TtcDist};

use crate::error::SimError;

/// XORed into a step's key for the stream of its detection draws.
pub const DETECTION_SALT: u64 = 0xD37E_C710_5A17_0001;

/// One step of SplitMix64 (Steele, Lea, Flood 2014): a bijective, well-mixing finaliser.
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    mix(x.wrapping_add(GOLDEN))
}

/// SplitMix64's finaliser (Stafford's variant 13).
#[inline(always)]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The per-sample part of every step seed: sample `i` of seed `seed`.
pub fn sample_base(seed: u64, i: u64) -> u64 {
    splitmix64(splitmix64(seed) ^ i)
}

/// SplitMix64's increment (φ · 2⁶⁴).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The random stream of one step in one sample: a SplitMix64 generator (see the module
/// docs). A few instructions to start and per number, where the Xoshiro256++ it replaces
/// cost five mixes to seed (a third of a demo sample's instructions).
#[derive(Debug, Clone)]
pub struct StepRng {
    state: u64,
}

impl StepRng {
    /// Pass over the next number without computing it (the stream's later numbers stay
    /// where they are).
    #[inline]
    pub fn skip(&mut self) {
        self.state = self.state.wrapping_add(GOLDEN);
    }
}

impl RngCore for StepRng {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for c in dest.chunks_mut(8) {
            let b = self.next_u64().to_le_bytes();
            c.copy_from_slice(&b[..c.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// The generator of one step in one sample (`base` from [`sample_base`]).
#[inline]
pub fn step_rng(base: u64, key: u64) -> StepRng {
    StepRng {
        state: splitmix64(base ^ key),
    }
}

/// The generator of step `key` in sample `i` of seed `seed`.
pub fn stream(seed: u64, i: u64, key: u64) -> StepRng {
    step_rng(sample_base(seed, i), key)
}

/// Stable key of a step: SHA-256 over its source id, target id, technique, rule name and
/// occurrence (the k-th step with those four in the model's derivation order, so parallel
/// steps between the same two assets get distinct numbers). Ids, not indexes, so that
/// inserting an asset elsewhere in a model changes no key.
pub fn step_key(from: &str, to: &str, technique: &str, rule: &str, occurrence: u32) -> u64 {
    let mut h = Sha256::new();
    for part in [from, to, technique, rule] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    h.update(occurrence.to_le_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Exponential(f64),
    Gamma(Gamma<f64>),
    Lognormal(LogNormal<f64>),
    Fixed(f64),
    Never,
}

/// A compiled [`Ttc`]: draws a time in hours, or `None` when the attempt fails.
#[derive(Debug, Clone, Copy)]
pub struct TtcSampler {
    shape: Shape,
    p_success: f64,
}

impl TtcSampler {
    /// Compile a distribution; a mean or cv that is negative or NaN, or a p_success
    /// outside [0, 1], is [`SimError::Invalid`] (validation reports these with positions
    /// first; this guards hand-built models).
    pub fn new(t: &Ttc) -> Result<TtcSampler, SimError> {
        let m = t.mean_hours;
        let c = t.cv();
        let p = t.p_success();
        if m.is_nan() || m < 0.0 || c.is_nan() || c < 0.0 || !c.is_finite() {
            return Err(SimError::Invalid(format!(
                "time to compromise with mean {m} h and cv {c}: both must be >= 0 and finite"
            )));
        }
        if !(0.0..=1.0).contains(&p) {
            return Err(SimError::Invalid(format!(
                "p_success {p} is not a probability"
            )));
        }
        let bad = |e: String| SimError::Invalid(format!("{:?} mean {m} cv {c}: {e}", t.dist));
        let shape = if m.is_infinite() {
            Shape::Never
        } else if m == 0.0 {
            Shape::Fixed(0.0)
        } else {
            match t.dist {
                TtcDist::Exponential => Shape::Exponential(m),
                TtcDist::Fixed => Shape::Fixed(m),
                TtcDist::Gamma | TtcDist::Lognormal if c == 0.0 => Shape::Fixed(m),
                TtcDist::Gamma => {
                    let k = 1.0 / (c * c);
                    Shape::Gamma(Gamma::new(k, m * c * c).map_err(|e| bad(e.to_string()))?)
                }
                TtcDist::Lognormal => {
                    let s2 = (1.0 + c * c).ln();
                    let mu = m.ln() - s2 / 2.0;
                    Shape::Lognormal(LogNormal::new(mu, s2.sqrt()).map_err(|e| bad(e.to_string()))?)
                }
            }
        };
        Ok(TtcSampler {
            shape,
            p_success: p,
        })
    }

    /// Whether the step can never succeed (p_success 0 or infinite mean): Dijkstra skips
    /// it without drawing.
    pub fn never(&self) -> bool {
        matches!(self.shape, Shape::Never) || self.p_success <= 0.0
    }

    /// Draw: first the `p_success` uniform (always the stream's first number, so a change
    /// of `p_success` leaves the time's numbers in place; passed over unread when
    /// `p_success` is 1), then the time.
    #[inline(always)]
    pub fn sample(&self, rng: &mut StepRng) -> Option<f64> {
        if self.p_success >= 1.0 {
            rng.skip();
        } else if rng.gen::<f64>() >= self.p_success {
            return None;
        }
        match self.shape {
            // Ziggurat (no logarithm on most draws); a multiple of one standard draw, so a
            // step slowed by a factor keeps its rank among samples (common random numbers).
            Shape::Exponential(m) => Some(m * Distribution::<f64>::sample(&Exp1, rng)),
            Shape::Fixed(m) => Some(m),
            Shape::Never => None,
            _ => self.sample_rare(rng),
        }
    }

    /// The shapes the demo's derivation rarely uses, out of the hot loop.
    #[cold]
    #[inline(never)]
    fn sample_rare(&self, rng: &mut StepRng) -> Option<f64> {
        match self.shape {
            Shape::Gamma(g) => Some(g.sample(rng)),
            Shape::Lognormal(l) => Some(l.sample(rng)),
            Shape::Exponential(_) | Shape::Fixed(_) | Shape::Never => None,
        }
    }
}

/// Wilson score interval at 95 % of `k` successes out of `n` (n = 0: the whole [0, 1]).
pub fn wilson95(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = Z95;
    let n = n as f64;
    let p = k as f64 / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The standard normal quantile at 0.975.
pub const Z95: f64 = 1.959_963_984_540_054;

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(t: Ttc, n: u64) -> (f64, f64, u64) {
        let s = TtcSampler::new(&t).unwrap();
        let (mut sum, mut sq, mut ok) = (0.0, 0.0, 0u64);
        for i in 0..n {
            if let Some(x) = s.sample(&mut stream(7, i, 42)) {
                sum += x;
                sq += x * x;
                ok += 1;
            }
        }
        let mean = sum / ok as f64;
        let var = sq / ok as f64 - mean * mean;
        (mean, var.sqrt() / mean, ok)
    }

    fn ttc(dist: TtcDist, mean: f64, cv: f64) -> Ttc {
        Ttc {
            dist,
            mean_hours: mean,
            cv: Some(cv),
            p_success: None,
        }
    }

    #[test]
    fn exponential_mean_and_cv() {
        let (m, c, _) = moments(Ttc::exponential(10.0), 40_000);
        assert!((m - 10.0).abs() < 0.2, "mean {m}");
        assert!((c - 1.0).abs() < 0.03, "cv {c}");
    }

    #[test]
    fn gamma_mean_and_cv() {
        let (m, c, _) = moments(ttc(TtcDist::Gamma, 5.0, 0.5), 40_000);
        assert!((m - 5.0).abs() < 0.05, "mean {m}");
        assert!((c - 0.5).abs() < 0.015, "cv {c}");
    }

    #[test]
    fn lognormal_mean_and_cv() {
        let (m, c, _) = moments(ttc(TtcDist::Lognormal, 3.0, 0.4), 40_000);
        assert!((m - 3.0).abs() < 0.03, "mean {m}");
        assert!((c - 0.4).abs() < 0.02, "cv {c}");
    }

    #[test]
    fn fixed_and_degenerate() {
        let mut r = stream(0, 0, 0);
        let f = TtcSampler::new(&ttc(TtcDist::Fixed, 2.5, 0.0)).unwrap();
        assert_eq!(f.sample(&mut r), Some(2.5));
        let g0 = TtcSampler::new(&ttc(TtcDist::Gamma, 4.0, 0.0)).unwrap();
        assert_eq!(g0.sample(&mut r), Some(4.0));
        let zero = TtcSampler::new(&Ttc::exponential(0.0)).unwrap();
        assert_eq!(zero.sample(&mut r), Some(0.0));
        let never = TtcSampler::new(&Ttc::exponential(f64::INFINITY)).unwrap();
        assert!(never.never());
        assert_eq!(never.sample(&mut r), None);
        assert!(TtcSampler::new(&Ttc::exponential(-1.0)).is_err());
        assert!(TtcSampler::new(&ttc(TtcDist::Gamma, 1.0, f64::NAN)).is_err());
    }

    #[test]
    fn p_success_is_bernoulli() {
        let t = Ttc {
            p_success: Some(0.3),
            ..Ttc::exponential(1.0)
        };
        let (_, _, ok) = moments(t, 40_000);
        let p = ok as f64 / 40_000.0;
        // 3 standard errors of a proportion at 0.3 over 40,000 draws is 0.0069.
        assert!((p - 0.3).abs() < 0.007, "p {p}");
    }

    /// The stream is SplitMix64 from its start: reference values of Vigna's splitmix64.c
    /// seeded with 1234567 (its first outputs), and a skipped number is the one drawn.
    #[test]
    fn step_stream_is_splitmix64() {
        let mut r = StepRng { state: 1_234_567 };
        let want = [
            6_457_827_717_110_365_317u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for w in want {
            assert_eq!(r.next_u64(), w);
        }
        let (mut a, mut b) = (stream(3, 4, 5), stream(3, 4, 5));
        a.skip();
        let _ = b.next_u64();
        assert_eq!(a.next_u64(), b.next_u64());
        let mut bytes = [0u8; 11];
        let mut c = stream(3, 4, 5);
        c.fill_bytes(&mut bytes);
        assert_eq!(bytes[..8], stream(3, 4, 5).next_u64().to_le_bytes());
    }

    #[test]
    fn streams_are_keyed_not_ordered() {
        let a: u64 = stream(1, 2, 3).gen();
        let _ = stream(1, 2, 4).gen::<u64>();
        assert_eq!(a, stream(1, 2, 3).gen::<u64>());
        assert_ne!(a, stream(1, 3, 3).gen::<u64>());
        assert_ne!(a, stream(2, 2, 3).gen::<u64>());
        assert_ne!(
            step_key("a", "b", "T1", "exploit", 0),
            step_key("a", "b", "T1", "exploit", 1)
        );
        assert_ne!(
            step_key("ab", "", "T1", "x", 0),
            step_key("a", "b", "T1", "x", 0)
        );
    }

    #[test]
    fn wilson_bounds() {
        let (l, h) = wilson95(50, 100);
        assert!(
            (l - 0.4038).abs() < 1e-3 && (h - 0.5962).abs() < 1e-3,
            "{l} {h}"
        );
        assert_eq!(wilson95(0, 0), (0.0, 1.0));
        let (l, h) = wilson95(0, 10);
        assert_eq!(l, 0.0);
        assert!(h > 0.25 && h < 0.3);
    }
}
