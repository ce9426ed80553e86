// Reports for advertisers: served and billable impressions, clicks, CTR, spend and eCPM, grouped
// by advertiser, campaign, creative, day or hour, computed from the hourly roll-ups (which
// `lumen ads verify` proves equal to the ledger). Spend is exact (nanos; see ads/money.h) and
// includes adjustments; eCPM = spend / billable x 1000; CTR = clicks / billable. Amounts of
// different currencies are never added: day and hour rows are per currency.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ads/store.h"

namespace lumen::ads {

enum class ReportGrouping { kAdvertiser, kCampaign, kCreative, kDay, kHour };
Result<ReportGrouping> ParseReportGrouping(std::string_view s);

struct ReportFilter {
  std::int64_t advertiser_id = 0;  // 0 = all
  std::int64_t campaign_id = 0;
  std::int64_t creative_id = 0;
  std::int64_t from_us = 0;  // inclusive, rounded down to the hour; 0 = from the start
  std::int64_t to_us = 0;    // exclusive; 0 = until now
};

struct ReportRow {
  std::string key;      // "advertiser 3 Acme", "2026-11-30", "2026-11-30T04:00Z", ...
  std::int64_t id = 0;  // advertiser/campaign/creative id, or the day/hour number
  std::string name;     // advertiser/campaign name or creative title; "" for periods
  std::string currency;
  std::int64_t served = 0;
  std::int64_t billable = 0;
  std::int64_t clicks = 0;
  std::int64_t invalid = 0;
  Nanos spend = 0;
};

// Rows in key order. Traffic that belongs to no campaign (forged tokens) is left out.
Result<std::vector<ReportRow>> BuildReport(AdStore& store, ReportGrouping by,
                                           const ReportFilter& filter);

// "12.50%" (two decimals, rounded half up); "-" when there are no billable impressions.
std::string FormatCtr(std::int64_t clicks, std::int64_t billable);
// Spend per thousand billable impressions, exact to the micro (rounded down); "-" when none.
std::string FormatEcpm(Nanos spend, std::int64_t billable);

// RFC 4180 CSV with a header row: group,id,name,currency,served,billable,clicks,invalid,ctr,
// spend,ecpm.
std::string ReportToCsv(const std::vector<ReportRow>& rows, ReportGrouping by);
// Aligned columns for a terminal.
std::string ReportToTable(const std::vector<ReportRow>& rows, ReportGrouping by);

}  // namespace lumen::ads
