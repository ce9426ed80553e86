#include "ads/report.h"

#include <algorithm>
#include <map>

#include "ads/ledger.h"

namespace lumen::ads {
namespace {

constexpr std::string_view kGroupings[] = {"advertiser", "campaign", "creative", "day", "hour"};

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

Result<ReportGrouping> ParseReportGrouping(std::string_view s) {
  for (int i = 0; i < 5; ++i) {
    if (kGroupings[i] == s) return static_cast<ReportGrouping>(i);
  }
  return InvalidArgument("report grouping must be advertiser, campaign, creative, day or hour");
}

Result<std::vector<ReportRow>> BuildReport(AdStore& store, ReportGrouping by,
                                           const ReportFilter& f) {
  LUMEN_RETURN_IF_ERROR(store.BeginRead());
  auto read = [&]() -> Result<std::vector<ReportRow>> {
    LUMEN_ASSIGN_OR_RETURN(std::vector<RollupRow> rollups, store.ListRollups());
    LUMEN_ASSIGN_OR_RETURN(std::vector<Advertiser> advertisers, store.ListAdvertisers());
    LUMEN_ASSIGN_OR_RETURN(std::vector<Campaign> campaigns, store.ListCampaigns());
    LUMEN_ASSIGN_OR_RETURN(std::vector<Creative> creatives, store.ListCreatives());
    std::map<std::int64_t, const Advertiser*> adv;
    std::map<std::int64_t, const Campaign*> cmp;
    std::map<std::int64_t, const Creative*> cre;
    for (const Advertiser& a : advertisers) adv[a.id] = &a;
    for (const Campaign& c : campaigns) cmp[c.id] = &c;
    for (const Creative& c : creatives) cre[c.id] = &c;
    const std::int64_t from_hour = f.from_us ? HourOf(f.from_us) : INT64_MIN;
    const std::int64_t to_hour = f.to_us ? HourOf(f.to_us - 1) : INT64_MAX;
    std::map<std::pair<std::int64_t, std::string>, ReportRow> groups;
    for (const RollupRow& r : rollups) {
      if (r.campaign_id == 0) continue;
      if (f.advertiser_id && r.advertiser_id != f.advertiser_id) continue;
      if (f.campaign_id && r.campaign_id != f.campaign_id) continue;
      if (f.creative_id && r.creative_id != f.creative_id) continue;
      if (r.hour < from_hour || r.hour > to_hour) continue;
      const auto a = adv.find(r.advertiser_id);
      const std::string currency = a == adv.end() ? "" : a->second->currency;
      std::int64_t id = 0;
      std::string name, key;
      switch (by) {
        case ReportGrouping::kAdvertiser:
          id = r.advertiser_id;
          name = a == adv.end() ? "" : a->second->name;
          break;
        case ReportGrouping::kCampaign:
          id = r.campaign_id;
          name = cmp.count(id) ? cmp[id]->name : "";
          break;
        case ReportGrouping::kCreative:
          id = r.creative_id;
          name = cre.count(id) ? cre[id]->title : "(adjustments)";
          break;
        case ReportGrouping::kDay:
          id = r.hour >= 0 ? r.hour / 24 : (r.hour - 23) / 24;
          key = FormatDay(id);
          break;
        case ReportGrouping::kHour:
          id = r.hour;
          key = FormatHour(id);
          break;
      }
      if (key.empty()) key = std::to_string(id);
      ReportRow& row = groups[{id, currency}];
      row.key = key;
      row.id = id;
      row.name = name;
      row.currency = currency;
      row.served += r.served;
      row.billable += r.billable;
      row.clicks += r.clicks;
      row.invalid += r.invalid;
      row.spend += r.spend;
    }
    std::vector<ReportRow> out;
    for (auto& [k, row] : groups) out.push_back(std::move(row));
    return out;
  };
  Result<std::vector<ReportRow>> rows = read();
  store.Rollback();
  return rows;
}

std::string FormatCtr(std::int64_t clicks, std::int64_t billable) {
  if (billable <= 0) return "-";
  // Basis points of a percent, rounded half up: clicks * 10000 / billable.
  const std::int64_t bp = (clicks * 20000 / billable + 1) / 2;
  std::string frac = std::to_string(bp % 100);
  if (frac.size() < 2) frac.insert(0, "0");
  return std::to_string(bp / 100) + "." + frac + "%";
}

std::string FormatEcpm(Nanos spend, std::int64_t billable) {
  if (billable <= 0) return "-";
  // spend (nanos) * 1000 / billable = eCPM in nanos; /1000 for micros: spend / billable.
  return FormatMicros(spend / billable);
}

std::string ReportToCsv(const std::vector<ReportRow>& rows, ReportGrouping by) {
  std::string out = "group,id,name,currency,served,billable,clicks,invalid,ctr,spend,ecpm\r\n";
  for (const ReportRow& r : rows) {
    out += std::string(kGroupings[static_cast<int>(by)]) + "," + CsvField(r.key) + "," +
           CsvField(r.name) + "," + r.currency + "," + std::to_string(r.served) + "," +
           std::to_string(r.billable) + "," + std::to_string(r.clicks) + "," +
           std::to_string(r.invalid) + "," + FormatCtr(r.clicks, r.billable) + "," +
           FormatNanos(r.spend) + "," + FormatEcpm(r.spend, r.billable) + "\r\n";
  }
  return out;
}

std::string ReportToTable(const std::vector<ReportRow>& rows, ReportGrouping by) {
  std::vector<std::vector<std::string>> cells = {{std::string(kGroupings[static_cast<int>(by)]),
                                                  "name", "cur", "served", "billable", "clicks",
                                                  "invalid", "ctr", "spend", "ecpm"}};
  for (const ReportRow& r : rows) {
    cells.push_back({r.key, r.name.substr(0, 30), r.currency, std::to_string(r.served),
                     std::to_string(r.billable), std::to_string(r.clicks),
                     std::to_string(r.invalid), FormatCtr(r.clicks, r.billable),
                     FormatNanos(r.spend), FormatEcpm(r.spend, r.billable)});
  }
  std::vector<std::size_t> width(cells[0].size(), 0);
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::string cell = row[i];
      if (i >= 3)
        cell.insert(0, width[i] - cell.size(), ' ');  // numbers right-aligned
      else if (i + 1 < row.size())
        cell.resize(width[i], ' ');
      out += cell + (i + 1 < row.size() ? "  " : "\n");
    }
  }
  return out;
}

}  // namespace lumen::ads
