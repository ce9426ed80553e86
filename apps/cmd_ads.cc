// lumen ads: Manage advertisers, campaigns and creatives; report and verify the ledger.
//
//   lumen ads advertiser create|list|pause|resume
//   lumen ads campaign   create|list|pause|resume|end
//   lumen ads creative   create|list|pause|resume|approve|reject
//   lumen ads account    create|list|password   (dashboard sign-in; password read from stdin)
//   lumen ads report | verify | adjust
//
// Thin: parses flags, calls ads::AdCatalog / BuildReport / VerifyLedger on <data_dir>/ads.db.
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "ads/account.h"
#include "ads/catalog.h"
#include "ads/ledger_verify.h"
#include "ads/options.h"
#include "ads/report.h"
#include "ads/sqlite_store.h"
#include "apps/commands.h"

namespace lumen::cli {
namespace {

using namespace lumen::ads;

// The ads store named by the configuration, or an exit code.
struct Opened {
  std::unique_ptr<SqliteStore> store;
  int exit_code = kExitOk;
};

Opened OpenStore(CommandContext& ctx) {
  Opened o;
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) {
    o.exit_code = kExitUsage;
    return o;
  }
  Result<AdsOptions> options = AdsOptions::FromConfig(*config);
  if (!options.ok()) {
    o.exit_code = Fail(kExitUsage, "configuration error: " + options.status().message());
    return o;
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(options->db_path).parent_path(), ec);
  Result<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(options->db_path, {.durability = options->durability});
  if (!store.ok()) {
    o.exit_code = Fail(kExitFailure, store.status().message());
    return o;
  }
  o.store = std::move(*store);
  return o;
}

int Report(const Status& st) {
  if (st.ok()) return kExitOk;
  return Fail(st.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailure, st.message());
}

// The single positional ID of pause/resume/... subcommands.
Result<std::int64_t> IdArgument(const CommandContext& ctx, std::string_view what) {
  const auto& p = ctx.flags.positionals();
  if (p.size() != 1) return InvalidArgument("expected one " + std::string(what) + " ID");
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(p[0].data(), p[0].data() + p[0].size(), id);
  if (ec != std::errc() || end != p[0].data() + p[0].size() || id <= 0) {
    return InvalidArgument("not a " + std::string(what) + " ID: \"" + p[0] + "\"");
  }
  return id;
}

Result<std::int64_t> IdFlag(const CommandContext& ctx, const char* name, bool required) {
  if (!ctx.flags.Has(name)) {
    if (required) return InvalidArgument("--" + std::string(name) + " is required");
    return std::int64_t{0};
  }
  LUMEN_ASSIGN_OR_RETURN(const long long v, ctx.flags.GetInt(name, 0));
  if (v <= 0) return InvalidArgument("--" + std::string(name) + " must be a positive ID");
  return static_cast<std::int64_t>(v);
}

Result<Micros> MoneyFlag(const CommandContext& ctx, const char* name, bool required) {
  if (!ctx.flags.Has(name)) {
    if (required) return InvalidArgument("--" + std::string(name) + " is required");
    return Micros{0};
  }
  Result<Micros> m = ParseMoney(ctx.flags.Get(name));
  if (!m.ok()) return InvalidArgument("--" + std::string(name) + ": " + m.status().message());
  return m;
}

std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string cell = r[i];
      if (i + 1 < r.size()) cell.resize(width[i] + 2, ' ');
      out += cell;
    }
    out += "\n";
  }
  return out;
}

std::string Day(std::int64_t us) {
  return us == 0 ? "-" : FormatDay(DayOf(us));
}

// ---- advertisers -----------------------------------------------------------------------------

int AdvertiserCreate(CommandContext& ctx) {
  Advertiser a;
  a.name = ctx.flags.Get("name");
  a.contact = ctx.flags.Get("contact");
  a.currency = ctx.flags.Get("currency", "USD");
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<AdCatalog::NewAdvertiser> r = AdCatalog(*o.store).CreateAdvertiser(a);
  if (!r.ok()) return Report(r.status());
  std::cout << "advertiser " << r->id << " created\napi key (shown once, keep it): " << r->api_key
            << "\n";
  return kExitOk;
}

