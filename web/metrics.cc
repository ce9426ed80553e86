#include "web/metrics.h"

#include <cstdio>

namespace lumen::web {

HttpMetrics::HttpMetrics()
    : start_time_seconds_(
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count()) {}

void HttpMetrics::Observe(const std::string& route, const std::string& method, int status,
                          double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, method, status}];
  Histogram& h = latency_[route];
  ++h.count;
  h.sum += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
}

void HttpMetrics::InFlightAdd(int delta) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_ += delta;
}

std::string EscapeLabel(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {
std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
}  // namespace

std::string HttpMetrics::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP lumen_build_info Lumen version.\n# TYPE lumen_build_info gauge\n";
  out += "lumen_build_info{version=\"" LUMEN_VERSION "\"} 1\n";
  out += "# HELP lumen_process_start_time_seconds Start time of the process since the epoch.\n";
  out += "# TYPE lumen_process_start_time_seconds gauge\n";
  out += "lumen_process_start_time_seconds " + Num(start_time_seconds_) + "\n";
  out += "# HELP lumen_http_requests_in_flight Requests being handled now.\n";
  out += "# TYPE lumen_http_requests_in_flight gauge\n";
  out += "lumen_http_requests_in_flight " + std::to_string(in_flight_) + "\n";
  out += "# HELP lumen_http_requests_total HTTP requests by route, method and status code.\n";
  out += "# TYPE lumen_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, code] = key;
    out += "lumen_http_requests_total{route=\"" + EscapeLabel(route) + "\",method=\"" +
           EscapeLabel(method) + "\",code=\"" + std::to_string(code) + "\"} " + std::to_string(n) +
           "\n";
  }
  out += "# HELP lumen_http_request_duration_seconds Time to handle a request, by route.\n";
  out += "# TYPE lumen_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    const std::string label = "route=\"" + EscapeLabel(route) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += "lumen_http_request_duration_seconds_bucket{" + label + ",le=\"" + Num(kBuckets[i]) +
             "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "lumen_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "lumen_http_request_duration_seconds_sum{" + label + "} " + Num(h.sum) + "\n";
    out += "lumen_http_request_duration_seconds_count{" + label + "} " + std::to_string(h.count) +
           "\n";
  }
  return out;
}

}  // namespace lumen::web
