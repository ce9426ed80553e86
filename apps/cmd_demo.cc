// lumen demo: Lumen answering questions over the Python documentation, with one command.
//
// The corpus is the HTML of Debian's python3-doc package. It is served on a loopback port by a
// static file server inside Lumen and crawled over HTTP through the real fetcher (robots.txt,
// address policy, extraction, passages), then embedded and indexed; two fictional advertisers
// are seeded; then the full server starts. Everything lives in <data_dir>/demo, and a file
// there (demo.json) records a finished build so that the next run reuses it and starts in
// seconds. The corpus server keeps running next to the search server, so the sources' links
// open the documentation pages.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "ads/catalog.h"
#include "ads/options.h"
#include "ads/sqlite_store.h"
#include "apps/commands.h"
#include "apps/crawl_support.h"
#include "ranking/hybrid.h"
#include "retrieval/indexer.h"
#include "retrieval/store.h"
#include "web/static_site.h"

namespace lumen::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kDemoFormat = 1;  // bump when the demo's data must be rebuilt
constexpr int kDefaultCorpusPort = 8079;

void Step(int n, const std::string& what) {
  std::cerr << "[" << n << "/5] " << what << std::endl;
}

// The python3-doc HTML directory: /usr/share/doc/python3/html (python3-doc's link) or the
// versioned /usr/share/doc/python3.X/html.
std::optional<fs::path> FindPythonDocs() {
  std::error_code ec;
  std::vector<fs::path> candidates = {"/usr/share/doc/python3/html",
                                      "/usr/share/doc/python3-doc/html"};
  for (const fs::directory_entry& e : fs::directory_iterator("/usr/share/doc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("python3.", 0) == 0) candidates.push_back(e.path() / "html");
  }
  for (const fs::path& dir : candidates) {
    if (fs::is_regular_file(dir / "library" / "csv.html", ec)) return fs::canonical(dir, ec);
  }
  return std::nullopt;
}

// Paths of the documentation that hold no prose worth answering from: sources, scripts,
// generated indexes, the search page and the very long changelog.
std::vector<std::string> CorpusDisallow() {
  return {"/_sources/", "/_static/",    "/_downloads/", "/_images/",
          "/genindex",  "/py-modindex", "/search.html", "/whatsnew/changelog.html"};
}

struct DemoState {
  int format = 0;
  std::string corpus;
  int corpus_port = 0;
  std::int64_t pages = 0;
  std::int64_t passages = 0;
};

fs::path StatePath(const std::string& data_dir) {
  return fs::path(data_dir) / "demo.json";
}

std::optional<DemoState> ReadState(const std::string& data_dir) {
  std::ifstream in(StatePath(data_dir));
  if (!in) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  DemoState s;
  s.format = j.value("format", 0);
  s.corpus = j.value("corpus", "");
  s.corpus_port = j.value("corpus_port", 0);
  s.pages = j.value("pages", std::int64_t{0});
  s.passages = j.value("passages", std::int64_t{0});
  if (s.format != kDemoFormat || s.corpus_port <= 0 || s.pages <= 0) return std::nullopt;
  return s;
}

Status WriteState(const std::string& data_dir, const DemoState& s) {
  const nlohmann::json j = {{"format", kDemoFormat},
                            {"corpus", s.corpus},
                            {"corpus_port", s.corpus_port},
                            {"pages", s.pages},
                            {"passages", s.passages}};
  const fs::path path = StatePath(data_dir);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out.flush()) return IoError("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return IoError("cannot write " + path.string() + ": " + ec.message());
  return Status::Ok();
}

// Crawls the corpus server into the store (again from the start when `refresh`).
Result<retrieval::CrawlSummary> CrawlCorpus(const Config& config, retrieval::Store& store,
                                            const std::string& base_url, int max_pages,
                                            bool refresh, Logger& log) {
  LUMEN_ASSIGN_OR_RETURN(CrawlSettings settings, CrawlSettingsFromConfig(config));
  settings.crawl.same_host = true;
  settings.crawl.max_pages = max_pages;
  settings.crawl.max_depth = 8;
  settings.crawl.concurrency = 8;
  settings.crawl.refresh = refresh;
  settings.fetch.max_connections = std::max(settings.fetch.max_connections, 8);
  settings.fetch.max_per_host = 8;
  settings.fetch.per_host_delay_ms = 0;  // our own server on loopback: no need for politeness
  retrieval::Fetcher fetcher(settings.fetch, settings.policy);
  retrieval::Crawler crawler(store, fetcher, settings.crawl, log);
  Result<retrieval::CrawlSummary> summary = [&] {
    StopOnSignal interrupt;
    return crawler.Run({base_url + "/index.html", base_url + "/contents.html"}, interrupt.stop(),
                       CrawlProgressPrinter(log));
  }();
  EndProgressLine();
  return summary;
}

struct DemoCampaign {
  const char* name;
  std::vector<const char*> keywords;
  const char* title;
  const char* body;
  const char* display_url;
  const char* landing_url;
};

// Two clearly fictional advertisers (example.com/.org are reserved for examples, RFC 2606).
Status SeedAdvertisers(const Config& config) {
  LUMEN_ASSIGN_OR_RETURN(ads::AdsOptions options, ads::AdsOptions::FromConfig(config));
  std::error_code ec;
  fs::create_directories(fs::path(options.db_path).parent_path(), ec);
  LUMEN_ASSIGN_OR_RETURN(
      std::unique_ptr<ads::SqliteStore> store,
      ads::SqliteStore::Open(options.db_path, {.durability = options.durability}));
  ads::AdCatalog catalog(*store);
  LUMEN_ASSIGN_OR_RETURN(std::vector<ads::Advertiser> existing, catalog.Advertisers());
  struct Seed {
    const char* name;
    const char* contact;
    std::vector<DemoCampaign> campaigns;
  };
  const std::vector<Seed> seeds = {
      {"Fictional Snake School (demo advertiser)",
       "billing@example.com",
       {{"Python courses",
         {"python", "phrase:python tutorial", "list comprehension", "decorator", "class"},
         "Learn Python with Fictional Snake School",
         "A made-up course used by the Lumen demo. Lessons on functions, classes and more.",
         "example.com/snake-school",
         "https://example.com/snake-school"}}},
      {"Imaginary Data Tools Ltd (demo advertiser)",
       "ads@example.org",
       {{"Data files",
         {"csv", "json", "phrase:read a file", "sqlite", "spreadsheet"},
         "Imaginary Data Tools: tidy your CSV files",
         "Demo ad from a company that does not exist. Clean, convert and check data files.",
         "example.org/data-tools",
         "https://example.org/data-tools"},
        {"Async and networking",
         {"asyncio", "socket", "http", "phrase:web server"},
         "Imaginary Data Tools: async made calm",
         "Demo ad for a product that does not exist, shown next to asyncio questions.",
         "example.org/async",
         "https://example.org/async"}}}};
  for (const Seed& seed : seeds) {
    const bool seeded = std::any_of(existing.begin(), existing.end(),
                                    [&](const ads::Advertiser& a) { return a.name == seed.name; });
    if (seeded) continue;
    ads::Advertiser a;
    a.name = seed.name;
    a.contact = seed.contact;
    LUMEN_ASSIGN_OR_RETURN(ads::AdCatalog::NewAdvertiser adv, catalog.CreateAdvertiser(a));
    for (const DemoCampaign& dc : seed.campaigns) {
      ads::Campaign c;
      c.advertiser_id = adv.id;
      c.name = dc.name;
      c.cpm_bid_micros = 2 * ads::kMicrosPerUnit;  // 2.00 per thousand impressions
      c.daily_budget_micros = 50 * ads::kMicrosPerUnit;
      c.total_budget_micros = 1000 * ads::kMicrosPerUnit;
      for (const char* spec : dc.keywords) {
        LUMEN_ASSIGN_OR_RETURN(ads::Keyword k, ads::ParseKeyword(spec));
        c.targeting.keywords.push_back(k);
      }
      LUMEN_ASSIGN_OR_RETURN(std::int64_t campaign_id, catalog.CreateCampaign(c));
      ads::Creative cr;
      cr.campaign_id = campaign_id;
      cr.title = dc.title;
      cr.body = dc.body;
      cr.display_url = dc.display_url;
      cr.landing_url = dc.landing_url;
      LUMEN_RETURN_IF_ERROR(catalog.CreateCreative(cr, /*approve=*/true).status());
    }
  }
  return Status::Ok();
}

int Run(CommandContext& ctx) {
  if (!ctx.flags.positionals().empty())
    return Fail(kExitUsage, "demo takes no arguments (see lumen demo --help)");
  // The demo keeps its data apart from the user's own: <data_dir>/demo.
  std::optional<Config> base = ctx.LoadConfig();
  if (!base) return kExitUsage;
  const std::string data_dir =
      (fs::path(Config::ExpandHome(base->GetString("data_dir"))) / "demo").string();
  ctx.global.overrides.emplace_back("data_dir", data_dir);
  if (ctx.flags.Has("port"))
    ctx.global.overrides.emplace_back("server.port", ctx.flags.Get("port"));
  std::vector<std::string> allow = base->GetStringList("fetch.allow_addresses");
  allow.push_back("127.0.0.1");
  std::string allow_list;
  for (const std::string& a : allow) allow_list += (allow_list.empty() ? "" : ",") + a;
  ctx.global.overrides.emplace_back("fetch.allow_addresses", allow_list);
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  Logger log = CommandContext::MakeLogger(*config);

  Result<long long> max_pages = ctx.flags.GetInt("max-pages", 2000);
  if (!max_pages.ok() || *max_pages < 1 || *max_pages > 100000)
    return Fail(kExitUsage, "demo: --max-pages must be a number from 1 to 100000");
  Result<long long> corpus_port = ctx.flags.GetInt("corpus-port", kDefaultCorpusPort);
  if (!corpus_port.ok() || *corpus_port < 0 || *corpus_port > 65535)
    return Fail(kExitUsage,
                "demo: --corpus-port must be a port number (0..65535, 0 = any free port)");

  std::optional<DemoState> state;
  if (!ctx.flags.Has("rebuild")) state = ReadState(data_dir);
  std::optional<fs::path> corpus;
  if (ctx.flags.Has("corpus")) {
    corpus = fs::path(ctx.flags.Get("corpus"));
  } else if (state) {
    corpus = fs::path(state->corpus);
  } else {
    corpus = FindPythonDocs();
  }
  std::error_code ec;
  if (!corpus || !fs::is_directory(*corpus, ec)) {
    return Fail(kExitFailure,
                "demo: the demo corpus is the Python documentation of Debian's python3-doc "
                "package and it is not installed: run `sudo apt-get install python3-doc` (or "
                "./lumen.sh demo, which installs it), or give another HTML folder with --corpus");
  }
  fs::create_directories(data_dir, ec);
  if (ec) return Fail(kExitFailure, "demo: cannot create " + data_dir + ": " + ec.message());

  Step(1, "serving the corpus " + corpus->string() + " on a loopback port");
  web::StaticSite site({.root = corpus->string(),
                        .host = "127.0.0.1",
                        .port = state ? state->corpus_port : static_cast<int>(*corpus_port),
                        .disallow = CorpusDisallow()});
  if (Status s = site.Start(); !s.ok()) {
    return Fail(kExitFailure,
                "demo: " + s.message() + (state ? "" : "; choose another port with --corpus-port"));
  }
  std::cerr << "      " << site.base_url() << "/ (links in the answers' sources point here)"
            << std::endl;

  if (state) {
    std::cerr << "      reusing the demo data in " << data_dir << " (" << state->pages << " pages, "
              << state->passages << " passages; --rebuild starts over)" << std::endl;
    Step(2, "crawl: done before");
    // Vectors of another embedder (the default changed since this data was built) would stop
    // the server with "run lumen index --rebuild": the demo owns its data, so it re-embeds.
    auto embedder = retrieval::CreateEmbedder(*config);
    if (!embedder.ok()) return Fail(kExitFailure, "demo: " + embedder.status().message());
    auto existing = retrieval::OpenVectorIndex(**embedder, data_dir);
    if (existing.ok() || existing.status().code() != StatusCode::kInvalidArgument) {
      Step(3, "index: done before");
    } else {
      Step(3, "index: the embedder changed since the last run; embedding the passages again");
      auto store = retrieval::Store::Open(data_dir, ranking::StoreOptionsFromConfig(*config));
      if (!store.ok()) return Fail(kExitFailure, "demo: " + store.status().message());
      auto report = retrieval::UpdateVectorIndex(**store, **embedder, data_dir,
                                                 IndexerOptionsFromConfig(*config, true));
      EndProgressLine();
      if (!report.ok()) return Fail(kExitFailure, "demo: index: " + report.status().message());
      std::printf("indexed %lld passages in %.1f s\n", static_cast<long long>(report->total),
                  report->seconds);
    }
    Step(4, "advertisers: seeded before");
  } else {
    Step(2, "crawling " + site.base_url() + " through the fetcher (robots.txt, extraction)");
    auto store = retrieval::Store::Open(data_dir, ranking::StoreOptionsFromConfig(*config));
    if (!store.ok()) return Fail(kExitFailure, "demo: " + store.status().message());
    Result<retrieval::CrawlSummary> summary =
        CrawlCorpus(*config, **store, site.base_url(), static_cast<int>(*max_pages),
                    ctx.flags.Has("rebuild"), log);
    if (!summary.ok()) return Fail(kExitFailure, "demo: crawl: " + summary.status().message());
    PrintCrawlSummary(*summary);
    if (summary->interrupted) {
      std::printf("interrupted: run lumen demo again to resume\n");
      return kExitFailure;
    }

    Step(3, "embedding and indexing the passages");
    auto embedder = retrieval::CreateEmbedder(*config);
    if (!embedder.ok()) return Fail(kExitFailure, "demo: " + embedder.status().message());
    const retrieval::IndexerOptions options =
        IndexerOptionsFromConfig(*config, ctx.flags.Has("rebuild"));
    auto report = retrieval::UpdateVectorIndex(**store, **embedder, data_dir, options);
    EndProgressLine();
    if (!report.ok()) return Fail(kExitFailure, "demo: index: " + report.status().message());
    std::printf("indexed %lld passages in %.1f s\n", static_cast<long long>(report->total),
                report->seconds);

    Step(4, "seeding two fictional advertisers");
    if (Status s = SeedAdvertisers(*config); !s.ok())
      return Fail(kExitFailure, "demo: advertisers: " + s.message());

    Result<std::int64_t> pages = (*store)->CountPages();
    DemoState done{.format = kDemoFormat,
                   .corpus = corpus->string(),
                   .corpus_port = site.port(),
                   .pages = pages.ok() ? *pages : summary->progress.done,
                   .passages = report->total};
    if (Status s = WriteState(data_dir, done); !s.ok()) return Fail(kExitFailure, s.message());
  }

  Step(5, "starting the search server");
  const int code = ServeUntilStopped(
      *config,
      "Lumen demo ready: open the address above and ask, for example, \"how do I read "
      "a CSV file?\" (Ctrl-C stops)");
  site.Stop();
  return code;
}

}  // namespace

Command DemoCommand() {
  return {.name = "demo",
          .summary = "Answer questions over the Python documentation (one command)",
          .arguments = "",
          .details =
              "Serves the Python documentation (Debian's python3-doc) on a loopback port, "
              "crawls it through the fetcher, indexes it, seeds two fictional advertisers and "
              "starts the server (default http://127.0.0.1:8080). Data lives in "
              "<data_dir>/demo; a second run reuses it and starts in seconds.",
          .flags = {{"port", "PORT", "port of the search server (server.port)"},
                    {"corpus", "DIR", "serve and crawl this HTML folder instead"},
                    {"corpus-port", "PORT", "loopback port of the corpus server (8079)"},
                    {"max-pages", "N", "crawl at most N pages (2000)"},
                    {"rebuild", "", "crawl and index again from scratch"}},
          .run = Run};
}

}  // namespace lumen::cli
