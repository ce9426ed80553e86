// Durable billable impressions per second: how fast the AdServer turns impression beacons into
// committed ledger entries (billable entry + two postings + impression state + roll-ups,
// balances and spend), acknowledging each only after its transaction is committed at the chosen
// durability. Serving the impressions beforehand is not timed.
//
//   bench/ads/ads_beacon_bench [--impressions N] [--durability full|normal] [--threads T]
//                              [--inflight W] [--dir DIR]
//
// Pin to two cores for the figure in docs/BENCHMARKS.md: taskset -c 0,1 ads_beacon_bench ...
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "ads/ad_server.h"
#include "ads/catalog.h"
#include "ads/ledger_verify.h"
#include "ads/sqlite_store.h"

using namespace lumen::ads;

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  long impressions = 200'000;
  std::string durability = "full";
  int threads = 2;
  long inflight = 8192;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--impressions")
      impressions = std::stol(argv[i + 1]);
    else if (a == "--durability")
      durability = argv[i + 1];
    else if (a == "--threads")
      threads = std::stoi(argv[i + 1]);
    else if (a == "--inflight")
      inflight = std::stol(argv[i + 1]);
    else if (a == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (dir.empty()) {
    dir = (std::filesystem::temp_directory_path() / ("lumen_ads_bench_" + std::to_string(getpid())))
              .string();
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  AdsOptions o;
  o.db_path = dir + "/ads.db";
  o.secret_key_file = dir + "/ads.key";
  o.slots = 5;
  o.frequency_cap_session = 0;
  o.frequency_cap_user_per_day = 0;
  o.max_beacons_per_client_per_minute = 0;
  o.durability = Durability::kNormal;  // set-up only
  {
    auto store = SqliteStore::Open(o.db_path, {.durability = o.durability});
    AdCatalog catalog(**store);
    for (int i = 0; i < 5; ++i) {
      const auto adv = catalog.CreateAdvertiser(
          {.name = "advertiser " + std::to_string(i), .contact = "bench@example.test"});
      Campaign c;
      c.advertiser_id = adv->id;
      c.name = "bench";
      c.cpm_bid_micros = 2'500'000 + 100'000 * i;
      c.total_budget_micros = kMaxBudgetMicros;
      c.targeting.keywords = {{"running shoes", MatchType::kPhrase}};
      const auto id = catalog.CreateCampaign(c);
      (void)catalog.CreateCreative({.campaign_id = *id,
                                    .title = "Shoes",
                                    .display_url = "x.test",
                                    .landing_url = "https://x.test/"},
                                   true);
    }
  }
  const ClientInfo browser{"Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", "198.51.100.1"};
  std::vector<std::string> tokens;
  {
    auto server = AdServer::Open(o);
    if (!server.ok()) {
      std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
      return 1;
    }
    const auto t = std::chrono::steady_clock::now();
    std::vector<std::vector<std::string>> per(4);
    std::vector<std::thread> ts;
    for (int k = 0; k < 4; ++k) {
      ts.emplace_back([&, k] {
        RequestContext ctx;
        ctx.client = browser;
        for (long n = k; n < (impressions + 4) / 5; n += 4) {
          for (const SponsoredSlot& s : (*server)->Serve("best running shoes", ctx).slots) {
            per[k].push_back(s.impression_token);
          }
        }
      });
    }
    for (auto& th : ts) th.join();
    for (auto& v : per) tokens.insert(tokens.end(), v.begin(), v.end());
    tokens.resize(std::min<std::size_t>(tokens.size(), static_cast<std::size_t>(impressions)));
    std::printf("set-up: served %zu impressions in %.2f s\n", tokens.size(), Since(t));
  }

  auto d = ParseDurability(durability);
  if (!d.ok()) {
    std::fprintf(stderr, "%s\n", d.status().ToString().c_str());
    return 2;
  }
  o.durability = *d;
  auto server = AdServer::Open(o);
  std::atomic<long> billable{0};
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int k = 0; k < threads; ++k) {
    ts.emplace_back([&, k] {
      std::deque<std::future<BeaconResult>> q;
      long mine = 0;
      auto settle = [&] {
        mine += q.front().get().outcome == BeaconOutcome::kBillable;
        q.pop_front();
      };
      for (std::size_t i = static_cast<std::size_t>(k); i < tokens.size();
           i += static_cast<std::size_t>(threads)) {
        q.push_back((*server)->RecordImpressionAsync(tokens[i], browser));
        if (static_cast<long>(q.size()) >= inflight / threads) settle();
      }
      while (!q.empty()) settle();
      billable += mine;
    });
  }
  for (auto& th : ts) th.join();
  const double secs = Since(t0);
  const double cpu = CpuSeconds() - cpu0;
  server->reset();

  auto store = SqliteStore::Open(o.db_path);
  const auto v = VerifyLedger(**store);
  std::printf(
      "ads beacon bench: %ld durable billable impressions in %.3f s = %.0f /s "
      "(durability %s: %s; %d client threads, %ld in flight; CPU %.2f s = %.2f cores)\n",
      billable.load(), secs, static_cast<double>(billable.load()) / secs, durability.c_str(),
      *d == Durability::kFull ? "WAL, fsync at every commit" : "WAL, fsync at checkpoints", threads,
      inflight, cpu, cpu / secs);
  std::printf("ledger verify: %s, %lld entries, %lld billable, billed %s\n",
              v.ok() && v->ok ? "ok" : "FAILED", static_cast<long long>(v.ok() ? v->entries : 0),
              static_cast<long long>(v.ok() ? v->billable : 0),
              v.ok() ? FormatNanos(v->billed_nanos).c_str() : "-");
  std::printf(
      "reproduce: taskset -c 0,1 %s --impressions %ld --durability %s --threads %d "
      "--inflight %ld\n",
      argv[0], impressions, durability.c_str(), threads, inflight);
  std::filesystem::remove_all(dir);
  return billable.load() == static_cast<long>(tokens.size()) ? 0 : 1;
}
