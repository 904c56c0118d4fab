# Shared by scripts/serve.sh and scripts/test.sh: installs what is missing, then builds the
# WebAssembly module with the settings in wasm-pack.toml. Every step checks first and does nothing
# when its tool is already there, so a second run is fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Cargo's output folder: CARGO_TARGET_DIR when set (relative to the repository), else target/.
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
mkdir -p "$TARGET_DIR"

say() { printf '\n==> %s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, else through sudo (saying so).
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    say "using sudo for: $*"
    sudo "$@"
  else
    echo "subtwin: need root (or sudo) to run: $*" >&2
    exit 2
  fi
}

# Installs the Debian packages that are not installed yet.
apt_install() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages with apt-get (as root): ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Prints a value of wasm-pack.toml: `toml_get SECTION KEY` (lists come out space-separated).
toml_get() {
  python3 - "$ROOT/wasm-pack.toml" "$1" "$2" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    value = tomllib.load(f)[sys.argv[2]][sys.argv[3]]
print(" ".join(value) if isinstance(value, list) else value)
PY
}

ensure_base_tools() {
  command -v python3 >/dev/null 2>&1 || apt_install python3
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  if ! command -v cargo >/dev/null 2>&1; then
    echo "subtwin: Rust is not installed. Install it with rustup (https://rustup.rs), then run this again." >&2
    exit 2
  fi
}

ensure_wasm_target() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown && return 0
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
}

# The wasm-bindgen version Cargo.lock records: the CLI must be exactly that version.
wasm_bindgen_version() {
  awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_bindgen() {
  local version
  version="$(wasm_bindgen_version)"
  if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then return 0; fi
  say "installing wasm-bindgen-cli $version (about two minutes, once)"
  # No --locked: the CLI's own lock file pins a crate version the registry no longer has.
  cargo install -q wasm-bindgen-cli --version "$version"
}

ensure_wasm_opt() {
  local package version dir
  package="$(toml_get wasm-opt npm_package)"
  version="$(toml_get wasm-opt version)"
  # Beside the build, in Cargo's output folder, so that a separate CARGO_TARGET_DIR gets its own copy.
  dir="$(cd "$TARGET_DIR" && pwd)/tools/$package-$version"
  WASM_OPT="$dir/node_modules/.bin/wasm-opt"
  [ -x "$WASM_OPT" ] && return 0
  say "installing wasm-opt from the npm package $package@$version"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "$package@$version" >/dev/null
}

ensure_build_tools() {
  ensure_base_tools
  ensure_wasm_target
  ensure_wasm_bindgen
  ensure_wasm_opt
}

# Builds the optimised module and its JavaScript glue into the output folder of wasm-pack.toml.
build_wasm() {
  local profile target out_dir flags
  profile="$(toml_get build profile)"
  target="$(toml_get build target)"
  out_dir="$(toml_get build out_dir)"
  read -r -a flags <<<"$(toml_get wasm-opt flags)"
  say "building the WebAssembly module (profile $profile)"
  cargo build -q --lib --target wasm32-unknown-unknown --no-default-features --profile "$profile"
  wasm-bindgen --target "$target" --no-typescript --out-dir "$out_dir" \
    "$TARGET_DIR/wasm32-unknown-unknown/$profile/subtwin.wasm"
  "$WASM_OPT" "${flags[@]}" "$out_dir/subtwin_bg.wasm" -o "$out_dir/subtwin_bg.wasm"
  say "built $out_dir/subtwin_bg.wasm ($(wc -c <"$out_dir/subtwin_bg.wasm") bytes)"
}
