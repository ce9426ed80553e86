// AdsOptions: the `ads` section of the configuration (configs/lumen.json documents each key).
#pragma once

#include <cstdint>
#include <string>

#include "ads/money.h"
#include "ads/sqlite_store.h"
#include "core/config.h"
#include "core/status.h"

namespace lumen::ads {

struct AdsOptions {
  bool enabled = true;
  std::string db_path;  // <data_dir>/ads.db
  int slots = 1;
  std::string label = "Sponsored";
  Micros reserve_cpm_micros = 100'000;
  std::int64_t quality_threshold_ppm = 500'000;
  std::int64_t frequency_cap_user_per_day = 10;  // per campaign; 0 = no cap
  std::int64_t frequency_cap_session = 3;        // per campaign; 0 = no cap
  std::int64_t token_ttl_s = 900;
  std::int64_t click_ttl_s = 86'400;
  std::int64_t max_beacons_per_client_per_minute = 120;  // 0 = no limit
  std::string secret_key_file;                           // "" = <data_dir>/ads.key
  std::string secret_key_env;  // name of an environment variable holding the key in hex
  Durability durability = Durability::kFull;
  int max_batch = 4096;
  std::uint64_t seed = 0;
  std::string bot_user_agents_file;  // "" = the built-in configs/bot_user_agents.txt

  // Reads and range-checks ads.* and data_dir; errors name the key and where its value came from.
  static Result<AdsOptions> FromConfig(const Config& config);
};

}  // namespace lumen::ads
