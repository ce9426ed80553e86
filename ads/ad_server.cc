#include "ads/ad_server.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "ads/auction.h"
#include "ads/crypto.h"
#include "ads/impression_token.h"
#include "ads/ledger_batch.h"
#include "ads/secret_key.h"
#include "ads/targeting.h"

namespace lumen::ads {
namespace {

constexpr std::int64_t kUsPerSecond = 1'000'000;
constexpr std::int64_t kUsPerDay = 86'400 * kUsPerSecond;
constexpr std::int64_t kSessionDay = -1;  // frequency rows of a session have no day
constexpr std::int64_t kSweepIntervalUs = kUsPerSecond;
constexpr std::size_t kSweepLimit = 1000;

std::int64_t SystemClock() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t Fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// The catalog as the auction needs it: eligible campaigns with their servable creatives.
struct Catalog {
  std::int64_t version = -1;
  std::map<std::int64_t, Advertiser> advertisers;
  std::map<std::int64_t, Campaign> campaigns;
  std::map<std::int64_t, Creative> creatives;
  std::map<std::int64_t, std::vector<std::int64_t>> servable;  // campaign -> creative ids
};

struct Candidate {
  const Campaign* campaign;
  const Creative* creative;
  std::string currency;
  std::int64_t relevance;
};

struct WriteContext {
  AdStore& store;
  LedgerBatch& batch;
  std::int64_t now_us;
};

struct Op {
  std::function<Status(WriteContext&)> apply;
  std::function<void(const Status&)> done;
};

}  // namespace

std::string_view Name(BeaconOutcome o) {
  switch (o) {
    case BeaconOutcome::kBillable: return "billable";
    case BeaconOutcome::kDuplicate: return "duplicate";
    case BeaconOutcome::kInvalid: return "invalid";
    case BeaconOutcome::kError: return "error";
  }
  return "error";
}

struct AdServer::Impl {
  AdsOptions options;
  Clock clock;
  TokenSigner signer;
  std::vector<std::uint8_t> key;
  TrafficFilter filter;
  std::unique_ptr<AdStore> writer_store;

  // Catalog reads (caller threads).
  std::mutex reader_mu;
  std::unique_ptr<AdStore> reader_store;
  std::int64_t last_catalog_check_us = 0;
  std::mutex catalog_mu;
  std::shared_ptr<const Catalog> catalog;

  // The writer.
  std::mutex queue_mu;
  std::condition_variable queue_cv;
  std::deque<Op> queue;
  bool stopping = false;
  std::thread writer;
  std::int64_t last_sweep_us = 0;  // writer thread only

  Impl(const AdsOptions& o, Clock c, std::vector<std::uint8_t> k, BotList bots,
       std::unique_ptr<AdStore> w, std::unique_ptr<AdStore> r)
      : options(o),
        clock(c ? std::move(c) : Clock(SystemClock)),
        signer(k),
        key(std::move(k)),
        filter(std::move(bots), o.max_beacons_per_client_per_minute),
        writer_store(std::move(w)),
        reader_store(std::move(r)) {}

  // ---- catalog ---------------------------------------------------------------------------

  Status LoadCatalogLocked() {  // reader_mu held
    LUMEN_ASSIGN_OR_RETURN(const std::int64_t version, reader_store->CatalogVersion());
    {
      std::lock_guard<std::mutex> lock(catalog_mu);
      if (catalog && catalog->version == version) return Status::Ok();
    }
    auto c = std::make_shared<Catalog>();
    LUMEN_RETURN_IF_ERROR(reader_store->BeginRead());
    auto load = [&]() -> Status {
      LUMEN_ASSIGN_OR_RETURN(c->version, reader_store->CatalogVersion());
      LUMEN_ASSIGN_OR_RETURN(std::vector<Advertiser> advertisers, reader_store->ListAdvertisers());
      LUMEN_ASSIGN_OR_RETURN(std::vector<Campaign> campaigns, reader_store->ListCampaigns());
      LUMEN_ASSIGN_OR_RETURN(std::vector<Creative> creatives, reader_store->ListCreatives());
      for (Advertiser& a : advertisers) c->advertisers.emplace(a.id, std::move(a));
      for (Campaign& k : campaigns) c->campaigns.emplace(k.id, std::move(k));
      for (Creative& k : creatives) {
        if (k.status == CreativeStatus::kActive && k.review == ReviewState::kApproved) {
          c->servable[k.campaign_id].push_back(k.id);
        }
        c->creatives.emplace(k.id, std::move(k));
      }
      return Status::Ok();
    };
    const Status st = load();
    reader_store->Rollback();
    LUMEN_RETURN_IF_ERROR(st);
    std::lock_guard<std::mutex> lock(catalog_mu);
    catalog = std::move(c);
    return Status::Ok();
  }

