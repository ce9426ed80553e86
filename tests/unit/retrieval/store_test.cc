#include "retrieval/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>

namespace lumen::retrieval {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("lumen_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto s = Store::Open(dir_.string());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  static PageRecord Page(const std::string& url, const std::string& title,
                         const std::string& hash) {
    return {
        .url = url, .title = title, .site = "example.org", .fetched_at = 1, .content_hash = hash};
  }
  static std::vector<Passage> Passages(std::initializer_list<std::string> texts) {
    std::vector<Passage> out;
    std::size_t off = 0;
    int ord = 0;
    for (const std::string& t : texts) {
      out.push_back({.ordinal = ord++,
                     .heading_path = "Intro",
                     .begin = off,
                     .end = off + t.size(),
                     .text = t});
      off += t.size() + 1;
    }
    return out;
  }
  std::vector<std::int64_t> Hits(const std::string& q) {
    auto r = store_->SearchBm25(q, 10);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status().ToString();
    std::vector<std::int64_t> ids;
    if (r.ok())
      for (const auto& h : *r) ids.push_back(h.passage_id);
    return ids;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, OpenCreatesAWalDatabaseAtTheStoreSchemaVersion) {
  EXPECT_TRUE(fs::exists(dir_ / "lumen.db"));
  auto st = store_->db().Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(st->ColumnText(0), "wal");
  EXPECT_EQ(*store_->SchemaVersion("store"), 1);
}

TEST_F(StoreTest, UpsertStoresPagePassagesAndMakesThemSearchable) {
  auto r = store_->UpsertPage(Page("https://a.example/1", "Wing theory", "h1"),
                              Passages({"Supersonic flow over a thin wing.", "Boundary layers."}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->unchanged);
  ASSERT_EQ(r->added_passage_ids.size(), 2u);
  auto page = store_->FindPageByUrl("https://a.example/1");
  ASSERT_TRUE(page.ok() && page->has_value());
  EXPECT_EQ((*page)->title, "Wing theory");
  auto passages = store_->PassagesOfPage(r->page_id);
  ASSERT_TRUE(passages.ok());
  ASSERT_EQ(passages->size(), 2u);
  EXPECT_EQ((*passages)[1].passage.text, "Boundary layers.");
  EXPECT_EQ((*passages)[1].url, "https://a.example/1");
  EXPECT_EQ((*passages)[1].passage.begin, 34u);
  // Porter stemming: "flows" finds "flow"; diacritics are folded.
  EXPECT_EQ(Hits("flows"), std::vector<std::int64_t>{r->added_passage_ids[0]});
  EXPECT_EQ(Hits("BOUNDARY layér").front(), r->added_passage_ids[1]);
}

TEST_F(StoreTest, TitleMatchesRankAboveBodyMatches) {
  auto a =
      store_->UpsertPage(Page("u:a", "Notes", "a"), Passages({"the nozzle is mentioned here"}));
  auto b = store_->UpsertPage(Page("u:b", "Nozzle design", "b"),
                              Passages({"design notes for engineers here"}));
  ASSERT_TRUE(a.ok() && b.ok());
  const auto hits = Hits("nozzle");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0], b->added_passage_ids[0]);
}

TEST_F(StoreTest, SameContentHashLeavesPassagesAlone) {
  auto first = store_->UpsertPage(Page("u:1", "T", "same"), Passages({"alpha beta"}));
  auto again = store_->UpsertPage(Page("u:1", "T", "same"), Passages({"gamma"}));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(again->page_id, first->page_id);
  EXPECT_EQ(Hits("alpha").size(), 1u);
  EXPECT_TRUE(Hits("gamma").empty());
}

TEST_F(StoreTest, RecrawlReplacesPassagesFtsAndLogsTheChange) {
  auto first = store_->UpsertPage(Page("u:1", "T", "v1"), Passages({"alpha beta", "delta"}));
  ASSERT_TRUE(first.ok());
  auto seq_before = store_->LastChangeSeq();
  ASSERT_TRUE(seq_before.ok());
  auto second = store_->UpsertPage(Page("u:1", "T", "v2"), Passages({"gamma"}));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->page_id, first->page_id);
  EXPECT_EQ(second->removed_passage_ids, first->added_passage_ids);
  ASSERT_EQ(second->added_passage_ids.size(), 1u);
  EXPECT_GT(second->added_passage_ids[0], first->added_passage_ids.back()) << "ids never reused";
  EXPECT_TRUE(Hits("alpha").empty());
  EXPECT_TRUE(Hits("delta").empty());
  EXPECT_EQ(Hits("gamma"), second->added_passage_ids);
  EXPECT_EQ(*store_->CountPassages(), 1);
  auto changes = store_->ChangesSince(*seq_before, 100);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 3u);
  EXPECT_FALSE((*changes)[0].added);
  EXPECT_FALSE((*changes)[1].added);
  EXPECT_TRUE((*changes)[2].added);
  EXPECT_EQ((*changes)[2].passage_id, second->added_passage_ids[0]);
}

