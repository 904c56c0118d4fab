//! The twin's statistics: models fitted to a rebuilt history, each with its uncertainty.
//!
//! Plain Rust on plain numbers: nothing here reads a file, a clock or the browser, and nothing here
//! simulates (the simulation engine takes a fitted twin as a value and never calls the fitting
//! code). Transcendental functions go through `libm`, so a fit gives the same bits natively and in
//! WebAssembly.
//!
//! - [`renewals`]: the history's paid spans as renewal counts on each segment's own clock.
//! - [`retention`]: the shifted-beta-geometric model and its companions (Kaplan-Meier, geometric,
//!   beta-discrete-Weibull, partial pooling).
//! - [`acquisition`]: arrivals per month (Poisson with trend and season) and trial conversion.
//! - [`price`]: the churn and acquisition response to a past price change, where there is one.
//! - [`calibrate`]: all of them fitted on what was known at one instant.
//! - [`build`]: a calibration as the [`crate::twin::Twin`] the simulation engine runs.

pub mod acquisition;
pub mod build;
pub mod calibrate;
pub(crate) mod optimise;
pub mod price;
pub mod renewals;
pub mod retention;
pub(crate) mod special;