int AdvertiserList(CommandContext& ctx) {
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::vector<Advertiser>> all = AdCatalog(*o.store).Advertisers();
  if (!all.ok()) return Report(all.status());
  std::vector<std::vector<std::string>> rows = {
      {"id", "name", "contact", "currency", "status", "created"}};
  for (const Advertiser& a : *all) {
    rows.push_back({std::to_string(a.id), a.name, a.contact, a.currency,
                    std::string(Name(a.status)), Day(a.created_us)});
  }
  std::cout << Table(rows);
  return kExitOk;
}

template <AdvertiserStatus S>
int AdvertiserSet(CommandContext& ctx) {
  Result<std::int64_t> id = IdArgument(ctx, "advertiser");
  if (!id.ok()) return Report(id.status());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  if (Status st = AdCatalog(*o.store).SetAdvertiserStatus(*id, S); !st.ok()) return Report(st);
  std::cout << "advertiser " << *id << " " << Name(S) << "\n";
  return kExitOk;
}

// ---- campaigns -------------------------------------------------------------------------------

int CampaignCreate(CommandContext& ctx) {
  Campaign c;
  auto fill = [&]() -> Status {
    LUMEN_ASSIGN_OR_RETURN(c.advertiser_id, IdFlag(ctx, "advertiser", true));
    c.name = ctx.flags.Get("name");
    LUMEN_ASSIGN_OR_RETURN(c.cpm_bid_micros, MoneyFlag(ctx, "cpm", true));
    LUMEN_ASSIGN_OR_RETURN(c.total_budget_micros, MoneyFlag(ctx, "budget", true));
    LUMEN_ASSIGN_OR_RETURN(c.daily_budget_micros, MoneyFlag(ctx, "daily-budget", false));
    if (ctx.flags.Has("start")) {
      LUMEN_ASSIGN_OR_RETURN(c.start_us, ParseTime(ctx.flags.Get("start")));
    }
    if (ctx.flags.Has("end")) {
      LUMEN_ASSIGN_OR_RETURN(c.end_us, ParseTime(ctx.flags.Get("end")));
    }
    LUMEN_ASSIGN_OR_RETURN(c.pacing, ParsePacing(ctx.flags.Get("pacing", "asap")));
    for (const std::string& k : ctx.flags.GetAll("keyword")) {
      LUMEN_ASSIGN_OR_RETURN(Keyword kw, ParseKeyword(k));
      c.targeting.keywords.push_back(std::move(kw));
    }
    c.targeting.negative_keywords = ctx.flags.GetAll("negative");
    c.targeting.languages = ctx.flags.GetAll("language");
    return ValidateCampaign(c);
  };
  if (Status st = fill(); !st.ok()) return Fail(kExitUsage, "ads campaign create: " + st.message());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::int64_t> id = AdCatalog(*o.store).CreateCampaign(c);
  if (!id.ok()) return Report(id.status());
  std::cout << "campaign " << *id << " created\n";
  return kExitOk;
}

int CampaignList(CommandContext& ctx) {
  Result<std::int64_t> adv = IdFlag(ctx, "advertiser", false);
  if (!adv.ok()) return Report(adv.status());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::vector<Campaign>> all = AdCatalog(*o.store).Campaigns();
  if (!all.ok()) return Report(all.status());
  std::vector<std::vector<std::string>> rows = {{"id", "advertiser", "name", "status", "cpm",
                                                 "budget", "daily", "pacing", "start", "end",
                                                 "keywords"}};
  for (const Campaign& c : *all) {
    if (*adv && c.advertiser_id != *adv) continue;
    std::string kws;
    for (const Keyword& k : c.targeting.keywords) {
      kws += (kws.empty() ? "" : ", ") + std::string(Name(k.match)) + ":" + k.text;
    }
    rows.push_back({std::to_string(c.id), std::to_string(c.advertiser_id), c.name,
                    std::string(Name(c.status)), FormatMicros(c.cpm_bid_micros),
                    FormatMicros(c.total_budget_micros),
                    c.daily_budget_micros ? FormatMicros(c.daily_budget_micros) : "-",
                    std::string(Name(c.pacing)), Day(c.start_us), Day(c.end_us), kws});
  }
  std::cout << Table(rows);
  return kExitOk;
}