TEST_F(StoreTest, DeletePageRemovesItsPassagesFromEverything) {
  auto r = store_->UpsertPage(Page("u:1", "T", "v1"), Passages({"alpha", "beta"}));
  ASSERT_TRUE(r.ok());
  auto removed = store_->DeletePage("u:1");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, r->added_passage_ids);
  EXPECT_TRUE(Hits("alpha").empty());
  EXPECT_FALSE(store_->FindPageByUrl("u:1")->has_value());
  EXPECT_EQ(*store_->CountPassages(), 0);
  EXPECT_TRUE(store_->GetPassages(r->added_passage_ids)->empty());
  auto none = store_->DeletePage("u:missing");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, BadInputIsAnInvalidArgument) {
  EXPECT_EQ(store_->UpsertPage(Page("", "T", "h"), {}).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<Passage> reversed = {{.begin = 10, .end = 2, .text = "x"}};
  EXPECT_EQ(store_->UpsertPage(Page("u:1", "T", "h"), reversed).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*store_->CountPages(), 0) << "nothing half-written";
}

TEST_F(StoreTest, ForEachPassageVisitsAllInIdOrderAcrossBatches) {
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(store_
                    ->UpsertPage(Page("u:" + std::to_string(i), "T", std::to_string(i)),
                                 Passages({"p" + std::to_string(i)}))
                    .ok());
  std::vector<std::int64_t> seen;
  ASSERT_TRUE(store_
                  ->ForEachPassage(0, 3,
                                   [&](const PassageView& v) {
                                     seen.push_back(v.id);
                                     return Status::Ok();
                                   })
                  .ok());
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(StoreTest, OtherComponentsMigrateTheirOwnTables) {
  const std::string_view v1 = "CREATE TABLE frontier(url TEXT PRIMARY KEY)";
  const std::string_view v2 = "ALTER TABLE frontier ADD COLUMN depth INTEGER NOT NULL DEFAULT 0";
  const std::string_view one[] = {v1};
  const std::string_view two[] = {v1, v2};
  ASSERT_TRUE(store_->ApplyMigrations("frontier", one).ok());
  EXPECT_EQ(*store_->SchemaVersion("frontier"), 1);
  ASSERT_TRUE(store_->ApplyMigrations("frontier", two).ok()) << "only v2 runs";
  EXPECT_EQ(*store_->SchemaVersion("frontier"), 2);
  ASSERT_TRUE(store_->ApplyMigrations("frontier", two).ok()) << "idempotent";
  // A database from a newer Lumen is refused, not guessed at.
  Status older = store_->ApplyMigrations("frontier", one);
  EXPECT_EQ(older.code(), StatusCode::kCorruption) << older.ToString();
}

TEST_F(StoreTest, ReopeningKeepsDataAndDoesNotRemigrate) {
  ASSERT_TRUE(store_->UpsertPage(Page("u:1", "T", "h"), Passages({"persisted text"})).ok());
  store_.reset();
  auto again = Store::Open(dir_.string());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->SearchBm25("persisted", 5)->size(), 1u);
}

TEST_F(StoreTest, AReaderSeesCommittedWritesOfAnotherConnection) {
  auto reader = Store::Open(dir_.string());
  ASSERT_TRUE(reader.ok());
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(store_
                      ->UpsertPage(Page("u:" + std::to_string(i), "T", std::to_string(i)),
                                   Passages({"concurrent words"}))
                      .ok());
  });
  for (int i = 0; i < 20; ++i) ASSERT_TRUE((*reader)->SearchBm25("concurrent", 50).ok());
  writer.join();
  EXPECT_EQ((*reader)->SearchBm25("concurrent", 50)->size(), 20u);
}

TEST_F(StoreTest, NotADatabaseIsACorruptionError) {
  const fs::path bad = dir_ / "bad.db";
  {
    std::FILE* f = std::fopen(bad.c_str(), "wb");
    std::fputs(
        "this is not sqlite, just text that is long enough to be a "
        "header.....................................",
        f);
    std::fclose(f);
  }
  auto s = Store::OpenFile(bad.string());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption) << s.status().ToString();
}

