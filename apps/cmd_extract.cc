// lumen extract: the main content of an HTML file (.html or .html.gz) or URL.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "retrieval/address_policy.h"
#include "retrieval/charset.h"
#include "retrieval/extractor.h"
#include "retrieval/fetcher.h"
#include "retrieval/html_file.h"

namespace lumen::cli {
namespace {

int Run(CommandContext& ctx) {
  if (ctx.flags.positionals().size() != 1) {
    return Fail(kExitUsage, "extract: give one FILE or URL (run 'lumen extract --help')");
  }
  const std::string source = ctx.flags.positionals()[0];
  const std::string format = ctx.flags.Get("format", "text");
  if (format != "text" && format != "json") {
    return Fail(kExitUsage, "extract: --format must be text or json");
  }
  std::string html;
  std::string url;
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0) {
    std::optional<Config> config = ctx.LoadConfig();
    if (!config) return kExitUsage;
    Result<retrieval::FetcherOptions> options = retrieval::FetcherOptions::FromConfig(*config);
    if (!options.ok())
      return Fail(kExitUsage, "configuration error: " + options.status().message());
    Result<retrieval::AddressPolicy> policy =
        retrieval::AddressPolicy::Create(config->GetStringList("fetch.allow_addresses"));
    if (!policy.ok()) return Fail(kExitUsage, "configuration error: " + policy.status().message());
    retrieval::Fetcher fetcher(*options, *policy);
    retrieval::FetchResult r = fetcher.Fetch(source);
    if (!r.ok()) return Fail(kExitFailure, "extract: " + source + ": " + r.status.message());
    html = std::move(r.body);
    url = r.final_url;
  } else {
    Result<std::string> raw = retrieval::ReadPageFile(source);
    if (!raw.ok()) return Fail(kExitFailure, "extract: " + raw.status().message());
    html = retrieval::DecodeToUtf8(*raw, "");
    url = ctx.flags.Get("url", "");
  }
  Result<retrieval::ExtractedPage> page = retrieval::ExtractPage(html, url);
  if (!page.ok()) return Fail(kExitFailure, "extract: " + source + ": " + page.status().message());
  if (format == "text") {
    if (!page->title.empty()) std::cout << page->title << "\n\n";
    std::cout << page->text << "\n";
    return kExitOk;
  }
  nlohmann::json blocks = nlohmann::json::array();
  for (const retrieval::Block& b : page->blocks) {
    nlohmann::json j = {{"kind", std::string(retrieval::BlockKindName(b.kind))},
                        {"text", b.text},
                        {"heading_path", b.heading_path},
                        {"begin", b.begin},
                        {"end", b.end}};
    if (b.level > 0) j["level"] = b.level;
    blocks.push_back(std::move(j));
  }
  nlohmann::json links = nlohmann::json::array();
  for (const retrieval::Link& l : page->links) {
    links.push_back({{"url", l.url}, {"text", l.text}, {"in_main", l.in_main}});
  }
  const nlohmann::json out = {{"url", url},
                              {"title", page->title},
                              {"canonical_url", page->canonical_url},
                              {"description", page->description},
                              {"language", page->language},
                              {"published", page->published},
                              {"modified", page->modified},
                              {"author", page->author},
                              {"site_name", page->site_name},
                              {"headings", page->headings},
                              {"text", page->text},
                              {"blocks", blocks},
                              {"links", links}};
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return kExitOk;
}

}  // namespace

Command ExtractCommand() {
  return {.name = "extract",
          .summary = "Extract the main content of an HTML file or URL",
          .arguments = "FILE_OR_URL",
          .details =
              "Reads a .html or .html.gz file (charset from BOM or <meta>) or fetches an "
              "http(s) URL (with the fetch.* settings and address policy), and prints the "
              "main text, or with --format json the title, dates, blocks and links.",
          .flags = {{"format", "text|json", "output format (default text)"},
                    {"url", "URL", "for a file: the URL it came from (resolves links)"}},
          .run = Run};
}

}  // namespace lumen::cli
