// Request metrics in Prometheus text exposition format (version 0.0.4):
//
//   lumen_http_requests_total{route="/healthz",method="GET",code="200"} 12
//   lumen_http_request_duration_seconds_bucket{route="/healthz",le="0.005"} 12
//   ...
//
// Routes are the registered patterns (not raw paths), so label cardinality stays bounded;
// requests that match no route are counted under route="unmatched". Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace lumen::web {

class HttpMetrics {
 public:
  // Upper bounds of the latency histogram buckets, in seconds (+Inf is implicit).
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  HttpMetrics();

  void Observe(const std::string& route, const std::string& method, int status, double seconds);
  void InFlightAdd(int delta);

  // The full exposition text (ends with a newline).
  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
    std::uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::int64_t in_flight_ = 0;
  double start_time_seconds_;
};

// Escapes a Prometheus label value (backslash, double quote, newline).
std::string EscapeLabel(const std::string& value);

}  // namespace lumen::web
