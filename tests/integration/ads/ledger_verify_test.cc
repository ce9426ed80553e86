// `verify` finds tampering: every kind of edit to ads.db behind the ledger's back is named.
#include "ads/ledger_verify.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include "ads/report.h"
#include "tests/integration/ads/ads_test_support.h"

namespace lumen::ads::testing {
namespace {

class LedgerVerifyTest : public AdsFixture {
 protected:
  // Serves and bills a few impressions, clicks one, so every entry kind is present.
  void Traffic() {
    campaign_ = AddCampaign(AddAdvertiser("acme"), "running shoes", MatchType::kPhrase, 2'500'000,
                            100'000'000);
    options_.frequency_cap_session = 0;
    StartServer();
    for (int i = 0; i < 4; ++i) {
      const ServeResult r = server_->Serve("running shoes", Browser());
      ASSERT_EQ(r.slots.size(), 1u);
      ASSERT_EQ(server_->RecordImpression(r.slots[0].impression_token, BrowserClient()).outcome,
                BeaconOutcome::kBillable);
      if (i == 0) {
        ASSERT_TRUE(server_->RecordClick(r.slots[0].click_token, BrowserClient()).counted);
      }
    }
    server_->RecordImpression("junk", BrowserClient());
    server_.reset();
  }

  // Runs SQL on the database the way an attacker with file access would: triggers dropped.
  void Tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.db_path.c_str(), &db), SQLITE_OK);
    const std::string all =
        "DROP TRIGGER IF EXISTS ledger_append_only_u; DROP TRIGGER IF EXISTS ledger_append_only_d;"
        "DROP TRIGGER IF EXISTS postings_append_only_u; DROP TRIGGER IF EXISTS "
        "postings_append_only_d;" +
        sql;
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, all.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  std::int64_t campaign_ = 0;
};

TEST_F(LedgerVerifyTest, AnUntouchedLedgerVerifies) {
  Traffic();
  const VerifyReport v = Verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 4 + 4 + 1 + 1);
  EXPECT_EQ(v.billable, 4);
  EXPECT_EQ(v.billed_nanos, 4 * 100'000);
  EXPECT_EQ(v.head_hash.size(), 64u);
}

TEST_F(LedgerVerifyTest, TheLedgerRefusesEditsAndDeletes) {
  Traffic();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(options_.db_path.c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE ledger SET amount_nanos = 0", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM postings", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_TRUE(Verify().ok);
}

TEST_F(LedgerVerifyTest, AnAlteredAmountIsNamedByItsSequenceNumber) {
  Traffic();
  Tamper("UPDATE ledger SET amount_nanos = 1 WHERE seq = 5");
  const VerifyReport v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 5);
  EXPECT_NE(v.problem.find("entry 5 (billable"), std::string::npos) << v.problem;
  EXPECT_NE(v.problem.find("hash does not match"), std::string::npos) << v.problem;
}

TEST_F(LedgerVerifyTest, AnAlteredPostingIsNamed) {
  Traffic();
  Tamper("UPDATE postings SET amount = amount + 1 WHERE seq = 2 AND idx = 1");
  const VerifyReport v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 2);
}

TEST_F(LedgerVerifyTest, ADeletedEntryBreaksTheChainAtTheNextOne) {
  Traffic();
  Tamper("DELETE FROM postings WHERE seq = 5; DELETE FROM ledger WHERE seq = 5");
  const VerifyReport v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.first_bad_seq, 6);
  EXPECT_NE(v.problem.find("sequence number"), std::string::npos) << v.problem;
}

TEST_F(LedgerVerifyTest, ADoctoredRollupOrBalanceOrSpendIsFound) {
  Traffic();
  Tamper("UPDATE rollups SET billable = billable + 1 WHERE campaign_id > 0");
  VerifyReport v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("roll-up"), std::string::npos) << v.problem;
  EXPECT_EQ(v.first_bad_seq, 1);
  Tamper(
      "UPDATE rollups SET billable = billable - 1 WHERE campaign_id > 0;"
      "UPDATE balances SET balance = balance - 5 WHERE account LIKE 'platform%'");
  v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("balance of platform:revenue:USD"), std::string::npos) << v.problem;
  Tamper(
      "UPDATE balances SET balance = balance + 5 WHERE account LIKE 'platform%';"
      "UPDATE spend SET spent = spent - 1 WHERE day = -1");
  v = Verify();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("spend of campaign"), std::string::npos) << v.problem;
}

TEST_F(LedgerVerifyTest, CorrectionsAreNewAdjustmentEntriesThatKeepTheLedgerBalanced) {
  Traffic();
  const VerifyReport before = Verify();
  auto seq = Catalog().Adjust(campaign_, -150'000, "refund: 1.5 impressions of bot traffic");
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  EXPECT_EQ(*seq, before.entries + 1);
  const VerifyReport after = Verify();
  EXPECT_TRUE(after.ok) << after.problem;
  EXPECT_EQ(after.adjustments_nanos, -150'000);
  EXPECT_EQ((*admin_->ListBalances())["platform:revenue:USD"], 4 * 100'000 - 150'000);
  auto rows = BuildReport(*admin_, ReportGrouping::kCampaign, {});
  EXPECT_EQ((*rows)[0].spend, 4 * 100'000 - 150'000);
  EXPECT_FALSE(Catalog().Adjust(campaign_, 0, "nothing").ok());
  EXPECT_FALSE(Catalog().Adjust(campaign_, 5, "").ok());
  EXPECT_EQ(Catalog().Adjust(999, 5, "x").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace lumen::ads::testing