template <CampaignStatus S>
int CampaignSet(CommandContext& ctx) {
  Result<std::int64_t> id = IdArgument(ctx, "campaign");
  if (!id.ok()) return Report(id.status());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  if (Status st = AdCatalog(*o.store).SetCampaignStatus(*id, S); !st.ok()) return Report(st);
  std::cout << "campaign " << *id << " " << Name(S) << "\n";
  return kExitOk;
}

// ---- creatives -------------------------------------------------------------------------------

int CreativeCreate(CommandContext& ctx) {
  Creative c;
  Result<std::int64_t> campaign = IdFlag(ctx, "campaign", true);
  if (!campaign.ok()) return Report(campaign.status());
  c.campaign_id = *campaign;
  c.title = ctx.flags.Get("title");
  c.body = ctx.flags.Get("body");
  c.display_url = ctx.flags.Get("display-url");
  c.landing_url = ctx.flags.Get("landing-url");
  if (Status st = ValidateCreative(c); !st.ok()) {
    return Fail(kExitUsage, "ads creative create: " + st.message());
  }
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::int64_t> id = AdCatalog(*o.store).CreateCreative(c, ctx.flags.Has("approve"));
  if (!id.ok()) return Report(id.status());
  std::cout << "creative " << *id << " created"
            << (ctx.flags.Has("approve") ? " and approved" : " (pending review)") << "\n";
  return kExitOk;
}

int CreativeList(CommandContext& ctx) {
  Result<std::int64_t> campaign = IdFlag(ctx, "campaign", false);
  if (!campaign.ok()) return Report(campaign.status());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::vector<Creative>> all = AdCatalog(*o.store).Creatives();
  if (!all.ok()) return Report(all.status());
  std::vector<std::vector<std::string>> rows = {
      {"id", "campaign", "status", "review", "title", "display url", "landing url"}};
  for (const Creative& c : *all) {
    if (*campaign && c.campaign_id != *campaign) continue;
    rows.push_back({std::to_string(c.id), std::to_string(c.campaign_id),
                    std::string(Name(c.status)), std::string(Name(c.review)), c.title,
                    c.display_url, c.landing_url});
  }
  std::cout << Table(rows);
  return kExitOk;
}

template <int Action>  // 0 pause, 1 resume, 2 approve, 3 reject
int CreativeSet(CommandContext& ctx) {
  Result<std::int64_t> id = IdArgument(ctx, "creative");
  if (!id.ok()) return Report(id.status());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  AdCatalog catalog(*o.store);
  const Status st = Action == 0   ? catalog.SetCreativeStatus(*id, CreativeStatus::kPaused)
                    : Action == 1 ? catalog.SetCreativeStatus(*id, CreativeStatus::kActive)
                    : Action == 2 ? catalog.ReviewCreative(*id, ReviewState::kApproved)
                                  : catalog.ReviewCreative(*id, ReviewState::kRejected);
  if (!st.ok()) return Report(st);
  static constexpr const char* kDone[] = {"paused", "active", "approved", "rejected"};
  std::cout << "creative " << *id << " " << kDone[Action] << "\n";
  return kExitOk;
}

// ---- dashboard accounts ----------------------------------------------------------------------

