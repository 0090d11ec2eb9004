#!/usr/bin/env bash
# Installs the Debian packages (scripts/setup.sh), then configures and builds bmru-cosim in ./build
# (Release). BMRU_WERROR=ON turns warnings into errors (CI sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBMRU_WERROR="${BMRU_WERROR:-OFF}" >/dev/null
cmake --build build -j "$(nproc)"
