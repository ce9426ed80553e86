#include "ads/catalog.h"

#include <algorithm>
#include <chrono>

#include "ads/crypto.h"
#include "ads/ledger_batch.h"

namespace lumen::ads {

AdCatalog::AdCatalog(AdStore& store, Clock clock) : store_(store), clock_(std::move(clock)) {
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

Status AdCatalog::InTransaction(const std::function<Status()>& fn) {
  LUMEN_RETURN_IF_ERROR(store_.BeginWrite());
  Status st = fn();
  if (st.ok()) st = store_.Commit();
  if (!st.ok()) store_.Rollback();
  return st;
}

Result<AdCatalog::NewAdvertiser> AdCatalog::CreateAdvertiser(Advertiser a) {
  LUMEN_RETURN_IF_ERROR(ValidateAdvertiser(a));
  std::uint8_t raw[24];
  RandomBytes(raw);
  NewAdvertiser out;
  out.api_key = "lak_" + Base64UrlEncode(raw);
  a.api_key_hash = ToHex(Sha256(out.api_key));
  a.created_us = clock_();
  LUMEN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    LUMEN_ASSIGN_OR_RETURN(out.id, store_.InsertAdvertiser(a));
    return Status::Ok();
  }));
  return out;
}

Result<std::int64_t> AdCatalog::CreateCampaign(Campaign c) {
  LUMEN_RETURN_IF_ERROR(ValidateCampaign(c));
  c.created_us = clock_();
  if (c.start_us == 0) c.start_us = c.created_us;
  if (c.end_us != 0 && c.end_us <= c.start_us) {
    return InvalidArgument("campaign end must be after its start");
  }
  std::int64_t id = 0;
  LUMEN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    LUMEN_ASSIGN_OR_RETURN(std::vector<Advertiser> all, store_.ListAdvertisers());
    if (std::none_of(all.begin(), all.end(),
                     [&](const Advertiser& a) { return a.id == c.advertiser_id; })) {
      return NotFound("advertiser " + std::to_string(c.advertiser_id) + " does not exist");
    }
    LUMEN_ASSIGN_OR_RETURN(id, store_.InsertCampaign(c));
    return Status::Ok();
  }));
  return id;
}

Result<std::int64_t> AdCatalog::CreateCreative(Creative c, bool approve) {
  LUMEN_RETURN_IF_ERROR(ValidateCreative(c));
  c.created_us = clock_();
  if (approve) c.review = ReviewState::kApproved;
  std::int64_t id = 0;
  LUMEN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    LUMEN_ASSIGN_OR_RETURN(std::vector<Campaign> all, store_.ListCampaigns());
    if (std::none_of(all.begin(), all.end(),
                     [&](const Campaign& k) { return k.id == c.campaign_id; })) {
      return NotFound("campaign " + std::to_string(c.campaign_id) + " does not exist");
    }
    LUMEN_ASSIGN_OR_RETURN(id, store_.InsertCreative(c));
    return Status::Ok();
  }));
  return id;
}

Status AdCatalog::SetAdvertiserStatus(std::int64_t id, AdvertiserStatus s) {
  return InTransaction([&] { return store_.SetAdvertiserStatus(id, s); });
}

Status AdCatalog::SetCampaignStatus(std::int64_t id, CampaignStatus s) {
  return InTransaction([&] { return store_.SetCampaignStatus(id, s); });
}

Status AdCatalog::SetCreativeStatus(std::int64_t id, CreativeStatus s) {
  return InTransaction([&]() -> Status {
    LUMEN_ASSIGN_OR_RETURN(std::vector<Creative> all, store_.ListCreatives());
    for (const Creative& c : all) {
      if (c.id == id) return store_.SetCreativeStatus(id, s, c.review);
    }
    return NotFound("creative " + std::to_string(id) + " does not exist");
  });
}

Status AdCatalog::ReviewCreative(std::int64_t id, ReviewState r) {
  return InTransaction([&]() -> Status {
    LUMEN_ASSIGN_OR_RETURN(std::vector<Creative> all, store_.ListCreatives());
    for (const Creative& c : all) {
      if (c.id == id) return store_.SetCreativeStatus(id, c.status, r);
    }
    return NotFound("creative " + std::to_string(id) + " does not exist");
  });
}

Result<std::vector<Advertiser>> AdCatalog::Advertisers() {
  return store_.ListAdvertisers();
}
Result<std::vector<Campaign>> AdCatalog::Campaigns() {
  return store_.ListCampaigns();
}
Result<std::vector<Creative>> AdCatalog::Creatives() {
  return store_.ListCreatives();
}

Result<std::optional<std::int64_t>> AdCatalog::Authenticate(std::string_view api_key) {
  const std::string hash = ToHex(Sha256(api_key));
  LUMEN_ASSIGN_OR_RETURN(std::vector<Advertiser> all, store_.ListAdvertisers());
  for (const Advertiser& a : all) {
    if (ConstantTimeEqual(AsBytes(a.api_key_hash), AsBytes(hash))) {
      return std::optional<std::int64_t>(a.id);
    }
  }
  return std::optional<std::int64_t>();
}

Result<std::int64_t> AdCatalog::Adjust(std::int64_t campaign_id, Nanos amount, std::string memo) {
  if (amount == 0) return InvalidArgument("an adjustment needs a non-zero amount");
  if (amount > MicrosToNanos(kMaxBudgetMicros) || amount < -MicrosToNanos(kMaxBudgetMicros)) {
    return InvalidArgument("adjustment amount is out of range");
  }
  if (memo.empty() || memo.size() > 500) {
    return InvalidArgument("an adjustment needs a memo (1..500 bytes) saying why");
  }
  std::int64_t seq = 0;
  LUMEN_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    LUMEN_ASSIGN_OR_RETURN(std::vector<Campaign> campaigns, store_.ListCampaigns());
    auto c = std::find_if(campaigns.begin(), campaigns.end(),
                          [&](const Campaign& k) { return k.id == campaign_id; });
    if (c == campaigns.end()) {
      return NotFound("campaign " + std::to_string(campaign_id) + " does not exist");
    }
    LUMEN_ASSIGN_OR_RETURN(std::vector<Advertiser> advertisers, store_.ListAdvertisers());
    std::string currency;
    for (const Advertiser& a : advertisers) {
      if (a.id == c->advertiser_id) currency = a.currency;
    }
    LedgerBatch batch(store_);
    LUMEN_RETURN_IF_ERROR(batch.Start());
    LedgerEntry e;
    e.time_us = clock_();
    e.kind = EntryKind::kAdjustment;
    e.advertiser_id = c->advertiser_id;
    e.campaign_id = campaign_id;
    e.amount_nanos = amount;
    e.currency = currency;
    e.detail = std::move(memo);
    LUMEN_RETURN_IF_ERROR(batch.Append(e));
    seq = e.seq;
    return batch.Flush();
  }));
  return seq;
}

}  // namespace lumen::ads