  std::shared_ptr<const Catalog> Snapshot(bool force = false) {
    const std::int64_t now = clock();
    {
      std::lock_guard<std::mutex> lock(reader_mu);
      if (force || now - last_catalog_check_us >= kUsPerSecond / 2 || now < last_catalog_check_us) {
        last_catalog_check_us = now;
        // On failure the previous catalog stays in use.
        (void)LoadCatalogLocked();
      }
    }
    std::lock_guard<std::mutex> lock(catalog_mu);
    return catalog;
  }

  // ---- writer ----------------------------------------------------------------------------

  void Submit(Op op) {
    {
      std::lock_guard<std::mutex> lock(queue_mu);
      queue.push_back(std::move(op));
    }
    queue_cv.notify_one();
  }

  // Runs `ops` in one transaction. True when committed.
  bool RunTransaction(std::vector<Op>& ops, std::size_t begin, std::size_t end, Status& st) {
    AdStore& store = *writer_store;
    LedgerBatch batch(store);
    st = store.BeginWrite();
    if (st.ok()) st = batch.Start();
    const std::int64_t now = clock();
    WriteContext ctx{store, batch, now};
    if (st.ok() && (now - last_sweep_us >= kSweepIntervalUs || now < last_sweep_us)) {
      st = SweepExpired(ctx);
    }
    for (std::size_t i = begin; st.ok() && i < end; ++i) st = ops[i].apply(ctx);
    if (st.ok()) st = batch.Flush();
    if (st.ok()) st = store.Commit();
    if (!st.ok()) {
      store.Rollback();
      return false;
    }
    if (now - last_sweep_us >= kSweepIntervalUs || now < last_sweep_us) last_sweep_us = now;
    return true;
  }

  void RunBatch(std::vector<Op>& ops) {
    Status st;
    if (RunTransaction(ops, 0, ops.size(), st)) {
      for (Op& op : ops) op.done(Status::Ok());
      return;
    }
    if (ops.size() == 1) {
      ops[0].done(st);
      return;
    }
    // One bad operation must not sink its neighbours: retry each on its own.
    for (std::size_t i = 0; i < ops.size(); ++i) {
      Status one;
      RunTransaction(ops, i, i + 1, one);
      ops[i].done(one);
    }
  }

  void WriterLoop() {
    std::vector<Op> ops;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(queue_mu);
        queue_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping and drained
        const std::size_t n =
            std::min<std::size_t>(queue.size(), static_cast<std::size_t>(options.max_batch));
        ops.clear();
        for (std::size_t i = 0; i < n; ++i) {
          ops.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      RunBatch(ops);
    }
  }

  // Releases the reservations of slots whose tokens expired unrendered.
  Status SweepExpired(WriteContext& ctx) {
    LUMEN_ASSIGN_OR_RETURN(std::vector<ImpressionRecord> expired,
                           ctx.store.ExpiredReservations(ctx.now_us, kSweepLimit));
    for (ImpressionRecord& r : expired) {
      r.state = ImpressionState::kExpired;
      LUMEN_RETURN_IF_ERROR(ctx.store.UpdateImpression(r));
      ctx.batch.AddReserved(r.campaign_id, r.budget_day, -ImpressionCostNanos(r.price_cpm_micros));
    }
    return Status::Ok();
  }