// The password: the first line of standard input (a terminal, a pipe or a file), without its
// line ending. Never a flag, so it does not end up in shell history or `ps`.
Result<std::string> PasswordFromStdin() {
  std::string line;
  if (!std::getline(std::cin, line)) {
    return InvalidArgument("no password on standard input (type it, or pipe it in)");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int AccountCreate(CommandContext& ctx) {
  const bool op = ctx.flags.Has("operator");
  Result<std::int64_t> adv = IdFlag(ctx, "advertiser", !op);
  if (!adv.ok()) return Fail(kExitUsage, "ads account create: " + adv.status().message());
  if (op && *adv != 0) {
    return Fail(kExitUsage, "ads account create: give --advertiser or --operator, not both");
  }
  if (!ctx.flags.Has("email")) return Fail(kExitUsage, "ads account create: --email is required");
  Result<std::string> email = NormalizeEmail(ctx.flags.Get("email"));
  if (!email.ok()) return Fail(kExitUsage, "ads account create: " + email.status().message());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::string> password = PasswordFromStdin();
  if (!password.ok()) return Fail(kExitUsage, "ads account create: " + password.status().message());
  const std::int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  Result<std::int64_t> id = AccountBook(*o.store).Create(
      *email, op ? AccountRole::kOperator : AccountRole::kAdvertiser, *adv, *password, now);
  if (!id.ok()) return Report(id.status());
  std::cout << (op ? "operator" : "advertiser") << " account " << *id << " created for " << *email
            << "\n";
  return kExitOk;
}

int AccountList(CommandContext& ctx) {
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::vector<Account>> all = o.store->ListAccounts();
  if (!all.ok()) return Report(all.status());
  std::vector<std::vector<std::string>> rows = {{"id", "email", "role", "advertiser", "created"}};
  for (const Account& a : *all) {
    rows.push_back({std::to_string(a.id), a.email, std::string(Name(a.role)),
                    a.advertiser_id ? std::to_string(a.advertiser_id) : "-", Day(a.created_us)});
  }
  std::cout << Table(rows);
  return kExitOk;
}

int AccountPassword(CommandContext& ctx) {
  if (!ctx.flags.Has("email")) return Fail(kExitUsage, "ads account password: --email is required");
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::string> password = PasswordFromStdin();
  if (!password.ok()) {
    return Fail(kExitUsage, "ads account password: " + password.status().message());
  }
  if (Status st = AccountBook(*o.store).SetPassword(ctx.flags.Get("email"), *password); !st.ok()) {
    return Report(st);
  }
  std::cout << "password changed\n";
  return kExitOk;
}

// ---- report, verify, adjust ------------------------------------------------------------------

int ReportCommand(CommandContext& ctx) {
  ReportFilter f;
  Result<ReportGrouping> by = ParseReportGrouping(ctx.flags.Get("by", "campaign"));
  auto fill = [&]() -> Status {
    if (!by.ok()) return by.status();
    LUMEN_ASSIGN_OR_RETURN(f.advertiser_id, IdFlag(ctx, "advertiser", false));
    LUMEN_ASSIGN_OR_RETURN(f.campaign_id, IdFlag(ctx, "campaign", false));
    LUMEN_ASSIGN_OR_RETURN(f.creative_id, IdFlag(ctx, "creative", false));
    if (ctx.flags.Has("from")) {
      LUMEN_ASSIGN_OR_RETURN(f.from_us, ParseTime(ctx.flags.Get("from")));
    }
    if (ctx.flags.Has("to")) {
      LUMEN_ASSIGN_OR_RETURN(f.to_us, ParseTime(ctx.flags.Get("to")));
    }
    return Status::Ok();
  };
  if (Status st = fill(); !st.ok()) return Fail(kExitUsage, "ads report: " + st.message());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::vector<ReportRow>> rows = BuildReport(*o.store, *by, f);
  if (!rows.ok()) return Report(rows.status());
  const bool csv = ctx.flags.Has("csv") || ctx.flags.Has("output");
  const std::string text = csv ? ReportToCsv(*rows, *by) : ReportToTable(*rows, *by);
  if (ctx.flags.Has("output")) {
    std::ofstream out(ctx.flags.Get("output"), std::ios::binary);
    out << text;
    if (!out) return Fail(kExitFailure, "cannot write " + ctx.flags.Get("output"));
    std::cout << rows->size() << " rows written to " << ctx.flags.Get("output") << "\n";
  } else {
    std::cout << text;
  }
  return kExitOk;
}

int VerifyCommand(CommandContext& ctx) {
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<VerifyReport> r = VerifyLedger(*o.store);
  if (!r.ok()) return Report(r.status());
  if (!r->ok) {
    std::cout << "ledger INCONSISTENT after " << r->entries << " entries\n";
    if (r->first_bad_seq > 0) std::cout << "first inconsistent entry: " << r->first_bad_seq << "\n";
    std::cout << "problem: " << r->problem << "\n";
    return kExitFailure;
  }
  std::cout << "ledger verified: " << r->entries << " entries, chain intact, postings balanced, "
            << "roll-ups, balances and spend re-derived\n"
            << "head hash: " << (r->head_hash.empty() ? "(empty ledger)" : r->head_hash) << "\n"
            << "billable impressions: " << r->billable << ", billed "
            << FormatNanos(r->billed_nanos) << ", adjustments " << FormatNanos(r->adjustments_nanos)
            << "\n";
  const std::string expect = ctx.flags.Get("expect-head");
  if (!expect.empty() && expect != r->head_hash) {
    std::cout << "head hash differs from the expected " << expect << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

int AdjustCommand(CommandContext& ctx) {
  Result<std::int64_t> campaign = IdFlag(ctx, "campaign", true);
  if (!campaign.ok()) return Report(campaign.status());
  Result<Micros> amount = MoneyFlag(ctx, "amount", true);
  if (!amount.ok()) return Report(amount.status());
  Opened o = OpenStore(ctx);
  if (!o.store) return o.exit_code;
  Result<std::int64_t> seq =
      AdCatalog(*o.store).Adjust(*campaign, MicrosToNanos(*amount), ctx.flags.Get("memo"));
  if (!seq.ok()) return Report(seq.status());
  std::cout << "adjustment recorded as ledger entry " << *seq << "\n";
  return kExitOk;
}

// ---- the command table -----------------------------------------------------------------------

int GroupHelp(CommandContext&) {
  return kExitUsage;  // never reached: groups are dispatched before RunSubcommand
}

std::vector<Subcommand> AdvertiserSubs() {
  return {{.name = "create",
           .summary = "Create an advertiser; prints its id and API key",
           .flags = {{"name", "NAME", "advertiser name"},
                     {"contact", "ADDRESS", "billing contact (e-mail)"},
                     {"currency", "CODE", "ISO 4217 currency of all its amounts (default USD)"}},
           .run = AdvertiserCreate},
          {.name = "list", .summary = "List advertisers", .run = AdvertiserList},
          {.name = "pause",
           .summary = "Stop serving all of an advertiser's campaigns",
           .arguments = "ID",
           .run = AdvertiserSet<AdvertiserStatus::kPaused>},
          {.name = "resume",
           .summary = "Serve an advertiser's campaigns again",
           .arguments = "ID",
           .run = AdvertiserSet<AdvertiserStatus::kActive>}};
}

std::vector<Subcommand> CampaignSubs() {
  return {{.name = "create",
           .summary = "Create a campaign",
           .flags = {{"advertiser", "ID", "owning advertiser"},
                     {"name", "NAME", "campaign name"},
                     {"cpm", "AMOUNT", "bid per thousand billable impressions, e.g. 2.50"},
                     {"budget", "AMOUNT", "total budget"},
                     {"daily-budget", "AMOUNT", "daily budget (UTC days; default none)"},
                     {"start", "DATE", "YYYY-MM-DD[THH:MMZ] (default now)"},
                     {"end", "DATE", "YYYY-MM-DD[THH:MMZ], exclusive (default open-ended)"},
                     {"pacing", "asap|even", "spend as fast as possible or spread over the day"},
                     {"keyword", "[exact:|phrase:|broad:]TEXT", "keyword to target", true},
                     {"negative", "TEXT", "negative keyword (excludes questions with it)", true},
                     {"language", "TAG", "only questions in this language (e.g. en)", true}},
           .run = CampaignCreate},
          {.name = "list",
           .summary = "List campaigns",
           .flags = {{"advertiser", "ID", "only this advertiser's"}},
           .run = CampaignList},
          {.name = "pause",
           .summary = "Pause a campaign",
           .arguments = "ID",
           .run = CampaignSet<CampaignStatus::kPaused>},
          {.name = "resume",
           .summary = "Resume a paused campaign",
           .arguments = "ID",
           .run = CampaignSet<CampaignStatus::kActive>},
          {.name = "end",
           .summary = "End a campaign for good",
           .arguments = "ID",
           .run = CampaignSet<CampaignStatus::kEnded>}};
}

std::vector<Subcommand> CreativeSubs() {
  return {
      {.name = "create",
       .summary = "Create a creative (pending review unless --approve)",
       .flags = {{"campaign", "ID", "owning campaign"},
                 {"title", "TEXT", "headline, at most 60 characters"},
                 {"body", "TEXT", "text, at most 140 characters"},
                 {"display-url", "TEXT", "URL shown to readers, e.g. example.com/shoes"},
                 {"landing-url", "URL", "where a click goes (http:// or https:// only)"},
                 {"approve", "", "mark it reviewed and approved"}},
       .run = CreativeCreate},
      {.name = "list",
       .summary = "List creatives",
       .flags = {{"campaign", "ID", "only this campaign's"}},
       .run = CreativeList},
      {.name = "pause", .summary = "Pause a creative", .arguments = "ID", .run = CreativeSet<0>},
      {.name = "resume", .summary = "Resume a creative", .arguments = "ID", .run = CreativeSet<1>},
      {.name = "approve",
       .summary = "Approve a creative after review",
       .arguments = "ID",
       .run = CreativeSet<2>},
      {.name = "reject", .summary = "Reject a creative", .arguments = "ID", .run = CreativeSet<3>}};
}

std::vector<Subcommand> AccountSubs() {
  return {{.name = "create",
           .summary = "Create a dashboard account; reads its password (10+ characters) from "
                      "the first line of stdin",
           .flags = {{"email", "ADDRESS", "the account's e-mail (its sign-in name)"},
                     {"advertiser", "ID", "the advertiser it acts for"},
                     {"operator", "", "an operator account (sees every advertiser)"}},
           .run = AccountCreate},
          {.name = "list", .summary = "List dashboard accounts", .run = AccountList},
          {.name = "password",
           .summary = "Set an account's password from the first line of stdin",
           .flags = {{"email", "ADDRESS", "the account's e-mail"}},
           .run = AccountPassword}};
}

int Run(CommandContext& ctx) {
  struct Group {
    const char* name;
    const char* summary;
    std::vector<Subcommand> (*subs)();
  };
  static const Group kGroups[] = {
      {"advertiser", "Advertisers: create, list, pause, resume", AdvertiserSubs},
      {"campaign", "Campaigns: create, list, pause, resume, end", CampaignSubs},
      {"creative", "Creatives: create, list, pause, resume, approve, reject", CreativeSubs},
      {"account", "Dashboard accounts: create, list, password", AccountSubs}};
  if (!ctx.raw_args.empty()) {
    for (const Group& g : kGroups) {
      if (ctx.raw_args[0] != g.name) continue;
      const Command group{.name = "ads " + std::string(g.name), .summary = g.summary};
      CommandContext sub{&group, Flags(), ctx.global,
                         std::vector<std::string>(ctx.raw_args.begin() + 1, ctx.raw_args.end())};
      return RunSubcommand(sub, g.subs());
    }
  }
  std::vector<Subcommand> subs;
  for (const Group& g : kGroups)
    subs.push_back({.name = g.name, .summary = g.summary, .run = GroupHelp});
  subs.push_back(
      {.name = "report",
       .summary = "Served/billable impressions, clicks, CTR, spend, eCPM",
       .flags = {{"by", "GROUP", "advertiser, campaign (default), creative, day or hour"},
                 {"advertiser", "ID", "only this advertiser"},
                 {"campaign", "ID", "only this campaign"},
                 {"creative", "ID", "only this creative"},
                 {"from", "DATE", "from this UTC time (inclusive)"},
                 {"to", "DATE", "until this UTC time (exclusive)"},
                 {"csv", "", "CSV instead of a table"},
                 {"output", "FILE", "write CSV to FILE"}},
       .run = ReportCommand});
  subs.push_back({.name = "verify",
                  .summary = "Re-walk the ledger's hash chain, postings and roll-ups (exit 1 if "
                             "inconsistent)",
                  .flags = {{"expect-head", "HASH", "also require this head hash (an anchor)"}},
                  .run = VerifyCommand});
  subs.push_back({.name = "adjust",
                  .summary = "Record a correction: a new adjustment entry (negative = refund)",
                  .flags = {{"campaign", "ID", "campaign to charge or credit"},
                            {"amount", "AMOUNT", "signed amount, e.g. -12.50 for a refund"},
                            {"memo", "TEXT", "why (required)"}},
                  .run = AdjustCommand});
  return RunSubcommand(ctx, subs);
}

}  // namespace

Command AdsCommand() {
  return {.name = "ads",
          .summary = "Manage advertisers, campaigns and creatives; report and verify the ledger",
          .arguments = "",
          .details = "Works on <data_dir>/ads.db. See docs/ADVERTISERS.md.",
          .flags = {},
          .run = Run,
          .has_subcommands = true};
}

}  // namespace lumen::cli
