#include "web/static_site.h"

#include <filesystem>

#include <httplib.h>

#include "web/http_server.h"

namespace lumen::web {
namespace {

constexpr std::size_t kWorkers = 32;

}  // namespace

StaticSite::StaticSite(StaticSiteOptions options) : options_(std::move(options)) {}

StaticSite::~StaticSite() {
  Stop();
}

Status StaticSite::Start() {
  std::error_code ec;
  if (!std::filesystem::is_directory(options_.root, ec)) {
    return NotFound("cannot serve " + options_.root + ": not a directory");
  }
  server_ = std::make_unique<httplib::Server>();
  // A keep-alive connection holds one of httplib's worker threads until it closes; with the
  // default pool (about one per core) a crawler's parallel connections would queue behind idle
  // ones and stall. Enough workers for every connection a crawler opens, and short keep-alive.
  server_->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  server_->set_keep_alive_timeout(2);
  server_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    PreferGzipOverBrotli(req);
    return ApplyBodyFraming(req, res) ? httplib::Server::HandlerResponse::Handled
                                      : httplib::Server::HandlerResponse::Unhandled;
  });
  if (!server_->set_mount_point("/", options_.root)) {
    return NotFound("cannot serve " + options_.root + ": not a readable directory");
  }
  // Only consulted when the directory has no robots.txt of its own (files are served first).
  std::string robots = "User-agent: *\n";
  for (const std::string& path : options_.disallow) robots += "Disallow: " + path + "\n";
  server_->Get("/robots.txt", [robots](const httplib::Request&, httplib::Response& res) {
    res.set_content(robots, "text/plain; charset=utf-8");
  });
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
  } else if (server_->bind_to_port(options_.host, options_.port)) {
    port_ = options_.port;
  } else {
    port_ = -1;
  }
  if (port_ <= 0) {
    server_.reset();
    return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                       " (address in use or invalid)");
  }
  thread_ = std::thread([server = server_.get()] { server->listen_after_bind(); });
  return Status::Ok();
}

void StaticSite::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

std::string StaticSite::base_url() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(port_);
}

}  // namespace lumen::web