  std::string FrequencyKey(std::string_view kind, std::string_view id) const {
    if (id.empty()) return {};
    const std::string msg = std::string(kind) + ":" + std::string(id.substr(0, 256));
    const Digest d = HmacSha256(key, AsBytes(msg));
    return ToHex(std::span<const std::uint8_t>(d.data(), 16));
  }

  std::string CurrencyOf(const Catalog& cat, std::int64_t advertiser_id) const {
    auto it = cat.advertisers.find(advertiser_id);
    return it == cat.advertisers.end() ? std::string() : it->second.currency;
  }
};

AdServer::AdServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->writer = std::thread([this] { impl_->WriterLoop(); });
}

AdServer::~AdServer() {
  {
    std::lock_guard<std::mutex> lock(impl_->queue_mu);
    impl_->stopping = true;
  }
  impl_->queue_cv.notify_one();
  if (impl_->writer.joinable()) impl_->writer.join();
}

Result<std::unique_ptr<AdServer>> AdServer::Open(const AdsOptions& options, Clock clock) {
  std::vector<std::uint8_t> key;
  const char* env =
      options.secret_key_env.empty() ? nullptr : std::getenv(options.secret_key_env.c_str());
  if (env != nullptr && *env != '\0') {
    LUMEN_ASSIGN_OR_RETURN(key,
                           ParseSecretKey(env, "environment variable " + options.secret_key_env));
  } else {
    LUMEN_ASSIGN_OR_RETURN(key, LoadOrCreateSecretKey(options.secret_key_file));
  }
  const SqliteStoreOptions so{.durability = options.durability};
  LUMEN_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> writer,
                         SqliteStore::Open(options.db_path, so));
  LUMEN_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> reader,
                         SqliteStore::Open(options.db_path, so));
  return Create(options, std::move(key), std::move(writer), std::move(reader), std::move(clock));
}

Result<std::unique_ptr<AdServer>> AdServer::Create(const AdsOptions& options,
                                                   std::vector<std::uint8_t> key,
                                                   std::unique_ptr<AdStore> writer,
                                                   std::unique_ptr<AdStore> reader, Clock clock) {
  if (key.size() < 32) return InvalidArgument("the ad signing key must be at least 32 bytes");
  BotList bots = BotList::BuiltIn();
  if (!options.bot_user_agents_file.empty()) {
    std::ifstream in(options.bot_user_agents_file);
    if (!in) {
      return InvalidArgument(options.bot_user_agents_file +
                             ": cannot read the bot user-agent list (ads.bot_user_agents_file)");
    }
    std::stringstream text;
    text << in.rdbuf();
    bots = BotList::FromText(text.str());
  }
  auto impl = std::make_unique<Impl>(options, std::move(clock), std::move(key), std::move(bots),
                                     std::move(writer), std::move(reader));
  {
    std::lock_guard<std::mutex> lock(impl->reader_mu);
    LUMEN_RETURN_IF_ERROR(impl->LoadCatalogLocked());
    impl->last_catalog_check_us = impl->clock();
  }
  return std::unique_ptr<AdServer>(new AdServer(std::move(impl)));
}

Status AdServer::RefreshCatalog() {
  std::lock_guard<std::mutex> lock(impl_->reader_mu);
  impl_->last_catalog_check_us = impl_->clock();
  return impl_->LoadCatalogLocked();
}

// ---- serving -------------------------------------------------------------------------------

