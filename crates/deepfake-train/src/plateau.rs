//! `ReduceLROnPlateau` with PyTorch's semantics (mode `min`, relative threshold), driven by
//! the validation loss once per epoch.

use serde::{Deserialize, Serialize};

/// The scheduler and its state (saved with the `last/` checkpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceLrOnPlateau {
    /// Multiplier applied to the learning rate on a plateau.
    pub factor: f64,
    /// Epochs without improvement tolerated before reducing.
    pub patience: usize,
    /// Relative improvement needed to count as better: `metric < best * (1 - threshold)`.
    pub threshold: f64,
    /// Epochs to wait after a reduction before counting again.
    pub cooldown: usize,
    /// Lower bound of the learning rate.
    pub min_lr: f64,
    /// Smallest change of the learning rate that is applied (torch's `eps`).
    pub eps: f64,
    /// The current learning rate.
    pub lr: f64,
    /// Best metric so far.
    pub best: f64,
    /// Epochs since the best.
    pub num_bad_epochs: usize,
    /// Cooldown epochs left.
    pub cooldown_counter: usize,
}

impl ReduceLrOnPlateau {
    /// torch defaults with the given starting lr, factor and patience (threshold 1e-4,
    /// cooldown 0, min_lr 0, eps 1e-8).
    pub fn new(lr: f64, factor: f64, patience: usize) -> Self {
        Self {
            factor,
            patience,
            threshold: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
            lr,
            best: f64::INFINITY,
            num_bad_epochs: 0,
            cooldown_counter: 0,
        }
    }

    /// Feeds one epoch's metric (lower is better) and returns the learning rate to use next.
    pub fn step(&mut self, metric: f64) -> f64 {
        if metric < self.best * (1.0 - self.threshold) {
            self.best = metric;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            let new_lr = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new_lr > self.eps {
                self.lr = new_lr;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.lr
    }
}
