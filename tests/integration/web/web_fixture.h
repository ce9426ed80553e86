// A data dir for tests and benchmarks that run a real `lumen serve`: a tiny documentation corpus
// in lumen.db (SQLite + FTS5) and, optionally, one fictional advertiser in ads.db whose approved
// creative targets CSV questions, with a dashboard account.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>

#include "ads/account.h"
#include "ads/catalog.h"
#include "ads/sqlite_store.h"
#include "retrieval/store.h"

namespace lumen::test_support {

struct WebFixture {
  std::int64_t advertiser_id = 0;
  std::int64_t campaign_id = 0;
  std::int64_t creative_id = 0;
  std::string account_email = "alice@tabular.test";
  std::string account_password = "correct horse battery";
};

// The tiny documentation corpus: three pages (csv, file I/O, json), one passage each. Returns an
// error message, "" on success.
inline std::string SeedDocs(retrieval::Store& store) {
  struct Doc {
    const char* url;
    const char* title;
    const char* heading;
    const char* text;
  };
  const Doc docs[] = {
      {"http://docs.test/library/csv.html", "csv — CSV File Reading and Writing", "Module Contents",
       "The csv module implements classes to read and write tabular data in CSV format. The "
       "csv.reader function returns a reader object which will iterate over lines in the given "
       "CSV file. Each row read from the csv file is returned as a list of strings."},
      {"http://docs.test/tutorial/inputoutput.html", "Input and Output",
       "Reading and Writing Files",
       "open() returns a file object, and is most commonly used with two arguments: "
       "open(filename, mode). It is good practice to use the with keyword when dealing with "
       "file objects."},
      {"http://docs.test/library/json.html", "json — JSON encoder and decoder", "Basic Usage",
       "JSON is a lightweight data interchange format. Use json.dumps to serialize an object to "
       "a JSON formatted string and json.loads to parse one."},
  };
  for (const Doc& d : docs) {
    retrieval::PageRecord page;
    page.url = d.url;
    page.title = d.title;
    page.site = "docs.test";
    page.text = d.text;
    page.content_hash = std::to_string(std::hash<std::string>{}(d.text));
    retrieval::Passage p;
    p.heading_path = d.heading;
    p.begin = 0;
    p.end = page.text.size();
    p.text = page.text;
    auto r = store.UpsertPage(page, std::span<const retrieval::Passage>(&p, 1));
    if (!r.ok()) return r.status().ToString();
  }
  return "";
}

// Fills `dir` (created if needed). Returns an error message, "" on success.
inline std::string SeedWebDataDir(const std::filesystem::path& dir, bool with_ads,
                                  WebFixture* out = nullptr) {
  std::filesystem::create_directories(dir);
  {
    auto store = retrieval::Store::Open(dir.string());
    if (!store.ok()) return store.status().ToString();
    if (std::string e = SeedDocs(**store); !e.empty()) return e;
  }
  if (!with_ads) return "";
  auto ad_store = ads::SqliteStore::Open((dir / "ads.db").string());
  if (!ad_store.ok()) return ad_store.status().ToString();
  ads::AdCatalog catalog(**ad_store);
  WebFixture f;
  ads::Advertiser a;
  a.name = "Tabular Tools (fictional)";
  a.contact = "ads@tabular.test";
  auto adv = catalog.CreateAdvertiser(a);
  if (!adv.ok()) return adv.status().ToString();
  f.advertiser_id = adv->id;
  ads::Campaign c;
  c.advertiser_id = adv->id;
  c.name = "csv tools";
  c.cpm_bid_micros = 2'500'000;
  c.total_budget_micros = 100'000'000;
  c.targeting.keywords = {{"csv", ads::MatchType::kBroad}};
  auto campaign = catalog.CreateCampaign(c);
  if (!campaign.ok()) return campaign.status().ToString();
  f.campaign_id = *campaign;
  ads::Creative cr;
  cr.campaign_id = *campaign;
  cr.title = "Clean CSV files in seconds";
  cr.body = "A fictional tool for tidy tables.";
  cr.display_url = "tabular.test";
  cr.landing_url = "https://tabular.test/landing";
  auto creative = catalog.CreateCreative(cr, /*approve=*/true);
  if (!creative.ok()) return creative.status().ToString();
  f.creative_id = *creative;
  auto account = ads::AccountBook(**ad_store)
                     .Create(f.account_email, ads::AccountRole::kAdvertiser, f.advertiser_id,
                             f.account_password, 1);
  if (!account.ok()) return account.status().ToString();
  if (out != nullptr) *out = f;
  return "";
}

}  // namespace lumen::test_support