ServeResult AdServer::Serve(std::string_view question, const RequestContext& context) {
  Impl& m = *impl_;
  ServeResult result;
  result.request_id = context.request_id.substr(0, 64);
  if (result.request_id.empty()) {
    std::uint8_t rid[16];
    RandomBytes(rid);
    result.request_id = ToHex(rid);
  }
  if (!m.options.enabled || m.options.slots == 0) {
    result.reason = "sponsored slots are turned off";
    return result;
  }
  if (m.filter.CheckUserAgent(context.client.user_agent).has_value()) {
    // Bots and clients without a user agent get no ads (their beacons would be invalid anyway).
    result.reason = "invalid traffic";
    return result;
  }
  const std::shared_ptr<const Catalog> cat = m.Snapshot();
  if (!cat) {
    result.reason = "catalog unavailable";
    return result;
  }
  const std::int64_t now = m.clock();
  const NormalizedQuestion q = NormalizeQuestion(question.substr(0, 4096));
  const std::uint64_t seed = m.options.seed ^ Fnv1a(result.request_id);
  std::vector<Candidate> candidates;
  for (const auto& [id, c] : cat->campaigns) {
    if (c.status != CampaignStatus::kActive || now < c.start_us || (c.end_us && now >= c.end_us)) {
      continue;
    }
    auto adv = cat->advertisers.find(c.advertiser_id);
    if (adv == cat->advertisers.end() || adv->second.status != AdvertiserStatus::kActive) continue;
    auto servable = cat->servable.find(id);
    if (servable == cat->servable.end() || servable->second.empty()) continue;
    const std::int64_t relevance = CampaignRelevance(c.targeting, q, context.language);
    if (relevance <= 0 || relevance < m.options.quality_threshold_ppm) continue;
    const std::vector<std::int64_t>& creatives = servable->second;
    const std::int64_t creative =
        creatives[(seed ^ static_cast<std::uint64_t>(id) * 0x9e3779b97f4a7c15ULL) %
                  creatives.size()];
    candidates.push_back({&c, &cat->creatives.at(creative), adv->second.currency, relevance});
  }
  if (candidates.empty()) {
    result.reason = "no relevant campaign";
    return result;
  }

  struct Won {
    const Candidate* candidate;
    int slot;
    Micros price;
    ImpressionId id;
  };
  auto won = std::make_shared<std::vector<Won>>();
  const std::string user_key = m.FrequencyKey("user", context.user_id);
  const std::string session_key = m.FrequencyKey("session", context.session_id);
  const std::int64_t expires_us = now + m.options.token_ttl_s * kUsPerSecond;
  auto apply = [&m, &candidates, won, user_key, session_key, expires_us,
                seed](WriteContext& ctx) -> Status {
    won->clear();
    const std::int64_t today = DayOf(ctx.now_us);
    std::vector<AuctionCandidate> auction;
    std::vector<const Candidate*> index;
    for (const Candidate& c : candidates) {
      const Campaign& k = *c.campaign;
      if (!user_key.empty() && m.options.frequency_cap_user_per_day > 0) {
        LUMEN_ASSIGN_OR_RETURN(const std::int64_t n, ctx.store.GetFrequency(user_key, k.id, today));
        if (n >= m.options.frequency_cap_user_per_day) continue;
      }
      if (!session_key.empty() && m.options.frequency_cap_session > 0) {
        LUMEN_ASSIGN_OR_RETURN(const std::int64_t n,
                               ctx.store.GetFrequency(session_key, k.id, kSessionDay));
        if (n >= m.options.frequency_cap_session) continue;
      }
      LUMEN_ASSIGN_OR_RETURN(CampaignSpend s, ctx.store.GetSpend(k.id, today));
      const CampaignSpend p = ctx.batch.PendingSpend(k.id, today);
      const Nanos used = s.spent + s.reserved + p.spent + p.reserved;
      const Nanos used_today = s.day_spent + s.day_reserved + p.day_spent + p.day_reserved;
      Nanos affordable = MicrosToNanos(k.total_budget_micros) - used;
      if (k.daily_budget_micros > 0) {
        Nanos daily = MicrosToNanos(k.daily_budget_micros);
        if (k.pacing == Pacing::kEven) {
          // Even pacing: by any moment, at most the elapsed share of the day plus one hour.
          const std::int64_t into_day = ctx.now_us - today * kUsPerDay;
          const std::int64_t allowed_us = std::min(kUsPerDay, into_day + 3600 * kUsPerSecond);
          daily = static_cast<Nanos>(static_cast<__int128>(daily) * allowed_us / kUsPerDay);
        }
        affordable = std::min(affordable, daily - used_today);
      }
      auction.push_back({k.id, k.advertiser_id, k.cpm_bid_micros, c.relevance, affordable});
      index.push_back(&c);
    }
    const AuctionParams params{m.options.slots, m.options.reserve_cpm_micros,
                               m.options.quality_threshold_ppm, seed};
    for (const AuctionWinner& w : RunAuction(auction, params)) {
      const Candidate& c = *index[w.candidate];
      Won x{&c, w.slot, w.price_cpm_micros, {}};
      // Time first, then 64 random bits: new rows land at the end of the impressions B-tree
      // (and beacons mostly touch recent pages), which keeps commits small.
      for (int i = 0; i < 8; ++i) {
        x.id[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(ctx.now_us) >> (56 - 8 * i));
      }
      RandomBytes(std::span<std::uint8_t>(x.id.data() + 8, 8));
      LedgerEntry e;
      e.time_us = ctx.now_us;
      e.kind = EntryKind::kServed;
      e.advertiser_id = c.campaign->advertiser_id;
      e.campaign_id = c.campaign->id;
      e.creative_id = c.creative->id;
      e.impression_id = ToHex(x.id);
      e.slot = w.slot;
      e.price_cpm_micros = w.price_cpm_micros;
      e.currency = c.currency;
      LUMEN_RETURN_IF_ERROR(ctx.batch.Append(e));
      ImpressionRecord r;
      r.id = x.id;
      r.advertiser_id = e.advertiser_id;
      r.campaign_id = e.campaign_id;
      r.creative_id = e.creative_id;
      r.slot = w.slot;
      r.price_cpm_micros = w.price_cpm_micros;
      r.served_us = ctx.now_us;
      r.expires_us = expires_us;
      r.budget_day = today;
      r.served_seq = e.seq;
      LUMEN_RETURN_IF_ERROR(ctx.store.InsertImpression(r));
      ctx.batch.AddReserved(e.campaign_id, today, ImpressionCostNanos(w.price_cpm_micros));
      if (!user_key.empty()) {
        LUMEN_RETURN_IF_ERROR(ctx.store.AddFrequency(user_key, e.campaign_id, today, 1));
      }
      if (!session_key.empty()) {
        LUMEN_RETURN_IF_ERROR(ctx.store.AddFrequency(session_key, e.campaign_id, kSessionDay, 1));
      }
      won->push_back(x);
    }
    return Status::Ok();
  };
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> done = promise->get_future();
  m.Submit({apply, [promise](const Status& s) { promise->set_value(s); }});
  const Status st = done.get();
  if (!st.ok()) {
    result.reason = "ad store unavailable: " + st.message();
    return result;
  }
  const std::int64_t click_expires_s = now / kUsPerSecond + m.options.click_ttl_s;
  for (const Won& w : *won) {
    const Candidate& c = *w.candidate;
    SponsoredSlot s;
    s.slot = w.slot;
    s.label = m.options.label;
    s.advertiser_id = c.campaign->advertiser_id;
    s.campaign_id = c.campaign->id;
    s.creative_id = c.creative->id;
    s.title = c.creative->title;
    s.body = c.creative->body;
    s.display_url = c.creative->display_url;
    ImpressionToken t{TokenKind::kImpression,
                      w.id,
                      w.slot,
                      s.campaign_id,
                      s.creative_id,
                      w.price,
                      expires_us / kUsPerSecond,
                      result.request_id};
    s.impression_expires_s = t.expires_s;
    s.impression_token = m.signer.Sign(t);
    t.kind = TokenKind::kClick;
    t.expires_s = click_expires_s;
    s.click_token = m.signer.Sign(t);
    result.slots.push_back(std::move(s));
  }
  if (result.slots.empty()) result.reason = "no candidate could be served (budget, caps, reserve)";
  return result;
}

