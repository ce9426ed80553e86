// AdCatalog: creating, listing, pausing and reviewing advertisers, campaigns and creatives, and
// posting corrections — the operations behind `lumen ads` and, later, the dashboard. Every
// write validates its input (ads/model.h), runs in its own transaction and bumps the catalog
// version, which a running AdServer notices within half a second.
//
// Budgets and bids are fixed when a campaign is created (so `verify` can check that no
// campaign ever spent more than its budget); to change them, end the campaign and create
// another. Not thread-safe (it uses one AdStore); cheap to construct.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ads/store.h"

namespace lumen::ads {

class AdCatalog {
 public:
  using Clock = std::function<std::int64_t()>;
  explicit AdCatalog(AdStore& store, Clock clock = {});

  struct NewAdvertiser {
    std::int64_t id = 0;
    std::string api_key;  // shown once; only its hash is stored
  };
  Result<NewAdvertiser> CreateAdvertiser(Advertiser a);
  // NotFound when the advertiser does not exist.
  Result<std::int64_t> CreateCampaign(Campaign c);
  // NotFound when the campaign does not exist. New creatives await review unless `approve`.
  Result<std::int64_t> CreateCreative(Creative c, bool approve = false);

  Status SetAdvertiserStatus(std::int64_t id, AdvertiserStatus s);
  Status SetCampaignStatus(std::int64_t id, CampaignStatus s);
  Status SetCreativeStatus(std::int64_t id, CreativeStatus s);
  Status ReviewCreative(std::int64_t id, ReviewState r);

  Result<std::vector<Advertiser>> Advertisers();
  Result<std::vector<Campaign>> Campaigns();
  Result<std::vector<Creative>> Creatives();

  // The advertiser whose API key this is, or nullopt.
  Result<std::optional<std::int64_t>> Authenticate(std::string_view api_key);

  // Appends an adjustment entry: a signed charge in nanos to the campaign (negative = refund),
  // with a memo saying why. Returns its ledger sequence number.
  Result<std::int64_t> Adjust(std::int64_t campaign_id, Nanos amount, std::string memo);

 private:
  // Runs `fn` inside a write transaction, committing on success.
  Status InTransaction(const std::function<Status()>& fn);

  AdStore& store_;
  Clock clock_;
};

}  // namespace lumen::ads
