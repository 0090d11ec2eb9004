#!/usr/bin/env bash
# Installs every Debian package bmru-cosim needs. Idempotent: quiet and quick when all are present.
set -euo pipefail

packages=(
  build-essential g++ cmake pkg-config
  libngspice0-dev ngspice
  libhdf5-dev hdf5-tools
  libeigen3-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev
  libssl-dev python3-h5py python3-numpy python3-matplotlib locales
  libsndfile1-dev libsoxr-dev libfftw3-dev libespeak-ng-dev espeak-ng-data python3-scipy
  libzip-dev libtorch-dev openmpi-bin libopenmpi-dev
  clang-format
  time bc
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# One test proves that a comma-decimal locale changes nothing; it needs that locale generated.
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  $sudo localedef -i de_DE -f UTF-8 de_DE.UTF-8
fi
