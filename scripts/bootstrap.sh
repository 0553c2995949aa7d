#!/usr/bin/env bash
# Installs exactly the Debian 12 packages that Assay's build, tests and benchmarks need.
# Idempotent: packages already present are not touched, and apt-get runs only when something
# is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-format git
  # libraries (see ARCHITECTURE.md section 11)
  libabsl-dev            # Status/StatusOr, flat_hash_map, strings
  nlohmann-json3-dev     # JSON
  libcli11-dev           # command-line parsing
  libsqlite3-dev         # metadata store
  libssl-dev             # SHA-256
  libsodium-dev          # Ed25519 workspace key
  libzstd-dev            # native table format compression
  libfast-float-dev      # float parsing in the CSV reader
  libsimdjson-dev        # UTF-8 validation in the CSV reader (JSON on the scoring path later)
  libyaml-cpp-dev        # flow.yaml
  libre2-dev             # regular expressions in recipes and quality rules (linear time)
  libutf8proc-dev        # Unicode case mapping, normalization and accent stripping
  libxgboost-dev         # gradient boosting, random forest and linear booster (C API)
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pandas python3-numpy # benchmark peer (pandas.read_csv)
  python3-sklearn python3-xgboost python3-scipy # ML peers (AutoML quality and overhead benches)
  time                   # /usr/bin/time for peak-memory figures in bench/
)

# `bootstrap.sh --fuzz` also installs what `make fuzz` needs (clang and its libFuzzer runtime).
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
