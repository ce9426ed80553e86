// lumen serve: runs the HTTP server until SIGINT or SIGTERM, then stops gracefully — no new
// connections, in-flight requests finish (bounded by server.shutdown_timeout_ms) — and exits 0.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "apps/commands.h"
#include "apps/live_search_flags.h"
#include "web/chat_completions.h"
#include "web/dashboard.h"
#include "web/http_server.h"
#include "web/query_service.h"
#include "web/rate_limiter.h"
#include "web/search_api.h"
#include "web/search_page.h"
#include "web/search_stack.h"
#include "web/static_assets.h"

namespace lumen::cli {
namespace {

// The self-pipe the stop-signal handler writes to. Process-wide because a signal handler can
// reach nothing else; written only by the handler, read only by serve's shutdown thread.
int g_stop_pipe[2] = {-1, -1};

void OnStopSignal(int sig) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t n = write(g_stop_pipe[1], &byte, 1);
  errno = saved;
}

Status InstallStopSignalPipe() {
  if (g_stop_pipe[0] < 0 && pipe2(g_stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    return IoError(std::string("cannot create the signal pipe: ") + std::strerror(errno));
  }
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGINT, &sa, nullptr) != 0 || sigaction(SIGTERM, &sa, nullptr) != 0) {
    return IoError(std::string("cannot install signal handlers: ") + std::strerror(errno));
  }
  return Status::Ok();
}

int Run(CommandContext& ctx) {
  if (!ctx.flags.positionals().empty()) {
    return Fail(kExitUsage,
                "serve takes no arguments (got \"" + ctx.flags.positionals()[0] + "\")");
  }
  if (ctx.flags.Has("host"))
    ctx.global.overrides.emplace_back("server.host", ctx.flags.Get("host"));
  if (ctx.flags.Has("port"))
    ctx.global.overrides.emplace_back("server.port", ctx.flags.Get("port"));
  if (int rc = ApplyLiveSearchFlags(ctx); rc != kExitOk) return rc;
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  if (ctx.flags.Has("print-config")) {
    std::cout << config->json().dump(2) << std::endl;
    return kExitOk;
  }
  return ServeUntilStopped(*config, "");
}

}  // namespace

int ServeUntilStopped(const Config& config, std::string_view ready_message) {
  Result<web::HttpServerOptions> options = web::HttpServerOptions::FromConfig(config);
  if (!options.ok()) return Fail(kExitUsage, "configuration error: " + options.status().message());
  const std::int64_t shutdown_ms = config.GetInt("server.shutdown_timeout_ms");
  if (shutdown_ms < 0) {
    return Fail(kExitUsage,
                "configuration error: " +
                    config.ValueError("server.shutdown_timeout_ms", "must be >= 0").message());
  }
  Result<web::QueryServiceOptions> service_options = web::QueryServiceOptions::FromConfig(config);
  if (!service_options.ok()) {
    return Fail(kExitUsage, "configuration error: " + service_options.status().message());
  }
  const double rate = config.GetDouble("search.rate_per_second");
  const double burst = config.GetDouble("search.burst");
  Logger log = CommandContext::MakeLogger(config);
  // SIGINT/SIGTERM: a handler writes the signal number to a pipe that the shutdown thread
  // reads. (Blocking the signals and using sigwait would not do: libraries start threads before
  // main — OpenBLAS does — and such a thread would take the signal with its default action.)
  if (Status s = InstallStopSignalPipe(); !s.ok()) return Fail(kExitFailure, s.message());
  Result<web::SearchStack> stack = web::SearchStack::Open(config, log);
  if (!stack.ok()) {
    const bool usage = stack.status().code() == StatusCode::kInvalidArgument;
    return Fail(usage ? kExitUsage : kExitFailure,
                (usage ? "configuration error: " : "") + stack.status().message());
  }
  web::QueryService service(*service_options, stack->retriever, stack->backend.get(),
                            stack->ads.get(), log, stack->live.get(),
                            stack->searcher ? stack->searcher->store.get() : nullptr);
  web::RateLimiter limiter(rate, burst);
  // The advertiser dashboard (/ads/); declared before the server, which must not outlive it.
  Result<std::unique_ptr<web::Dashboard>> dashboard = web::OpenDashboard(config, log);
  if (!dashboard.ok()) {
    const bool usage = dashboard.status().code() == StatusCode::kInvalidArgument;
    return Fail(usage ? kExitUsage : kExitFailure,
                (usage ? "configuration error: " : "advertiser dashboard: ") +
                    dashboard.status().message());
  }

  web::HttpServer server(*options, log);
  server.AddOperationalRoutes();
  web::RegisterStaticAssets(server);
  web::RegisterSearchPage(server, &service);
  web::RegisterSearchApi(server, service, stack->ads.get(), limiter);
  web::RegisterChatCompletions(server, service, limiter);
  if (*dashboard) (*dashboard)->Register(server);
  if (Status s = server.Bind(); !s.ok()) return Fail(kExitFailure, s.message());

  std::cout << "lumen: listening on " << server.url() << std::endl;
  if (!ready_message.empty()) std::cout << ready_message << std::endl;
  log.Info("server listening", {{"url", server.url()}, {"pid", static_cast<long long>(getpid())}});

  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  std::thread signal_thread([&] {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (finished) return;
      }
      pollfd pfd{g_stop_pipe[0], POLLIN, 0};
      if (poll(&pfd, 1, 200) <= 0) continue;  // timeout or EINTR: look at `finished` again
      unsigned char sig = 0;
      if (read(g_stop_pipe[0], &sig, 1) != 1) continue;
      log.Info("shutting down",
               {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}, {"timeout_ms", shutdown_ms}});
      server.Stop();
      std::unique_lock<std::mutex> lock(mu);
      if (!cv.wait_for(lock, std::chrono::milliseconds(shutdown_ms), [&] { return finished; })) {
        log.Error("in-flight requests did not finish in time; exiting",
                  {{"timeout_ms", shutdown_ms}});
        std::fflush(nullptr);
        std::_Exit(kExitFailure);
      }
      return;
    }
  });

  server.Run();
  {
    std::lock_guard<std::mutex> lock(mu);
    finished = true;
  }
  cv.notify_all();
  signal_thread.join();
  log.Info("server stopped");
  return kExitOk;
}

Command ServeCommand() {
  Command c{.name = "serve",
            .summary = "Run the HTTP server: search page, JSON API, chat completions, metrics",
            .arguments = "",
            .details =
                "Listens on server.host:server.port (default 127.0.0.1:8080) and prints the\n"
                "address. SIGINT or SIGTERM stops it: in-flight requests finish first.",
            .flags = {{"host", "ADDR", "address to listen on (config key server.host)"},
                      {"port", "PORT", "port to listen on, 0 for any free port (server.port)"},
                      {"print-config", "", "print the effective configuration as JSON and exit"}},
            .run = Run};
  for (FlagSpec& f : LiveSearchFlagSpecs()) c.flags.push_back(std::move(f));
  return c;
}

}  // namespace lumen::cli
