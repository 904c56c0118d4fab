//! The native integration tests: the single integration-test binary of the crate.
//!
//! Every test reads a small export written by hand in `tests/fixtures/` (Stripe's; in `formats`, also
//! Chargebee's, Recurly's and Baremetrics') or a generated demo export, and checks the history against
//! numbers worked out by hand from the conventions in README.md and the module docs of `history`,
//! `import` and `report`.
//! The hand computations sit in comments next to the expected numbers; none of them was copied from
//! the program's output.
//!
//! The tests call the library (`subtwin::history_of_export`) and the built command
//! (`subtwin history FILE ...`). Modules live under `tests/cli/`, one per area; add new areas there.
#![cfg(not(target_arch = "wasm32"))]

#[path = "cli/support.rs"]
mod support;

#[path = "cli/architecture.rs"]
mod architecture;
#[path = "cli/calibrate.rs"]
mod calibrate;
#[path = "cli/charges.rs"]
mod charges;
#[path = "cli/command.rs"]
mod command;
#[path = "cli/export.rs"]
mod export;
#[path = "cli/fit.rs"]
mod fit;
#[path = "cli/formats.rs"]
mod formats;
#[path = "cli/golden.rs"]
mod golden;
#[path = "cli/history.rs"]
mod history;
#[path = "cli/mapped.rs"]
mod mapped;
#[path = "cli/mess.rs"]
mod mess;
#[path = "cli/money.rs"]
mod money;
#[path = "cli/multi.rs"]
mod multi;
#[path = "cli/problems.rs"]
mod problems;
#[path = "cli/reconcile.rs"]
mod reconcile;
#[path = "cli/robustness.rs"]
mod robustness;
#[path = "cli/share.rs"]
mod share;
#[path = "cli/simulate.rs"]
mod simulate;
#[path = "cli/tables.rs"]
mod tables;
