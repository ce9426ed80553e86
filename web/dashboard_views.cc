#include "web/dashboard_views.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "web/html.h"

namespace lumen::web::dashboard {
namespace {

std::string Num(std::int64_t v) {
  return std::to_string(v);
}

// A coordinate with one decimal (geometry only; money never passes through here).
std::string Px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string Layout(std::string_view title, const Session* session, std::string_view body) {
  std::string nav;
  if (session != nullptr) {
    nav = "<nav aria-label=\"Dashboard\"><a href=\"/ads/\">Campaigns</a>";
    if (session->account.role == ads::AccountRole::kAdvertiser) {
      nav += "<a href=\"/ads/campaigns/new\">New campaign</a>";
    }
    nav += "<a href=\"/ads/reports?by=day\">Reports</a>";
    if (session->account.role == ads::AccountRole::kOperator) {
      nav += "<a href=\"/ads/operator\">Operator</a>";
    }
    nav += "<span class=\"who\">" + HtmlEscape(session->account.email) + "</span>" +
           ButtonForm("/ads/signout", session->csrf_token, "Sign out") + "</nav>";
  }
  return "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         HtmlEscape(title) +
         " – Lumen Ads</title>\n"
         "<link rel=\"stylesheet\" href=\"/assets/dashboard.css\">\n"
         "<link rel=\"icon\" href=\"/assets/favicon.svg\" type=\"image/svg+xml\">\n</head>\n"
         "<body class=\"dashboard\">\n<header class=\"dash-bar\"><a class=\"brand\" "
         "href=\"/ads/\">Lumen Ads</a>" +
         nav + "</header>\n<main>\n<h1>" + HtmlEscape(title) + "</h1>\n" + std::string(body) +
         "\n</main>\n</body>\n</html>\n";
}

std::string CsrfField(std::string_view csrf_token) {
  return "<input type=\"hidden\" name=\"csrf\" value=\"" + HtmlEscape(csrf_token) + "\">";
}

std::string ButtonForm(std::string_view action, std::string_view csrf_token, std::string_view label,
                       std::string_view name, std::string_view value) {
  std::string out = "<form class=\"inline\" method=\"post\" action=\"" + HtmlEscape(action) +
                    "\">" + CsrfField(csrf_token);
  if (!name.empty()) {
    out += "<input type=\"hidden\" name=\"" + HtmlEscape(name) + "\" value=\"" + HtmlEscape(value) +
           "\">";
  }
  return out + "<button type=\"submit\">" + HtmlEscape(label) + "</button></form>";
}

std::string ErrorBox(std::string_view message) {
  if (message.empty()) return "";
  return "<p class=\"error\" role=\"alert\">" + HtmlEscape(message) + "</p>";
}

std::string ReportTable(const std::vector<ads::ReportRow>& rows, std::string_view first_column,
                        std::string_view link_prefix) {
  if (rows.empty()) return "<p class=\"empty\">No impressions yet.</p>";
  std::string out = "<div class=\"table-wrap\"><table class=\"report\"><thead><tr><th scope=col>" +
                    HtmlEscape(first_column) +
                    "</th><th scope=col>Served</th><th scope=col>Billable</th><th "
                    "scope=col>Clicks</th><th scope=col>Invalid</th><th scope=col>CTR</th>"
                    "<th scope=col>Spend</th><th scope=col>eCPM</th></tr></thead><tbody>";
  for (const ads::ReportRow& r : rows) {
    std::string label = HtmlEscape(r.name.empty() ? r.key : r.name);
    if (!link_prefix.empty()) {
      label = "<a href=\"" + HtmlEscape(link_prefix) + Num(r.id) + "\">" + label + "</a>";
    }
    out += "<tr data-id=\"" + Num(r.id) + "\" data-key=\"" + HtmlEscape(r.key) +
           "\"><th scope=row>" + label + "</th><td data-col=\"served\">" + Num(r.served) +
           "</td><td data-col=\"billable\">" + Num(r.billable) + "</td><td data-col=\"clicks\">" +
           Num(r.clicks) + "</td><td data-col=\"invalid\">" + Num(r.invalid) +
           "</td><td data-col=\"ctr\">" + ads::FormatCtr(r.clicks, r.billable) +
           "</td><td data-col=\"spend\">" + ads::FormatNanos(r.spend) + " " +
           HtmlEscape(r.currency) + "</td><td data-col=\"ecpm\">" +
           ads::FormatEcpm(r.spend, r.billable) + "</td></tr>";
  }
  return out + "</tbody></table></div>";
}

std::string ReportChartSvg(const std::vector<ads::ReportRow>& rows, ads::ReportGrouping by) {
  if (rows.empty()) return "";
  const bool hourly = by == ads::ReportGrouping::kHour;
  // One entry per period from the first to the last (currencies of one advertiser are one).
  std::map<std::int64_t, ads::ReportRow> by_period;
  for (const ads::ReportRow& r : rows) {
    ads::ReportRow& p = by_period[r.id];
    p.id = r.id;
    p.key = r.key;
    p.served += r.served;
    p.billable += r.billable;
    p.clicks += r.clicks;
    p.spend += r.spend;
  }
  std::vector<ads::ReportRow> periods;
  const std::int64_t first = by_period.begin()->first, last = by_period.rbegin()->first;
  if (last - first < 2000) {
    for (std::int64_t id = first; id <= last; ++id) {
      auto it = by_period.find(id);
      if (it != by_period.end()) {
        periods.push_back(it->second);
      } else {
        ads::ReportRow z;
        z.id = id;
        z.key = hourly ? ads::FormatHour(id) : ads::FormatDay(id);
        periods.push_back(z);
      }
    }
  } else {
    for (auto& [id, r] : by_period) periods.push_back(r);
  }
  std::int64_t max_count = 1;
  ads::Nanos max_spend = 1;
  for (const ads::ReportRow& p : periods) {
    max_count = std::max({max_count, p.served, p.billable});
    max_spend = std::max(max_spend, p.spend);
  }
  const double width = 720, height = 240, left = 48, right = 56, top = 16, bottom = 36;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const double step = plot_w / static_cast<double>(periods.size());
  const double bar_w = std::max(1.0, step * 0.7);
  auto y_count = [&](std::int64_t v) {
    return top + plot_h - plot_h * static_cast<double>(v) / static_cast<double>(max_count);
  };
  auto y_spend = [&](ads::Nanos v) {
    return top + plot_h - plot_h * static_cast<double>(v) / static_cast<double>(max_spend);
  };
  std::string svg = "<figure class=\"chart\"><svg viewBox=\"0 0 " + Px(width) + " " + Px(height) +
                    "\" role=\"img\" aria-labelledby=\"chart-title\"><title id=\"chart-title\">" +
                    std::string(hourly ? "Hourly" : "Daily") +
                    " served and billable impressions (bars) and spend (line)</title>";
  svg += "<line class=\"axis\" x1=\"" + Px(left) + "\" y1=\"" + Px(top + plot_h) + "\" x2=\"" +
         Px(left + plot_w) + "\" y2=\"" + Px(top + plot_h) + "\"/>";
  svg += "<text class=\"tick\" x=\"" + Px(left - 6) + "\" y=\"" + Px(top + 10) +
         "\" text-anchor=\"end\">" + Num(max_count) + "</text>";
  svg += "<text class=\"tick\" x=\"" + Px(left - 6) + "\" y=\"" + Px(top + plot_h) +
         "\" text-anchor=\"end\">0</text>";
  svg += "<text class=\"tick spend\" x=\"" + Px(left + plot_w + 6) + "\" y=\"" + Px(top + 10) +
         "\">" + ads::FormatNanos(max_spend) + "</text>";
  std::string line;
  for (std::size_t i = 0; i < periods.size(); ++i) {
    const ads::ReportRow& p = periods[i];
    const double x = left + step * static_cast<double>(i) + (step - bar_w) / 2;
    const std::string tip = HtmlEscape(p.key) + ": " + Num(p.served) + " served, " +
                            Num(p.billable) + " billable, " + Num(p.clicks) + " clicks, spend " +
                            ads::FormatNanos(p.spend);
    svg += "<g><title>" + tip + "</title><rect class=\"bar-served\" x=\"" + Px(x) + "\" y=\"" +
           Px(y_count(p.served)) + "\" width=\"" + Px(bar_w) + "\" height=\"" +
           Px(top + plot_h - y_count(p.served)) + "\"/><rect class=\"bar-billable\" x=\"" + Px(x) +
           "\" y=\"" + Px(y_count(p.billable)) + "\" width=\"" + Px(bar_w) + "\" height=\"" +
           Px(top + plot_h - y_count(p.billable)) + "\"/></g>";
    line += (line.empty() ? "" : " ") + Px(x + bar_w / 2) + "," + Px(y_spend(p.spend));
  }
  svg += "<polyline class=\"spend-line\" points=\"" + line + "\"/>";
  svg += "<text class=\"tick\" x=\"" + Px(left) + "\" y=\"" + Px(height - 12) + "\">" +
         HtmlEscape(periods.front().key) + "</text>";
  if (periods.size() > 1) {
    svg += "<text class=\"tick\" x=\"" + Px(left + plot_w) + "\" y=\"" + Px(height - 12) +
           "\" text-anchor=\"end\">" + HtmlEscape(periods.back().key) + "</text>";
  }
  svg +=
      "</svg><figcaption><span class=\"key served\">served</span> <span class=\"key "
      "billable\">billable</span> impressions; <span class=\"key spend\">spend</span> "
      "(right scale)</figcaption></figure>";
  return svg;
}

}  // namespace lumen::web::dashboard
