//! Architecture invariants (ARCHITECTURE.md), checked on the source text.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source tree").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("utf-8 source");
            (name, text)
        })
        .collect()
}

#[test]
fn only_the_web_module_knows_the_browser() {
    for (name, text) in sources() {
        if name == "web.rs" {
            continue;
        }
        for word in ["wasm_bindgen", "js_sys", "web_sys", "plotters_canvas", "serde_wasm_bindgen"] {
            assert!(!text.contains(word), "src/{name} names `{word}`: only src/web.rs may");
        }
    }
}

#[test]
fn the_core_has_no_clock_no_io_and_no_hidden_randomness() {
    for (name, text) in sources() {
        if name == "main.rs" || name == "web.rs" {
            continue;
        }
        for word in [
            "SystemTime",
            "Instant::now",
            "OffsetDateTime::now",
            "std::fs",
            "File::open",
            "std::env",
            "thread_rng",
            "rand::rng()",
            "from_entropy",
            "from_os_rng",
            "StdRng",
            "getrandom",
            "println!",
        ] {
            assert!(
                !text.contains(word),
                "src/{name} uses `{word}`: the core takes time, files and seeds from its callers"
            );
        }
    }
}

#[test]
fn every_source_file_says_what_it_is_for() {
    for (name, text) in sources() {
        assert!(text.trim_start().starts_with("//!"), "src/{name} opens without a //! comment");
    }
}

#[test]
fn the_engine_runs_a_twin_and_knows_nothing_of_fitting() {
    for (name, text) in sources() {
        let engine = name.starts_with("sim/") || name == "twin.rs";
        let models = name.starts_with("model/");
        for word in ["crate::model", "crate::history", "crate::import", "crate::backtest", "crate::report"] {
            assert!(!engine || !text.contains(word), "src/{name} names `{word}`: the engine takes only the twin");
        }
        for word in ["crate::sim", "crate::backtest", "crate::report"] {
            assert!(!models || !text.contains(word), "src/{name} names `{word}`: the models do not simulate or report");
        }
    }
}