// ---- beacons -------------------------------------------------------------------------------

std::future<BeaconResult> AdServer::RecordImpressionAsync(std::string token, ClientInfo client) {
  Impl& m = *impl_;
  const std::int64_t now = m.clock();
  const TokenSigner::Verified v = m.signer.Verify(token, TokenKind::kImpression);
  const std::optional<InvalidReason> client_verdict = m.filter.Check(client, now);
  auto result = std::make_shared<BeaconResult>();
  auto promise = std::make_shared<std::promise<BeaconResult>>();
  std::future<BeaconResult> future = promise->get_future();
  const std::shared_ptr<const Catalog> cat = m.Snapshot();

  auto apply = [&m, v, client_verdict, result, cat](WriteContext& ctx) -> Status {
    LedgerEntry e;
    e.time_us = ctx.now_us;
    e.kind = EntryKind::kInvalid;
    auto invalid = [&](InvalidReason r, BeaconOutcome outcome = BeaconOutcome::kInvalid,
                       std::int64_t budget_day = 0) -> Status {
      e.kind = EntryKind::kInvalid;
      e.amount_nanos = 0;
      e.detail = std::string(Name(r));
      LUMEN_RETURN_IF_ERROR(ctx.batch.Append(e, budget_day));
      result->outcome = outcome;
      result->reason = r;
      result->seq = e.seq;
      return Status::Ok();
    };
    if (!v.ok) {
      return invalid(v.error == TokenError::kMalformed      ? InvalidReason::kMalformedToken
                     : v.error == TokenError::kBadSignature ? InvalidReason::kBadSignature
                                                            : InvalidReason::kWrongTokenKind);
    }
    const ImpressionToken& t = v.token;
    LUMEN_ASSIGN_OR_RETURN(std::optional<ImpressionRecord> rec,
                           ctx.store.GetImpression(t.impression_id));
    if (!rec) return invalid(InvalidReason::kNoServe);
    e.advertiser_id = rec->advertiser_id;
    e.campaign_id = rec->campaign_id;
    e.creative_id = rec->creative_id;
    e.impression_id = ToHex(rec->id);
    e.slot = rec->slot;
    e.price_cpm_micros = rec->price_cpm_micros;
    e.currency = m.CurrencyOf(*cat, rec->advertiser_id);
    if (t.campaign_id != rec->campaign_id || t.creative_id != rec->creative_id ||
        t.price_cpm_micros != rec->price_cpm_micros || t.slot != rec->slot) {
      return invalid(InvalidReason::kTokenMismatch);
    }
    if (rec->state != ImpressionState::kReserved) {
      return invalid(rec->state == ImpressionState::kExpired ? InvalidReason::kExpired
                                                             : InvalidReason::kDuplicate,
                     rec->state == ImpressionState::kBillable ? BeaconOutcome::kDuplicate
                                                              : BeaconOutcome::kInvalid);
    }
    // Decided now: billable, or invalid for good (the reservation is released either way).
    std::optional<InvalidReason> verdict = client_verdict;
    if (ctx.now_us > rec->expires_us) verdict = InvalidReason::kExpired;
    const Nanos cost = ImpressionCostNanos(rec->price_cpm_micros);
    if (verdict) {
      LUMEN_RETURN_IF_ERROR(invalid(*verdict));
      ctx.batch.AddReserved(rec->campaign_id, rec->budget_day, -cost);
      rec->state = *verdict == InvalidReason::kExpired ? ImpressionState::kExpired
                                                       : ImpressionState::kInvalid;
    } else {
      e.kind = EntryKind::kBillable;
      e.amount_nanos = cost;
      LUMEN_RETURN_IF_ERROR(ctx.batch.Append(e, rec->budget_day));
      result->outcome = BeaconOutcome::kBillable;
      result->reason.reset();
      result->seq = e.seq;
      rec->state = ImpressionState::kBillable;
    }
    rec->decided_seq = e.seq;
    return ctx.store.UpdateImpression(*rec);
  };
  auto done = [result, promise,
               malformed = !v.ok && v.error == TokenError::kMalformed](const Status& s) {
    BeaconResult r = *result;
    if (!s.ok()) {
      r = BeaconResult{};
      r.error = s;
      r.http_status = 503;
    } else {
      r.http_status = malformed ? 400 : 200;
    }
    promise->set_value(std::move(r));
  };
  m.Submit({std::move(apply), std::move(done)});
  return future;
}

