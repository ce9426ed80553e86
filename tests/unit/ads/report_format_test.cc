#include "ads/report.h"

#include <gtest/gtest.h>

namespace lumen::ads {
namespace {

TEST(ReportFormat, CtrAndEcpmAreExact) {
  EXPECT_EQ(FormatCtr(1, 8), "12.50%");
  EXPECT_EQ(FormatCtr(1, 3), "33.33%");
  EXPECT_EQ(FormatCtr(2, 3), "66.67%");
  EXPECT_EQ(FormatCtr(0, 0), "-");
  // 1000 impressions at CPM 2.50 spend 2.50: eCPM 2.50.
  EXPECT_EQ(FormatEcpm(1000 * 2'500'000LL, 1000), "2.50");
  EXPECT_EQ(FormatEcpm(0, 0), "-");
}

TEST(ReportFormat, CsvQuotesFieldsThatNeedIt) {
  ReportRow r;
  r.key = "1";
  r.id = 1;
  r.name = "Acme, \"the\" best";
  r.currency = "USD";
  r.served = 10;
  r.billable = 8;
  r.clicks = 1;
  r.spend = 8 * 2'500'000LL;
  const std::string csv = ReportToCsv({r}, ReportGrouping::kAdvertiser);
  EXPECT_EQ(csv,
            "group,id,name,currency,served,billable,clicks,invalid,ctr,spend,ecpm\r\n"
            "advertiser,1,\"Acme, \"\"the\"\" best\",USD,10,8,1,0,12.50%,0.02,2.50\r\n");
  EXPECT_FALSE(ParseReportGrouping("week").ok());
}

}  // namespace
}  // namespace lumen::ads
