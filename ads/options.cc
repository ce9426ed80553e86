#include "ads/options.h"

#include <cmath>
#include <limits>

namespace lumen::ads {
namespace {

Result<std::int64_t> IntIn(const Config& c, const char* key, std::int64_t lo, std::int64_t hi) {
  const std::int64_t v = c.GetInt(key);
  if (v < lo || v > hi) {
    return c.ValueError(key, "must be " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return v;
}

}  // namespace

Result<AdsOptions> AdsOptions::FromConfig(const Config& c) {
  AdsOptions o;
  const std::string data_dir = Config::ExpandHome(c.GetString("data_dir"));
  o.enabled = c.GetBool("ads.enabled");
  o.db_path = data_dir + "/ads.db";
  LUMEN_ASSIGN_OR_RETURN(const std::int64_t slots, IntIn(c, "ads.slots", 0, 10));
  o.slots = static_cast<int>(slots);
  o.label = c.GetString("ads.label");
  if (o.label.empty() || o.label.size() > 40) {
    return c.ValueError("ads.label", "must be 1..40 characters (slots are always labelled)");
  }
  LUMEN_ASSIGN_OR_RETURN(o.reserve_cpm_micros,
                         IntIn(c, "ads.reserve_cpm_micros", 0, kMaxCpmMicros));
  const double q = c.GetDouble("ads.quality_threshold");
  if (!(q >= 0.0 && q <= 1.0)) return c.ValueError("ads.quality_threshold", "must be 0..1");
  o.quality_threshold_ppm = std::llround(q * 1e6);
  LUMEN_ASSIGN_OR_RETURN(o.frequency_cap_user_per_day,
                         IntIn(c, "ads.frequency_cap_user_per_day", 0, 1'000'000));
  LUMEN_ASSIGN_OR_RETURN(o.frequency_cap_session,
                         IntIn(c, "ads.frequency_cap_session", 0, 1'000'000));
  LUMEN_ASSIGN_OR_RETURN(o.token_ttl_s, IntIn(c, "ads.token_ttl_s", 1, 7 * 86'400));
  LUMEN_ASSIGN_OR_RETURN(o.click_ttl_s, IntIn(c, "ads.click_ttl_s", 1, 30 * 86'400));
  LUMEN_ASSIGN_OR_RETURN(o.max_beacons_per_client_per_minute,
                         IntIn(c, "ads.max_beacons_per_client_per_minute", 0, 1'000'000));
  o.secret_key_file = Config::ExpandHome(c.GetString("ads.secret_key_file"));
  if (o.secret_key_file.empty()) o.secret_key_file = data_dir + "/ads.key";
  o.secret_key_env = c.GetString("ads.secret_key_env");
  Result<Durability> d = ParseDurability(c.GetString("ads.durability"));
  if (!d.ok()) return c.ValueError("ads.durability", "must be \"full\" or \"normal\"");
  o.durability = *d;
  LUMEN_ASSIGN_OR_RETURN(const std::int64_t batch, IntIn(c, "ads.max_batch", 1, 65'536));
  o.max_batch = static_cast<int>(batch);
  LUMEN_ASSIGN_OR_RETURN(const std::int64_t seed,
                         IntIn(c, "ads.seed", 0, std::numeric_limits<std::int64_t>::max()));
  o.seed = static_cast<std::uint64_t>(seed);
  o.bot_user_agents_file = Config::ExpandHome(c.GetString("ads.bot_user_agents_file"));
  return o;
}

}  // namespace lumen::ads
