//! The twin's statistics: models fitted to a rebuilt history, each with its uncertainty.
//!
//! Plain Rust on plain numbers: nothing here reads a file, a clock or the browser, and nothing here
//! simulates (the simulation engine takes a fitted twin as a value and never calls the fitting
//! code). Transcendental functions go through `libm`, so a fit gives the same bits natively and in
//! WebAssembly.

pub mod retention;
