#!/usr/bin/env bash
# Copies the header-only dependencies the engine-only build needs into third_party_carry/
# (git-ignored), so that the copy of the tree sent to the bare GPU machine (which has no
# nlohmann-json3-dev) carries them. CMakeLists.txt uses third_party_carry/nlohmann when
# find_package(nlohmann_json) fails. Run here, before bench/gpu_check.sh goes to the GPU machine:
#
#   bash bench/gpu_carry.sh
#   bash bench/gpu_carry.sh --prebuilt BUILD_DIR
#
# --prebuilt also copies the CUDA parity test and bench_cuda_engine from BUILD_DIR (an
# engine-only CUDA build made here), stripped, into third_party_carry/prebuilt/: gpu_check.sh
# runs them only when its own build there fails, and says so. They link only libc, libm,
# libstdc++ and libgcc_s (the CUDA runtime is static), so a newer system there runs them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=/usr/include/nlohmann
if [[ ! -f $src/json.hpp ]]; then
  echo "gpu_carry: $src/json.hpp not found (apt-get install nlohmann-json3-dev)" >&2
  exit 1
fi
rm -rf third_party_carry
mkdir -p third_party_carry
cp -r "$src" third_party_carry/nlohmann
if [[ ${1:-} == --prebuilt ]]; then
  b=${2:?--prebuilt needs a build directory}
  mkdir -p third_party_carry/prebuilt
  for f in tests/unit/llm/llm_cuda_parity_test bench/llm/bench_cuda_engine; do
    strip -o "third_party_carry/prebuilt/$(basename "$f")" "$b/$f"
  done
fi
echo "gpu_carry: third_party_carry/nlohmann ($(du -sh third_party_carry | cut -f1)) ready;" \
     "pass carry=[\"third_party_carry\"] to the device tool" >&2
