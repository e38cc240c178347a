//! Running mean and standard deviation (Welford's method).

#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Stats {
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    pub fn count(&self) -> u64 {
        self.n
    }

    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The sample standard deviation (0 for fewer than two values).
    pub fn sd(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).sqrt()
        }
    }

    /// `12.3 ± 0.4 s`, or `-` when empty.
    pub fn show(&self) -> String {
        if self.n == 0 {
            "-".to_owned()
        } else {
            format!("{:.1} ± {:.1} s", self.mean(), self.sd())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn mean_and_sample_sd() {
        let mut s = Stats::default();
        assert_eq!(s.show(), "-");
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            s.add(x);
        }
        assert_eq!(s.n, 8);
        assert!((s.mean() - 5.0).abs() < 1e-12);
        assert!((s.sd() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.show(), "5.0 ± 2.1 s");
    }
}
