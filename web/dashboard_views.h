// HTML for the advertiser dashboard (/ads/): the page frame, report tables and the server-side
// SVG chart. Everything that came from a user (names, keywords, creative texts, e-mails) is
// HTML-escaped here; the pages run no script at all (the chart is plain SVG, hover titles come
// from <title> elements), so the server's CSP holds without exceptions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ads/report.h"
#include "web/sessions.h"

namespace lumen::web::dashboard {

// A whole page: header with the navigation for `session` (none on the sign-in page), `body`
// (already HTML) inside <main>.
std::string Layout(std::string_view title, const Session* session, std::string_view body);

// <input type=hidden name=csrf>.
std::string CsrfField(std::string_view csrf_token);
// A one-button POST form (pause, resume, sign out...) carrying the CSRF token.
std::string ButtonForm(std::string_view action, std::string_view csrf_token, std::string_view label,
                       std::string_view name = "", std::string_view value = "");
// <p class=error role=alert> with the escaped message; "" for an empty message.
std::string ErrorBox(std::string_view message);

// Rows of a report with served, billable, clicks, invalid, CTR, spend and eCPM columns; numbers
// are formatted exactly as `lumen ads report` formats them. Each cell carries data-col for tests.
// `link_prefix` (e.g. "/ads/campaigns/") makes the first column a link to prefix + row.id.
std::string ReportTable(const std::vector<ads::ReportRow>& rows, std::string_view first_column,
                        std::string_view link_prefix = "");

// Billable (and served) impressions per period as bars with the spend as a line, for day or
// hour rows; missing periods between the first and the last are drawn as zero. "" for no rows.
std::string ReportChartSvg(const std::vector<ads::ReportRow>& rows, ads::ReportGrouping by);

}  // namespace lumen::web::dashboard
