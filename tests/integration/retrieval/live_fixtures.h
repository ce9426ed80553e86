// Loopback servers for the live-search tests and benchmark (cpp-httplib, free ports):
//
//   PageSite      a small web site: /robots.txt (disallows /private/), /article/<name> (pages
//                 added with AddArticle), /slow (headers at once, then a byte every 100 ms for
//                 ten seconds: a page that cannot make any budget), /private/<name>
//   ProviderFake  speaks the SearXNG JSON API (/search) and Brave's (/res/v1/web/search) with a
//                 settable mode — results, 403 (SearXNG with JSON output disabled), 429 with
//                 Retry-After, no results with unresponsive_engines — and records what it was
//                 asked. Used where a real searx cannot produce the case (searx 1.1.0 has no
//                 search.formats switch and no rate limiter) and for Brave, which has no
//                 self-hostable server.
//
// Thread-safe; slow routes end when the server stops.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace lumen::test_support {

class LoopbackServer {
 public:
  LoopbackServer() = default;
  virtual ~LoopbackServer() { Stop(); }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void Stop() {
    stopping_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 protected:
  void Start() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    server_.set_keep_alive_max_count(1);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  httplib::Server server_;
  std::atomic<bool> stopping_{false};

 private:
  std::thread thread_;
  int port_ = 0;
};

inline std::string ArticlePage(const std::string& title, const std::string& body,
                               const std::string& published = "") {
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + title + "</title>";
  if (!published.empty())
    html += "<meta property=\"article:published_time\" content=\"" + published + "\">";
  html += "</head><body><nav><a href=\"/\">Home</a></nav><article><h1>" + title + "</h1>";
  for (int i = 0; i < 3; ++i) html += "<p>" + body + "</p>";
  return html + "</article><footer>Fixture footer</footer></body></html>";
}

class PageSite : public LoopbackServer {
 public:
  PageSite() {
    using httplib::Request;
    using httplib::Response;
    server_.Get("/robots.txt", [](const Request&, Response& res) {
      res.set_content("User-agent: *\nDisallow: /private/\n", "text/plain");
    });
    server_.Get(R"(/(article|private)/([a-z0-9-]+))", [this](const Request& req, Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++hits_[req.path];
      auto it = pages_.find(req.matches[2]);
      if (it == pages_.end()) {
        res.status = 404;
        return;
      }
      res.set_content(it->second, "text/html; charset=utf-8");
    });
    server_.Get("/slow", [this](const Request& req, Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++hits_[req.path];
      }
      res.set_content_provider(1 << 20, "text/html",
                               [this](size_t off, size_t, httplib::DataSink& sink) {
                                 if (stopping_ || off > 100) return false;
                                 std::this_thread::sleep_for(std::chrono::milliseconds(100));
                                 return sink.write("<p>", 3);
                               });
    });
    Start();
  }
  void AddArticle(const std::string& name, const std::string& html) {
    std::lock_guard<std::mutex> lock(mu_);
    pages_[name] = html;
  }
  int Hits(const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    return hits_[path];
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> pages_;
  std::map<std::string, int> hits_;
};

struct FakeHit {
  std::string url, title, content, published;
};

class ProviderFake : public LoopbackServer {
 public:
  enum class Mode { kResults, kForbidden, kRateLimited, kNoResults };

  ProviderFake() {
    using httplib::Request;
    using httplib::Response;
    server_.Get("/search", [this](const Request& req, Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      last_params_.clear();
      for (const auto& [k, v] : req.params) last_params_[k] = v;
      switch (mode_) {
        case Mode::kForbidden:
          res.status = 403;
          res.set_content("403 Forbidden", "text/html");
          return;
        case Mode::kRateLimited:
          res.status = 429;
          res.set_header("Retry-After", "30");
          res.set_content("Too Many Requests", "text/html");
          return;
        case Mode::kNoResults:
          res.set_content(R"({"query":"x","number_of_results":0,"results":[],"answers":[],)"
                          R"("unresponsive_engines":[["google","timeout"],["bing","CAPTCHA"]]})",
                          "application/json");
          return;
        case Mode::kResults: break;
      }
      nlohmann::json out = {{"query", req.get_param_value("q")},
                            {"results", nlohmann::json::array()},
                            {"unresponsive_engines", nlohmann::json::array()}};
      for (const FakeHit& h : hits_) {
        out["results"].push_back(
            {{"url", h.url},
             {"title", h.title},
             {"content", h.content},
             {"engine", "fake"},
             {"publishedDate",
              h.published.empty() ? nlohmann::json() : nlohmann::json(h.published)}});
      }
      res.set_content(out.dump(), "application/json");
    });
    server_.Get("/res/v1/web/search", [this](const Request& req, Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      last_params_.clear();
      for (const auto& [k, v] : req.params) last_params_[k] = v;
      last_token_ = req.get_header_value("X-Subscription-Token");
      if (last_token_ != "test-key") {
        res.status = 401;
        res.set_content(R"({"type":"ErrorResponse"})", "application/json");
        return;
      }
      if (mode_ == Mode::kRateLimited) {
        res.status = 429;
        res.set_header("X-RateLimit-Reset", "1, 1419704");
        res.set_content(R"({"type":"ErrorResponse"})", "application/json");
        return;
      }
      nlohmann::json results = nlohmann::json::array();
      for (const FakeHit& h : hits_) {
        results.push_back({{"url", h.url},
                           {"title", h.title},
                           {"description", h.content},
                           {"page_age", h.published}});
      }
      res.set_content(nlohmann::json{{"type", "search"}, {"web", {{"results", results}}}}.dump(),
                      "application/json");
    });
    Start();
  }
  void SetMode(Mode m) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = m;
  }
  void SetHits(std::vector<FakeHit> hits) {
    std::lock_guard<std::mutex> lock(mu_);
    hits_ = std::move(hits);
  }
  int requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::string Param(const std::string& k) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = last_params_.find(k);
    return it == last_params_.end() ? "" : it->second;
  }
  std::string token() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_token_;
  }

 private:
  std::mutex mu_;
  Mode mode_ = Mode::kResults;
  std::vector<FakeHit> hits_;
  int requests_ = 0;
  std::map<std::string, std::string> last_params_;
  std::string last_token_;
};

}  // namespace lumen::test_support
