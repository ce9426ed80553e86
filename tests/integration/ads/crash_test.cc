// Issue item 8, the crash: a process recording beacons is killed with SIGKILL mid-stream. After
// a restart the client retries every beacon it has no answer for (and, as real clients do, a
// few it had an answer for); every impression ends billed exactly once and the ledger verifies.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <thread>

#include <gtest/gtest.h>

#include "tests/integration/ads/ads_test_support.h"

namespace lumen::ads::testing {
namespace {

class CrashTest : public AdsFixture {};

// Child: reads tokens (one per line) from `in`, records them (up to 64 in flight) and writes
// "<index> <outcome>\n" to `out` once each is durable. Never returns.
// `clock` is the fixture's: the tokens were served at the fixture's time, and on the wall clock
// they would expire (every beacon "invalid") once the real date passes kStartUs plus their TTL.
[[noreturn]] void RecordFromPipe(const AdsOptions& options, AdServer::Clock clock, int in,
                                 int out) {
  auto w = SqliteStore::Open(options.db_path, {.durability = options.durability});
  auto r = SqliteStore::Open(options.db_path, {.durability = options.durability});
  auto server =
      AdServer::Create(options, TestKey(), std::move(*w), std::move(*r), std::move(clock));
  if (!server.ok()) _exit(3);
  FILE* f = fdopen(in, "r");
  std::deque<std::pair<int, std::future<BeaconResult>>> inflight;
  auto settle = [&] {
    const BeaconResult b = inflight.front().second.get();
    const std::string line =
        std::to_string(inflight.front().first) + " " + std::string(Name(b.outcome)) + "\n";
    if (write(out, line.data(), line.size()) < 0) _exit(4);
    inflight.pop_front();
  };
  char buf[1024];
  int index = 0;
  while (fgets(buf, sizeof buf, f) != nullptr) {
    std::string token(buf);
    if (!token.empty() && token.back() == '\n') token.pop_back();
    inflight.emplace_back(index++, (*server)->RecordImpressionAsync(token, {kBrowser, "10.0.0.1"}));
    if (inflight.size() >= 64) settle();
  }
  while (!inflight.empty()) settle();
  _exit(0);
}

TEST_F(CrashTest, SigkillMidStreamThenRetriesLoseAndDoubleNothing) {
  constexpr int kImpressions = 3000;
  AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000, 1'000'000'000);
  options_.frequency_cap_session = 0;
  StartServer();  // serving at durability "normal" keeps the set-up fast
  std::vector<std::string> tokens;
  Nanos price = 0;
  for (int i = 0; i < kImpressions; ++i) {
    const ServeResult r = server_->Serve("running shoes", Browser());
    ASSERT_EQ(r.slots.size(), 1u);
    tokens.push_back(r.slots[0].impression_token);
    price = ImpressionCostNanos(TokenSigner(TestKey())
                                    .Verify(tokens.back(), TokenKind::kImpression)
                                    .token.price_cpm_micros);
  }
  server_.reset();  // no thread or connection may cross the fork
  admin_.reset();
  options_.durability = Durability::kFull;  // the beacons: fsync per commit
  signal(SIGPIPE, SIG_IGN);                 // the feeder may write to a dead child

  int to_child[2], from_child[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(from_child), 0);
  // The tokens do not fit in a pipe buffer: a writer thread feeds them while we read acks.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(to_child[1]);
    close(from_child[0]);
    RecordFromPipe(options_, Clock(), to_child[0], from_child[1]);
  }
  close(to_child[0]);
  close(from_child[1]);
  std::thread feeder([&] {
    for (const std::string& t : tokens) {
      const std::string line = t + "\n";
      if (write(to_child[1], line.data(), line.size()) < 0) break;  // child died: stop
    }
    close(to_child[1]);
  });
  // Read acknowledgements until a third of the beacons are acknowledged, then kill.
  std::vector<std::string> acked(kImpressions);
  std::string pending;
  int acks = 0;
  char buf[4096];
  while (acks < kImpressions / 3) {
    const ssize_t n = read(from_child[0], buf, sizeof buf);
    ASSERT_GT(n, 0) << "child exited early";
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      const std::size_t sp = line.find(' ');
      acked[std::stoi(line.substr(0, sp))] = line.substr(sp + 1);
      ++acks;
    }
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  feeder.join();
  close(from_child[0]);
  for (int i = 0; i < kImpressions; ++i) {
    if (!acked[i].empty()) {
      EXPECT_EQ(acked[i], "billable") << i;
    }
  }

  // Restart. The client retries everything unacknowledged, plus every tenth acknowledged one
  // (a response lost on the way back looks the same to the client).
  admin_ = *SqliteStore::Open(options_.db_path, {.durability = options_.durability});
  StartServer();
  int billed_after = 0, duplicates_after = 0;
  for (int i = 0; i < kImpressions; ++i) {
    if (!acked[i].empty() && i % 10 != 0) continue;
    const BeaconResult b = server_->RecordImpressionAsync(tokens[i], BrowserClient()).get();
    ASSERT_NE(b.outcome, BeaconOutcome::kError);
    ASSERT_NE(b.outcome, BeaconOutcome::kInvalid) << i;
    if (b.outcome == BeaconOutcome::kBillable) {
      EXPECT_TRUE(acked[i].empty()) << "acknowledged beacon " << i << " was lost";
      ++billed_after;
    } else {
      ++duplicates_after;
    }
  }
  const VerifyReport v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.billable, kImpressions) << "every impression billed exactly once";
  EXPECT_EQ(v.billed_nanos, kImpressions * price);
  EXPECT_GT(duplicates_after, 0);
  EXPECT_LE(billed_after, kImpressions - acks);
  // Anything the child committed but could not acknowledge shows up as a duplicate here.
  std::printf("acknowledged before SIGKILL: %d, billed after restart: %d, duplicates: %d\n", acks,
              billed_after, duplicates_after);
}

}  // namespace
}  // namespace lumen::ads::testing
