#!/usr/bin/env bash
# Copies the header-only dependencies the engine-only build needs into third_party_carry/
# (git-ignored), so that the copy of the tree sent to the bare GPU machine (which has no
# nlohmann-json3-dev) carries them. CMakeLists.txt uses third_party_carry/nlohmann when
# find_package(nlohmann_json) fails. Run here, before bench/gpu_check.sh goes to the GPU machine:
#
#   bash bench/gpu_carry.sh
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
echo "gpu_carry: third_party_carry/nlohmann ($(du -sh third_party_carry | cut -f1)) ready;" \
     "pass carry=[\"third_party_carry\"] to the device tool" >&2
