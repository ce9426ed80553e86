#include "web/search_stack.h"

#include <cstdlib>

#include "llm/answer/local_backend.h"
#include "llm/answer/remote_backend.h"

namespace lumen::web {

Result<std::unique_ptr<answer::ModelBackend>> BackendFromConfig(const Config& config) {
  const std::string kind = config.GetString("answer.backend");
  if (kind == "none") return std::unique_ptr<answer::ModelBackend>();
  if (kind == "local") {
    LUMEN_ASSIGN_OR_RETURN(answer::LocalBackendOptions local,
                           answer::LocalBackendOptionsFromConfig(config));
    LUMEN_ASSIGN_OR_RETURN(auto backend, answer::LocalBackend::Open(std::move(local)));
    return std::unique_ptr<answer::ModelBackend>(std::move(backend));
  }
  if (kind != "remote") {
    return config.ValueError("answer.backend",
                             "must be \"none\", \"local\" or \"remote\", got \"" + kind + "\"");
  }
  answer::RemoteBackendOptions o;
  o.base_url = config.GetString("answer.remote_url");
  if (o.base_url.rfind("http://", 0) != 0 && o.base_url.rfind("https://", 0) != 0) {
    return config.ValueError("answer.remote_url",
                             "must be an http(s) URL when answer.backend is \"remote\"");
  }
  o.model = config.GetString("answer.remote_model");
  const std::string key_env = config.GetString("answer.remote_api_key_env");
  if (!key_env.empty()) {
    if (const char* key = std::getenv(key_env.c_str()); key != nullptr) o.api_key = key;
  }
  o.connect_timeout_ms = static_cast<int>(config.GetInt("answer.remote_connect_timeout_ms"));
  o.timeout_ms = static_cast<int>(config.GetInt("answer.remote_timeout_ms"));
  o.max_retries = static_cast<int>(config.GetInt("answer.remote_retries"));
  if (o.connect_timeout_ms < 1 || o.timeout_ms < 1 || o.max_retries < 0) {
    return config.ValueError("answer.remote_timeout_ms", "timeouts must be positive, retries >= 0");
  }
  return std::unique_ptr<answer::ModelBackend>(std::make_unique<answer::RemoteBackend>(o));
}

Result<SearchStack> SearchStack::Open(const Config& config, Logger& log) {
  SearchStack s;
  const bool live_search = config.GetString("search.provider") != "none";
  if (live_search) {
    // Checked before anything is created: a bad provider setting leaves nothing on disk.
    if (Result<retrieval::SearchProviderOptions> o =
            retrieval::SearchProviderOptions::FromConfig(config);
        !o.ok()) {
      return o.status();
    }
    // Live search stores what it reads: an empty data dir gets its store now.
    Result<std::unique_ptr<retrieval::Store>> store = retrieval::Store::Open(
        Config::ExpandHome(config.GetString("data_dir")), ranking::StoreOptionsFromConfig(config));
    if (!store.ok()) return store.status();
  }
  Result<std::unique_ptr<ranking::Searcher>> searcher = ranking::Searcher::Open(config);
  if (searcher.ok()) {
    s.searcher = std::move(*searcher);
    s.retriever = s.searcher->retriever.get();
    if (!s.searcher->warning.empty()) s.notes.push_back(s.searcher->warning);
  } else if (searcher.status().code() == StatusCode::kNotFound) {
    s.notes.push_back("no passages to answer from yet: " + searcher.status().message());
  } else {
    return searcher.status();
  }

  if (live_search && s.searcher) {
    Result<std::unique_ptr<retrieval::LiveSearch>> live =
        retrieval::LiveSearchFromConfig(config, *s.searcher->store);
    if (!live.ok()) return live.status();
    s.live = std::move(*live);
    // Pages read for a question get their vectors at once, so dense retrieval ranks them for
    // that same question (and the next) like the rest of the index.
    s.live->fetcher().set_on_stored(
        [searcher = s.searcher.get()](const retrieval::UpsertResult& page) {
          return searcher->IndexStoredPage(page);
        });
  }

  Result<std::unique_ptr<answer::ModelBackend>> backend = BackendFromConfig(config);
  if (!backend.ok()) return backend.status();
  s.backend = std::move(*backend);
  if (!s.backend) s.notes.push_back("answers are extractive (answer.backend is \"none\")");

  Result<ads::AdsOptions> ads_options = ads::AdsOptions::FromConfig(config);
  if (!ads_options.ok()) return ads_options.status();
  if (!ads_options->enabled) {
    s.notes.push_back("sponsored slots off (ads.enabled is false)");
  } else {
    Result<std::unique_ptr<ads::AdServer>> ads = ads::AdServer::Open(*ads_options);
    if (!ads.ok()) {
      s.notes.push_back("sponsored slots off: " + ads.status().ToString());
    } else {
      s.ads = std::move(*ads);
    }
  }
  for (const std::string& note : s.notes) log.Warn("degraded", {{"what", note}});
  return s;
}

}  // namespace lumen::web