BeaconResult AdServer::RecordImpression(std::string_view token, const ClientInfo& client) {
  return RecordImpressionAsync(std::string(token), client).get();
}

ClickResult AdServer::RecordClick(std::string_view token, const ClientInfo& client) {
  Impl& m = *impl_;
  const std::int64_t now = m.clock();
  const TokenSigner::Verified v = m.signer.Verify(token, TokenKind::kClick);
  const std::optional<InvalidReason> client_verdict = m.filter.Check(client, now);
  const std::shared_ptr<const Catalog> cat = m.Snapshot();
  auto result = std::make_shared<ClickResult>();
  auto apply = [&m, &v, client_verdict, result, cat](WriteContext& ctx) -> Status {
    *result = ClickResult{};
    LedgerEntry e;
    e.time_us = ctx.now_us;
    e.kind = EntryKind::kInvalid;
    auto invalid = [&](InvalidReason r) -> Status {
      e.detail = "click: " + std::string(Name(r));
      LUMEN_RETURN_IF_ERROR(ctx.batch.Append(e));
      result->reason = r;
      result->seq = e.seq;
      return Status::Ok();
    };
    if (!v.ok) {
      return invalid(v.error == TokenError::kMalformed      ? InvalidReason::kMalformedToken
                     : v.error == TokenError::kBadSignature ? InvalidReason::kBadSignature
                                                            : InvalidReason::kWrongTokenKind);
    }
    const ImpressionToken& t = v.token;
    // The token is authentic: its creative decides the target, whatever happens next.
    if (auto it = cat->creatives.find(t.creative_id); it != cat->creatives.end()) {
      result->landing_url = it->second.landing_url;
    }
    LUMEN_ASSIGN_OR_RETURN(std::optional<ImpressionRecord> rec,
                           ctx.store.GetImpression(t.impression_id));
    if (!rec) return invalid(InvalidReason::kNoServe);
    e.advertiser_id = rec->advertiser_id;
    e.campaign_id = rec->campaign_id;
    e.creative_id = rec->creative_id;
    e.impression_id = ToHex(rec->id);
    e.slot = rec->slot;
    e.price_cpm_micros = rec->price_cpm_micros;
    e.currency = m.CurrencyOf(*cat, rec->advertiser_id);
    if (t.campaign_id != rec->campaign_id || t.creative_id != rec->creative_id) {
      return invalid(InvalidReason::kTokenMismatch);
    }
    if (ctx.now_us / kUsPerSecond > t.expires_s) return invalid(InvalidReason::kExpired);
    if (client_verdict) return invalid(*client_verdict);
    if (rec->state != ImpressionState::kBillable) {
      return invalid(InvalidReason::kClickWithoutImpression);
    }
    if (rec->click_seq != 0) return invalid(InvalidReason::kDuplicateClick);
    e.kind = EntryKind::kClick;
    LUMEN_RETURN_IF_ERROR(ctx.batch.Append(e));
    result->counted = true;
    result->seq = e.seq;
    rec->click_seq = e.seq;
    return ctx.store.UpdateImpression(*rec);
  };
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> done = promise->get_future();
  m.Submit({apply, [promise](const Status& s) { promise->set_value(s); }});
  const Status st = done.get();
  ClickResult r = *result;
  if (!st.ok()) {
    // The redirect does not depend on the ledger: an authentic token still takes the reader on.
    r.error = st;
    r.counted = false;
  }
  r.http_status = !r.landing_url.empty() ? 302 : v.ok ? 404 : 400;
  return r;
}

}  // namespace lumen::ads
