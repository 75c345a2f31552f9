//! (placeholder of h-detect's documented API, replaced by h-detect's module on merge)

use vigie_model::Ttc;

/// A step's detection.
#[derive(Debug, Clone, PartialEq)]
pub struct StepDetection {
    pub p: f64,
    pub delay: Ttc,
    pub detectors: Vec<(u32, f64)>,
}

/// The detection model.
#[derive(Debug, Clone, Default)]
pub struct DetectionModel {
    pub steps: Vec<((usize, String), StepDetection)>,
}

impl DetectionModel {
    pub fn step(&self, asset_index: usize, technique: &str) -> StepDetection {
        self.steps
            .iter()
            .find(|s| s.0 .0 == asset_index && s.0 .1 == technique)
            .map(|s| s.1.clone())
            .unwrap_or(StepDetection {
                p: 0.0,
                delay: Ttc::exponential(1.0),
                detectors: Vec::new(),
            })
    }
}
