#include "web/chat_completions.h"

#include <chrono>
#include <cmath>

#include <nlohmann/json.hpp>

namespace lumen::web {
namespace {

using Json = nlohmann::json;

constexpr const char* kModelId = "lumen";

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string IsoDate(std::int64_t unix_seconds) {
  if (unix_seconds <= 0) return "";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

Json Citations(const SearchResult& r) {
  Json urls = Json::array();
  for (const ShownSource& s : r.sources) urls.push_back(s.source.url);
  return urls;
}

Json SearchResults(const SearchResult& r) {
  Json out = Json::array();
  for (const ShownSource& s : r.sources) {
    const std::string date = IsoDate(s.source.published);
    out.push_back({{"title", s.source.title},
                   {"url", s.source.url},
                   {"snippet", s.snippet},
                   {"date", date.empty() ? Json() : Json(date)}});
  }
  return out;
}

// Fills `request` from an OpenAI messages array; an error message when malformed.
std::string ReadMessages(const Json& messages, SearchRequest& request) {
  if (!messages.is_array() || messages.empty()) return "\"messages\" must be a non-empty array";
  std::string last_user;
  for (const Json& m : messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      return "each message needs a string \"role\"";
    }
    std::string content;
    if (m.contains("content") && m["content"].is_string()) {
      content = m["content"].get<std::string>();
    } else if (m.contains("content") && m["content"].is_array()) {  // content parts
      for (const Json& part : m["content"]) {
        if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
            part["text"].is_string()) {
          content += part["text"].get<std::string>();
        }
      }
    } else {
      return "each message needs \"content\" (a string or text parts)";
    }
    if (m["role"] == "user") last_user = content;
  }
  if (last_user.empty()) return "no user message to answer";
  request.query = last_user;
  return "";
}

}  // namespace

void RegisterChatCompletions(HttpServer& server, QueryService& service, RateLimiter& limiter) {
  server.Get("/v1/models", "/v1/models", [](const httplib::Request&, httplib::Response& res) {
    const Json body = {
        {"object", "list"},
        {"data", {{{"id", kModelId}, {"object", "model"}, {"created", 0}, {"owned_by", "lumen"}}}}};
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    "application/json");
  });

  server.Post(
      "/v1/chat/completions", "/v1/chat/completions",
      [&service, &limiter](const httplib::Request& req, httplib::Response& res) {
        const RateLimiter::Decision d = limiter.Take(req.remote_addr);
        if (!d.allowed) {
          res.set_header("Retry-After",
                         std::to_string(static_cast<long long>(std::ceil(d.retry_after_seconds))));
          SetJsonError(res, 429, "rate_limited", "too many requests");
          return;
        }
        const Json body = Json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
          SetJsonError(res, 400, "invalid_json", "the request body must be a JSON object");
          return;
        }
        SearchRequest sr;
        if (std::string err = ReadMessages(body.value("messages", Json()), sr); !err.empty()) {
          SetJsonError(res, 400, "invalid_request", err);
          return;
        }
        sr.ad_context.client = {req.get_header_value("User-Agent"), req.remote_addr};
        const std::string model = body.contains("model") && body["model"].is_string()
                                      ? body["model"].get<std::string>()
                                      : kModelId;
        const bool stream =
            body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
        const std::string id = "chatcmpl-" + NewRequestId();
        const std::int64_t created = Now();

        if (!stream) {
          Result<SearchResponse> r = service.Search(sr);
          if (!r.ok()) {
            SetJsonError(res, 400, "invalid_request", r.status().message());
            return;
          }
          const SearchResult& result = *r->result;
          const Json out = {
              {"id", id},
              {"object", "chat.completion"},
              {"created", created},
              {"model", model},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", result.answer.text}}},
                 {"finish_reason", "stop"}}}},
              {"usage", {{"prompt_tokens", 0}, {"completion_tokens", 0}, {"total_tokens", 0}}},
              {"citations", Citations(result)},
              {"search_results", SearchResults(result)}};
          res.set_content(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                          "application/json");
          return;
        }
        res.set_header("Cache-Control", "no-store");
        res.set_chunked_content_provider("text/event-stream", [&service, sr, id, created, model](
                                                                  std::size_t,
                                                                  httplib::DataSink& sink) {
          auto chunk = [&](const Json& delta, const Json& finish, const SearchResult* r) {
            Json c = {{"id", id},
                      {"object", "chat.completion.chunk"},
                      {"created", created},
                      {"model", model},
                      {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}};
            if (r != nullptr) {
              c["citations"] = Citations(*r);
              c["search_results"] = SearchResults(*r);
            }
            const std::string line =
                "data: " + c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                "\n\n";
            sink.write(line.data(), line.size());
          };
          chunk({{"role", "assistant"}, {"content", ""}}, nullptr, nullptr);
          const SearchResult* sources = nullptr;
          Result<SearchResponse> r = service.Search(sr, [&](const SearchEvent& e) {
            if (e.kind == SearchEvent::kSources) sources = e.result;
            if (e.kind == SearchEvent::kDelta && !e.delta.empty()) {
              chunk({{"content", e.delta}}, nullptr, sources);
            }
          });
          if (r.ok()) {
            chunk(Json::object(), "stop", r->result.get());
          } else {
            const std::string err =
                "data: " +
                Json{{"error", {{"code", "invalid_request"}, {"message", r.status().message()}}}}
                    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                "\n\n";
            sink.write(err.data(), err.size());
          }
          const std::string done = "data: [DONE]\n\n";
          sink.write(done.data(), done.size());
          sink.done();
          return true;
        });
      });
}

}  // namespace lumen::web
