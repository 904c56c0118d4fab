#!/usr/bin/env bash
# Installs what the tests need, then runs every test: formatting and lints (native and wasm32), the
# native tests, the WebAssembly tests in headless Chromium, and the end-to-end browser tests.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_build_tools
# Debian's Chromium and its WebDriver, for the wasm tests and the end-to-end tests.
apt_install chromium chromium-driver
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
if [ ! -x node_modules/.bin/playwright-core ] && [ ! -d node_modules/playwright-core ]; then
  say "installing the npm dev tools (package-lock.json)"
  npm ci --no-audit --no-fund --loglevel=error
fi

say "formatting"
cargo fmt --check

say "clippy, native"
cargo clippy -q --all-targets -- -D warnings
say "clippy, wasm32"
cargo clippy -q --lib --tests --target wasm32-unknown-unknown --no-default-features -- -D warnings

say "native tests"
cargo test -q 2>&1 | tee "$TARGET_DIR/native-tests.log"

say "WebAssembly tests in headless Chromium"
# Not `cargo test -q`: cargo would pass --quiet on to wasm-bindgen-test-runner, which refuses it.
if ! CHROMEDRIVER="$(command -v chromedriver)" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --no-default-features --test web >"$TARGET_DIR/wasm-tests.log" 2>&1; then
  cat "$TARGET_DIR/wasm-tests.log"
  echo "the WebAssembly tests failed" >&2
  exit 1
fi
grep -E '^(test |running |test result)' "$TARGET_DIR/wasm-tests.log"

say "end-to-end tests in headless Chromium"
build_wasm
cargo build -q
node --test tests/e2e/ 2>&1 | tee "$TARGET_DIR/e2e-tests.log"

# One closing line over all three runners.
passed=$(( $(grep -ohE '[0-9]+ passed' "$TARGET_DIR/native-tests.log" "$TARGET_DIR/wasm-tests.log" | awk '{s+=$1} END {print s+0}') \
  + $(sed -nE 's/^# pass ([0-9]+)/\1/p' "$TARGET_DIR/e2e-tests.log" | tail -1) ))
echo
echo "all: $passed passed, 0 failed"