// ---- hostile queries: never an SQL error, never an injection, always a sensible result ----

class HostileQueryTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    ASSERT_TRUE(store_
                    ->UpsertPage(Page("u:1", "Wing flutter", "1"),
                                 Passages({"NEAR the wing tip, flutter and divergence occur."}))
                    .ok());
    ASSERT_TRUE(store_
                    ->UpsertPage(Page("u:2", "Heat", "2"),
                                 Passages({"Heat transfer (convective) in hypersonic flow."}))
                    .ok());
  }
};

TEST_F(HostileQueryTest, EmptyAndWordlessQueriesReturnNothing) {
  for (const std::string q : {"", "   ", "\"\"", "***", "()", "-:^", "\t\n"}) {
    auto r = store_->SearchBm25(q, 10);
    ASSERT_TRUE(r.ok()) << "[" << q << "] " << r.status().ToString();
    EXPECT_TRUE(r->empty()) << q;
  }
}

TEST_F(HostileQueryTest, Fts5SyntaxIsTreatedAsPlainWords) {
  const std::vector<std::string> queries = {"\"wing",
                                            "wing*",
                                            "flutter NEAR divergence",
                                            "NEAR(wing flutter, 2)",
                                            "-heat",
                                            "title:heat",
                                            "^heat",
                                            "(heat OR",
                                            "heat AND NOT wing",
                                            "{title}: heat",
                                            "heat)",
                                            "wing + flutter",
                                            "heat\"transfer",
                                            "NOT",
                                            "AND OR NOT",
                                            "col:\"x\" * ^"};
  for (const std::string& q : queries) {
    auto r = store_->SearchBm25(q, 10);
    ASSERT_TRUE(r.ok()) << "[" << q << "] " << r.status().ToString();
  }
  EXPECT_EQ(Hits("-heat").size(), 1u) << "'-' is not negation";
  EXPECT_EQ(Hits("title:heat").size(), 1u) << "':' is not a column filter";
  EXPECT_EQ(Hits("NEAR").size(), 1u) << "NEAR is an ordinary word (the first passage has it)";
}

TEST_F(HostileQueryTest, SqlFragmentsAreNeitherErrorsNorInjections) {
  for (const std::string q :
       {"'; DROP TABLE pages; --", "heat' OR '1'='1", "\"); DELETE FROM passages; --",
        "1; SELECT * FROM sqlite_master", "heat /* comment */ --"}) {
    auto r = store_->SearchBm25(q, 10);
    ASSERT_TRUE(r.ok()) << "[" << q << "] " << r.status().ToString();
  }
  EXPECT_EQ(*store_->CountPages(), 2);
  EXPECT_EQ(*store_->CountPassages(), 2);
}

TEST_F(HostileQueryTest, InvalidUtf8IsNotAnError) {
  const std::string q = std::string("heat \xff\xfe \xc3\x28 \xed\xa0\x80 wing") + '\0' + "x";
  auto r = store_->SearchBm25(q, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->size(), 2u);
}

TEST_F(HostileQueryTest, AHundredKilobyteQueryIsBounded) {
  std::string q;
  while (q.size() < 100 * 1024) q += "heat wing flutter transfer " + std::to_string(q.size()) + " ";
  auto r = store_->SearchBm25(q, 10);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->empty());
  const std::string built = BuildFtsQuery(q);
  EXPECT_LT(built.size(), 64u * 72u) << "at most 64 words of at most 64 bytes";
}

TEST_F(HostileQueryTest, OnlyStopWordsStillSearchesForThem) {
  auto r = store_->SearchBm25("the and of in", 10);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->empty()) << "'and' and 'in' occur: searching the stop-words beats nothing";
  EXPECT_EQ(BuildFtsQuery("what is the"), "\"what\" OR \"is\" OR \"the\"");
  EXPECT_EQ(BuildFtsQuery("what is heat"), "\"heat\"");
}

TEST(SplitWordsTest, LowercasesAsciiKeepsUnicodeLettersAndDropsInvalidBytes) {
  EXPECT_EQ(SplitWords("Don't STOP—naïve café!"),
            (std::vector<std::string>{"don", "t", "stop", "naïve", "café"}));
  EXPECT_EQ(SplitWords("a\xff"
                       "b"),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SplitWords("").empty());
}

}  // namespace
}  // namespace lumen::retrieval
