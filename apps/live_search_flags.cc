#include "apps/live_search_flags.h"

#include <netdb.h>
#include <sys/socket.h>

#include <string>

#include "retrieval/address_policy.h"

namespace lumen::cli {
namespace {

// The allow-list entries for one --fetch-allow value: the value itself when it is an address or
// a CIDR range, else the addresses its name resolves to.
Result<std::vector<std::string>> AllowEntries(const std::string& host) {
  if (retrieval::AddressPolicy::Create({host}).ok()) return std::vector<std::string>{host};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return InvalidArgument("--fetch-allow \"" + host +
                           "\": not an address, a CIDR range or a host name that resolves (" +
                           gai_strerror(rc) + ")");
  }
  std::vector<std::string> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    Result<retrieval::IpAddress> ip = retrieval::IpAddressFromSockaddr(a->ai_addr);
    if (!ip.ok()) continue;
    std::string text = ip->ToString();
    bool seen = false;
    for (const std::string& o : out) seen = seen || o == text;
    if (!seen) out.push_back(std::move(text));
  }
  freeaddrinfo(res);
  if (out.empty()) return InvalidArgument("--fetch-allow \"" + host + "\": no addresses");
  return out;
}

}  // namespace

std::vector<FlagSpec> LiveSearchFlagSpecs() {
  return {{.name = "searxng",
           .value_name = "URL",
           .help = "search the live web through this SearXNG/searx instance (search.url)"},
          {.name = "fetch-allow",
           .value_name = "HOST",
           .help = "let the fetcher reach this private/loopback host",
           .repeatable = true}};
}

int ApplyLiveSearchFlags(CommandContext& ctx) {
  if (ctx.flags.Has("searxng")) {
    const std::string url = ctx.flags.Get("searxng");
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      return Fail(kExitUsage,
                  "--searxng needs the instance's http(s) URL, e.g. "
                  "http://127.0.0.1:8888 (got \"" +
                      url + "\")");
    }
    ctx.global.overrides.emplace_back("search.provider", "searxng");
    ctx.global.overrides.emplace_back("search.url", url);
  }
  const std::vector<std::string> hosts = ctx.flags.GetAll("fetch-allow");
  if (hosts.empty()) return kExitOk;
  // Added to the configured list, not replacing it.
  std::optional<Config> config = ctx.LoadConfig();
  if (!config) return kExitUsage;
  std::string list;
  for (const std::string& e : config->GetStringList("fetch.allow_addresses")) list += e + ",";
  for (const std::string& h : hosts) {
    Result<std::vector<std::string>> entries = AllowEntries(h);
    if (!entries.ok()) return Fail(kExitUsage, entries.status().message());
    for (const std::string& e : *entries) list += e + ",";
  }
  list.pop_back();
  ctx.global.overrides.emplace_back("fetch.allow_addresses", list);
  return kExitOk;
}

}  // namespace lumen::cli
