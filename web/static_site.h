// StaticSite: serves one directory of files over HTTP on a loopback port — the demo's stand-in
// for a documentation web site, crawled through the real fetcher like any other site.
//
// Files are served by cpp-httplib's mount point (which refuses paths that climb out of the
// directory, answers HEAD and ranges and sets Content-Type from the extension); robots.txt is
// Lumen's own: it lets crawlers read the pages but keeps them out of the directories of sources,
// scripts and generated indexes that hold no prose.
//
// Thread-safety: Start and Stop from one thread; requests are served on httplib's worker pool.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace httplib {
class Server;
}

namespace lumen::web {

struct StaticSiteOptions {
  std::string root;  // directory served at "/"
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port
  // Paths (prefixes) robots.txt disallows for every crawler.
  std::vector<std::string> disallow;
};

class StaticSite {
 public:
  explicit StaticSite(StaticSiteOptions options);
  ~StaticSite();  // stops the server
  StaticSite(const StaticSite&) = delete;
  StaticSite& operator=(const StaticSite&) = delete;

  // Binds and starts serving in a background thread. Errors: kNotFound (root is not a
  // directory), kUnavailable (the address is taken or invalid).
  Status Start();
  void Stop();

  int port() const { return port_; }
  // "http://host:port" without a trailing slash (valid after Start).
  std::string base_url() const;

 private:
  StaticSiteOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace lumen::web
