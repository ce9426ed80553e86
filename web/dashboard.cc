#include "web/dashboard.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>

#include "ads/account.h"
#include "ads/catalog.h"
#include "ads/ledger.h"
#include "ads/ledger_verify.h"
#include "ads/options.h"
#include "ads/report.h"
#include "web/dashboard_views.h"
#include "web/html.h"
#include "web/query_params.h"
#include "web/rate_limiter.h"
#include "web/sessions.h"

namespace lumen::web {
namespace {

using dashboard::ButtonForm;
using dashboard::CsrfField;
using dashboard::ErrorBox;
using dashboard::Layout;

constexpr const char* kSessionCookie = "lumen_session";
constexpr const char* kSigninCookie = "lumen_signin_csrf";

// Form fields of an application/x-www-form-urlencoded body: the first value of each name, as
// valid UTF-8.
using Form = std::map<std::string, std::string>;

Form ParseForm(std::string_view body) {
  Form form;
  while (!body.empty()) {
    const std::size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const std::size_t eq = pair.find('=');
    std::string name = ValidUtf8(FormDecode(pair.substr(0, eq)));
    std::string value =
        eq == std::string_view::npos ? "" : ValidUtf8(FormDecode(pair.substr(eq + 1)));
    form.emplace(std::move(name), std::move(value));
    if (amp == std::string_view::npos) break;
    body = body.substr(amp + 1);
  }
  return form;
}

std::string Field(const Form& form, const std::string& name) {
  auto it = form.find(name);
  return it == form.end() ? "" : it->second;
}

// Lines of a textarea, trimmed, empty lines dropped.
std::vector<std::string> Lines(std::string_view text, bool split_commas = false) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    const std::size_t b = cur.find_first_not_of(" \t\r");
    const std::size_t e = cur.find_last_not_of(" \t\r");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (const char c : text) {
    if (c == '\n' || (split_commas && c == ',')) {
      flush();
    } else {
      cur += c;
    }
  }
  flush();
  return out;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::optional<std::int64_t> ParseId(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v <= 0) return std::nullopt;
  return v;
}

std::string DateValue(std::int64_t us) {
  return us == 0 ? "" : ads::FormatDay(ads::DayOf(us));
}

std::string Attr(std::string_view s) {
  return HtmlEscape(s);
}

std::string TextInput(std::string_view name, std::string_view label, std::string_view value,
                      std::string_view extra = "") {
  return "<label>" + HtmlEscape(label) + "<input name=\"" + Attr(name) + "\" value=\"" +
         Attr(value) + "\" " + std::string(extra) + "></label>";
}

void SendHtml(httplib::Response& res, int status, const std::string& html) {
  res.status = status;
  res.set_content(html, "text/html; charset=utf-8");
}

}  // namespace

// ---- options ---------------------------------------------------------------------------------

Result<DashboardOptions> DashboardOptions::FromConfig(const Config& config) {
  DashboardOptions o;
  o.enabled = config.GetBool("dashboard.enabled");
  LUMEN_ASSIGN_OR_RETURN(ads::AdsOptions ads, ads::AdsOptions::FromConfig(config));
  o.db_path = ads.db_path;
  o.store.durability = ads.durability;
  o.session_ttl_s = config.GetInt("dashboard.session_ttl_s");
  if (o.session_ttl_s < 60 || o.session_ttl_s > 30 * 86400) {
    return config.ValueError("dashboard.session_ttl_s", "must be 60..2592000 seconds");
  }
  const std::string secure = config.GetString("dashboard.secure_cookies");
  if (secure == "auto") {
    o.secure_cookies = SecureCookies::kAuto;
  } else if (secure == "always") {
    o.secure_cookies = SecureCookies::kAlways;
  } else if (secure == "never") {
    o.secure_cookies = SecureCookies::kNever;
  } else {
    return config.ValueError("dashboard.secure_cookies",
                             "must be \"auto\", \"always\" or \"never\"");
  }
  const std::int64_t ip = config.GetInt("dashboard.signin_attempts_per_minute_per_ip");
  const std::int64_t acct = config.GetInt("dashboard.signin_attempts_per_minute_per_account");
  if (ip < 1 || ip > 100000) {
    return config.ValueError("dashboard.signin_attempts_per_minute_per_ip", "must be 1..100000");
  }
  if (acct < 1 || acct > 100000) {
    return config.ValueError("dashboard.signin_attempts_per_minute_per_account",
                             "must be 1..100000");
  }
  o.signin_attempts_per_minute_per_ip = static_cast<int>(ip);
  o.signin_attempts_per_minute_per_account = static_cast<int>(acct);
  return o;
}

// ---- the dashboard ---------------------------------------------------------------------------

struct Dashboard::Impl {
  DashboardOptions options;
  Logger& log;
  Clock clock;
  std::mutex mu;  // guards the store and everything built on it
  std::unique_ptr<ads::SqliteStore> store;
  std::unique_ptr<SessionBook> sessions;
  RateLimiter signin_by_ip;
  RateLimiter signin_by_account;

  Impl(const DashboardOptions& o, Logger& l, Clock c)
      : options(o),
        log(l),
        clock(std::move(c)),
        signin_by_ip(o.signin_attempts_per_minute_per_ip / 60.0,
                     o.signin_attempts_per_minute_per_ip),
        signin_by_account(o.signin_attempts_per_minute_per_account / 60.0,
                          o.signin_attempts_per_minute_per_account) {}

  // Everything a signed-in handler gets.
  struct Ctx {
    Session session;
    Form form;
    bool is_operator() const { return session.account.role == ads::AccountRole::kOperator; }
  };
  using PageFn = std::function<void(Ctx&, const httplib::Request&, httplib::Response&)>;

  bool SecureRequest(const httplib::Request& req) const {
    if (options.secure_cookies == DashboardOptions::SecureCookies::kAlways) return true;
    if (options.secure_cookies == DashboardOptions::SecureCookies::kNever) return false;
    return req.get_header_value("X-Forwarded-Proto") == "https";
  }

  std::string Cookie(const httplib::Request& req, std::string_view name, std::string_view value,
                     std::int64_t max_age) const {
    std::string c = std::string(name) + "=" + std::string(value) +
                    "; Path=/ads; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
    if (SecureRequest(req)) c += "; Secure";
    return c;
  }

  void Fail(httplib::Response& res, const Status& st, const Session* s) {
    int code = 500;
    std::string message = "Something went wrong; the error was logged.";
    if (st.code() == StatusCode::kNotFound) {
      code = 404;
      message = "Not found.";
    } else if (st.code() == StatusCode::kInvalidArgument) {
      code = 400;
      message = st.message();
    } else {
      log.Error("dashboard request failed", {{"error", st.ToString()}});
    }
    SendHtml(res, code, Layout(code == 404 ? "Not found" : "Error", s, ErrorBox(message)));
  }

  void NotFoundPage(httplib::Response& res, const Session* s) { Fail(res, NotFound(""), s); }

  // Routes a signed-in page: no session -> sign-in page (GET) or 403 (POST); a POST whose csrf
  // field is not the session's -> 403.
  void Authed(HttpServer& server, bool post, const std::string& pattern, const std::string& route,
              PageFn fn) {
    auto handler = [this, post, fn](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      std::lock_guard<std::mutex> lock(mu);
      Result<std::optional<Session>> found =
          sessions->Find(CookieValue(req, kSessionCookie), clock());
      if (!found.ok()) return Fail(res, found.status(), nullptr);
      if (!*found) {
        if (!post) {
          res.set_redirect("/ads/signin", 303);
          return;
        }
        return SendHtml(
            res, 403,
            Layout("Forbidden", nullptr,
                   ErrorBox("Sign in first.") + "<p><a href=\"/ads/signin\">Sign in</a></p>"));
      }
      Ctx ctx{std::move(**found), {}};
      if (post) {
        ctx.form = ParseForm(req.body);
        if (!TokensEqual(Field(ctx.form, "csrf"), ctx.session.csrf_token)) {
          return SendHtml(res, 403,
                          Layout("Forbidden", &ctx.session,
                                 ErrorBox("This form has expired or did not come from this "
                                          "dashboard (missing or wrong CSRF token). Go back, "
                                          "reload and try again.")));
        }
      }
      fn(ctx, req, res);
    };
    if (post) {
      server.Post(pattern, route, handler);
    } else {
      server.Get(pattern, route, handler);
    }
  }

  // The campaign with this id if the session may see it (operators see all), else nullopt.
  Result<std::optional<ads::Campaign>> OwnedCampaign(const Ctx& ctx, std::string_view id_text) {
    const std::optional<std::int64_t> id = ParseId(id_text);
    if (!id) return std::optional<ads::Campaign>();
    LUMEN_ASSIGN_OR_RETURN(std::vector<ads::Campaign> all, ads::AdCatalog(*store).Campaigns());
    for (ads::Campaign& c : all) {
      if (c.id != *id) continue;
      if (!ctx.is_operator() && c.advertiser_id != ctx.session.account.advertiser_id) break;
      return std::optional<ads::Campaign>(std::move(c));
    }
    return std::optional<ads::Campaign>();
  }

  Result<std::optional<ads::Creative>> OwnedCreative(const Ctx& ctx, std::string_view id_text) {
    const std::optional<std::int64_t> id = ParseId(id_text);
    if (!id) return std::optional<ads::Creative>();
    LUMEN_ASSIGN_OR_RETURN(std::vector<ads::Creative> all, ads::AdCatalog(*store).Creatives());
    for (ads::Creative& c : all) {
      if (c.id != *id) continue;
      LUMEN_ASSIGN_OR_RETURN(std::optional<ads::Campaign> owner,
                             OwnedCampaign(ctx, std::to_string(c.campaign_id)));
      if (!owner) break;
      return std::optional<ads::Creative>(std::move(c));
    }
    return std::optional<ads::Creative>();
  }

  ads::ReportFilter FilterFor(const Ctx& ctx) const {
    ads::ReportFilter f;
    if (!ctx.is_operator()) f.advertiser_id = ctx.session.account.advertiser_id;
    return f;
  }

  // ---- sign-in / sign-out

  std::string SigninForm(std::string_view csrf, std::string_view email, std::string_view error) {
    return ErrorBox(error) + "<form class=\"signin\" method=\"post\" action=\"/ads/signin\">" +
           CsrfField(csrf) +
           TextInput("email", "E-mail", email,
                     "type=\"email\" autocomplete=\"username\" required autofocus") +
           "<label>Password<input name=\"password\" type=\"password\" "
           "autocomplete=\"current-password\" required></label>"
           "<button type=\"submit\">Sign in</button></form>"
           "<p class=\"hint\">Accounts are created by the operator with <code>lumen ads account "
           "create</code>.</p>";
  }

  void SigninPage(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    std::string csrf = CookieValue(req, kSigninCookie);
    if (csrf.size() != 43) {
      csrf = NewRandomToken();
      res.set_header("Set-Cookie", Cookie(req, kSigninCookie, csrf, 3600));
    }
    SendHtml(res, 200, Layout("Sign in", nullptr, SigninForm(csrf, "", "")));
  }

  void Signin(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    const Form form = ParseForm(req.body);
    const std::string cookie_csrf = CookieValue(req, kSigninCookie);
    if (!TokensEqual(Field(form, "csrf"), cookie_csrf)) {
      return SendHtml(res, 403,
                      Layout("Forbidden", nullptr,
                             ErrorBox("The sign-in form expired or did not come from this "
                                      "site. Reload it and try again.") +
                                 "<p><a href=\"/ads/signin\">Sign in</a></p>"));
    }
    const std::string email = Field(form, "email");
    Result<std::string> normalized = ads::NormalizeEmail(email);
    const RateLimiter::Decision by_ip = signin_by_ip.Take(req.remote_addr);
    const RateLimiter::Decision by_account =
        by_ip.allowed ? signin_by_account.Take(normalized.ok() ? *normalized : email)
                      : RateLimiter::Decision{};
    if (!by_ip.allowed || !by_account.allowed) {
      const double wait = std::max(by_ip.retry_after_seconds, by_account.retry_after_seconds);
      res.set_header("Retry-After", std::to_string(static_cast<long long>(std::ceil(wait))));
      log.Warn("dashboard sign-in rate limited", {{"remote", req.remote_addr}});
      return SendHtml(res, 429,
                      Layout("Sign in", nullptr,
                             SigninForm(cookie_csrf, email,
                                        "Too many sign-in attempts. Wait a minute and try "
                                        "again.")));
    }
    std::lock_guard<std::mutex> lock(mu);
    Result<std::optional<ads::Account>> account =
        ads::AccountBook(*store).SignIn(email, Field(form, "password"));
    if (!account.ok()) return Fail(res, account.status(), nullptr);
    if (!*account) {
      log.Info("dashboard sign-in failed", {{"remote", req.remote_addr}});
      return SendHtml(res, 401,
                      Layout("Sign in", nullptr,
                             SigninForm(cookie_csrf, email, "E-mail or password is wrong.")));
    }
    Result<SessionBook::Created> session = sessions->Create((*account)->id, clock());
    if (!session.ok()) return Fail(res, session.status(), nullptr);
    res.set_header("Set-Cookie",
                   Cookie(req, kSessionCookie, session->token, options.session_ttl_s));
    log.Info("dashboard sign-in", {{"account", (*account)->id}, {"remote", req.remote_addr}});
    res.set_redirect((*account)->role == ads::AccountRole::kOperator ? "/ads/operator" : "/ads/",
                     303);
  }

  void Signout(Ctx&, const httplib::Request& req, httplib::Response& res) {
    if (Status st = sessions->Destroy(CookieValue(req, kSessionCookie)); !st.ok()) {
      return Fail(res, st, nullptr);
    }
    res.set_header("Set-Cookie", Cookie(req, kSessionCookie, "", 0));
    res.set_redirect("/ads/signin", 303);
  }

  // ---- campaigns

  void CampaignsPage(Ctx& ctx, const httplib::Request&, httplib::Response& res) {
    ads::AdCatalog catalog(*store);
    Result<std::vector<ads::Campaign>> campaigns = catalog.Campaigns();
    if (!campaigns.ok()) return Fail(res, campaigns.status(), &ctx.session);
    Result<std::vector<ads::ReportRow>> rows =
        ads::BuildReport(*store, ads::ReportGrouping::kCampaign, FilterFor(ctx));
    if (!rows.ok()) return Fail(res, rows.status(), &ctx.session);
    std::string body =
        "<table class=\"campaigns\"><thead><tr><th scope=col>Campaign</th>"
        "<th scope=col>Status</th><th scope=col>CPM bid</th><th "
        "scope=col>Budget</th><th scope=col>Daily budget</th><th "
        "scope=col>Keywords</th></tr></thead><tbody>";
    int shown = 0;
    for (const ads::Campaign& c : *campaigns) {
      if (!ctx.is_operator() && c.advertiser_id != ctx.session.account.advertiser_id) continue;
      ++shown;
      std::vector<std::string> kws;
      for (const ads::Keyword& k : c.targeting.keywords) kws.push_back(k.text);
      body += "<tr data-id=\"" + std::to_string(c.id) +
              "\"><th scope=row><a href=\"/ads/campaigns/" + std::to_string(c.id) + "\">" +
              HtmlEscape(c.name) + "</a></th><td>" + std::string(ads::Name(c.status)) +
              "</td><td>" + ads::FormatMicros(c.cpm_bid_micros) + "</td><td>" +
              ads::FormatMicros(c.total_budget_micros) + "</td><td>" +
              (c.daily_budget_micros ? ads::FormatMicros(c.daily_budget_micros) : "–") +
              "</td><td>" + HtmlEscape(Join(kws, ", ")) + "</td></tr>";
    }
    body += "</tbody></table>";
    if (shown == 0) body = "<p class=\"empty\">No campaigns yet.</p>";
    if (!ctx.is_operator()) {
      body += "<p><a class=\"button\" href=\"/ads/campaigns/new\">New campaign</a></p>";
    }
    body += "<h2>Performance by campaign</h2>" +
            dashboard::ReportTable(*rows, "Campaign", "/ads/campaigns/") +
            "<p><a href=\"/ads/reports.csv?by=campaign\">Download CSV</a></p>";
    SendHtml(res, 200, Layout("Campaigns", &ctx.session, body));
  }

  std::string CampaignForm(const Ctx& ctx, const Form& f, bool editing, std::string_view action,
                           std::string_view error) {
    std::string fixed;
    if (editing) {
      fixed =
          "<p class=\"hint\">Bid and budgets are fixed once a campaign exists (end it and "
          "create another to change them): CPM " +
          HtmlEscape(Field(f, "cpm")) + ", budget " + HtmlEscape(Field(f, "budget")) + ", daily " +
          HtmlEscape(Field(f, "daily_budget").empty() ? "none" : Field(f, "daily_budget")) +
          ".</p>";
    } else {
      fixed =
          TextInput("cpm", "CPM bid (per thousand billable impressions, e.g. 2.50)",
                    Field(f, "cpm"), "inputmode=\"decimal\" required") +
          TextInput("budget", "Total budget", Field(f, "budget"),
                    "inputmode=\"decimal\" required") +
          TextInput("daily_budget", "Daily budget (optional)", Field(f, "daily_budget"),
                    "inputmode=\"decimal\"") +
          TextInput("start", "Start (YYYY-MM-DD, optional)", Field(f, "start"), "type=\"date\"");
    }
    const std::string pacing = Field(f, "pacing");
    return ErrorBox(error) + "<form class=\"edit\" method=\"post\" action=\"" + Attr(action) +
           "\">" + CsrfField(ctx.session.csrf_token) +
           TextInput("name", "Name", Field(f, "name"), "required maxlength=\"200\"") + fixed +
           TextInput("end", "End (YYYY-MM-DD, exclusive, optional)", Field(f, "end"),
                     "type=\"date\"") +
           "<label>Pacing<select name=\"pacing\"><option value=\"asap\"" +
           (pacing != "even" ? " selected" : "") +
           ">as fast as possible</option><option value=\"even\"" +
           (pacing == "even" ? " selected" : "") +
           ">even through the day</option></select></label>"
           "<label>Keywords, one per line (prefix exact: or phrase: to narrow the match)"
           "<textarea name=\"keywords\" rows=\"4\" required>" +
           HtmlEscape(Field(f, "keywords")) +
           "</textarea></label><label>Negative keywords, one per line<textarea "
           "name=\"negatives\" rows=\"2\">" +
           HtmlEscape(Field(f, "negatives")) + "</textarea></label>" +
           TextInput("languages", "Languages (e.g. en, de; empty for any)", Field(f, "languages")) +
           "<button type=\"submit\">" + (editing ? "Save" : "Create campaign") + "</button></form>";
  }

  // Applies the editable fields of `f` to `c`; validates the whole campaign.
  Status ApplyCampaignForm(const Form& f, bool creating, ads::Campaign& c) {
    c.name = Field(f, "name");
    if (creating) {
      auto money = [&](const char* key, const char* what, bool required) -> Result<ads::Micros> {
        const std::string v = Field(f, key);
        if (v.empty()) {
          if (required) return InvalidArgument(std::string(what) + " is required");
          return ads::Micros{0};
        }
        Result<ads::Micros> m = ads::ParseMoney(v);
        if (!m.ok()) return InvalidArgument(std::string(what) + ": " + m.status().message());
        if (*m < 0) return InvalidArgument(std::string(what) + " must not be negative");
        return m;
      };
      LUMEN_ASSIGN_OR_RETURN(c.cpm_bid_micros, money("cpm", "CPM bid", true));
      LUMEN_ASSIGN_OR_RETURN(c.total_budget_micros, money("budget", "Total budget", true));
      LUMEN_ASSIGN_OR_RETURN(c.daily_budget_micros, money("daily_budget", "Daily budget", false));
      if (!Field(f, "start").empty()) {
        Result<std::int64_t> t = ads::ParseTime(Field(f, "start"));
        if (!t.ok()) return InvalidArgument("Start: " + t.status().message());
        c.start_us = *t;
      }
    }
    c.end_us = 0;
    if (!Field(f, "end").empty()) {
      Result<std::int64_t> t = ads::ParseTime(Field(f, "end"));
      if (!t.ok()) return InvalidArgument("End: " + t.status().message());
      c.end_us = *t;
    }
    LUMEN_ASSIGN_OR_RETURN(
        c.pacing, ads::ParsePacing(Field(f, "pacing").empty() ? "asap" : Field(f, "pacing")));
    c.targeting = {};
    for (const std::string& line : Lines(Field(f, "keywords"))) {
      Result<ads::Keyword> k = ads::ParseKeyword(line);
      if (!k.ok()) return InvalidArgument("Keyword \"" + line + "\": " + k.status().message());
      c.targeting.keywords.push_back(std::move(*k));
    }
    c.targeting.negative_keywords = Lines(Field(f, "negatives"));
    c.targeting.languages = Lines(Field(f, "languages"), /*split_commas=*/true);
    LUMEN_RETURN_IF_ERROR(ads::ValidateCampaign(c));
    if (!creating && c.end_us != 0 && c.end_us <= c.start_us) {
      return InvalidArgument("campaign end must be after its start");
    }
    return Status::Ok();
  }

  static Form FormOf(const ads::Campaign& c) {
    Form f;
    f["name"] = c.name;
    f["cpm"] = ads::FormatMicros(c.cpm_bid_micros);
    f["budget"] = ads::FormatMicros(c.total_budget_micros);
    f["daily_budget"] = c.daily_budget_micros ? ads::FormatMicros(c.daily_budget_micros) : "";
    f["start"] = DateValue(c.start_us);
    f["end"] = DateValue(c.end_us);
    f["pacing"] = std::string(ads::Name(c.pacing));
    std::vector<std::string> kws;
    for (const ads::Keyword& k : c.targeting.keywords) {
      kws.push_back(k.match == ads::MatchType::kBroad
                        ? k.text
                        : std::string(ads::Name(k.match)) + ":" + k.text);
    }
    f["keywords"] = Join(kws, "\n");
    f["negatives"] = Join(c.targeting.negative_keywords, "\n");
    f["languages"] = Join(c.targeting.languages, ", ");
    return f;
  }

  void NewCampaignPage(Ctx& ctx, const httplib::Request&, httplib::Response& res) {
    if (ctx.is_operator()) {
      return SendHtml(res, 403,
                      Layout("New campaign", &ctx.session,
                             ErrorBox("Operators create campaigns for an advertiser with "
                                      "lumen ads campaign create.")));
    }
    SendHtml(res, 200,
             Layout("New campaign", &ctx.session,
                    CampaignForm(ctx, Form{{"pacing", "asap"}}, false, "/ads/campaigns", "")));
  }

  void CreateCampaign(Ctx& ctx, const httplib::Request&, httplib::Response& res) {
    if (ctx.is_operator()) return NotFoundPage(res, &ctx.session);
    ads::Campaign c;
    c.advertiser_id = ctx.session.account.advertiser_id;
    Status st = ApplyCampaignForm(ctx.form, true, c);
    Result<std::int64_t> id = st.ok() ? ads::AdCatalog(*store).CreateCampaign(c) : st;
    if (!id.ok()) {
      if (id.status().code() != StatusCode::kInvalidArgument) {
        return Fail(res, id.status(), &ctx.session);
      }
      return SendHtml(
          res, 400,
          Layout("New campaign", &ctx.session,
                 CampaignForm(ctx, ctx.form, false, "/ads/campaigns", id.status().message())));
    }
    res.set_redirect("/ads/campaigns/" + std::to_string(*id), 303);
  }

  void CampaignPage(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Campaign>> c = OwnedCampaign(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    const ads::Campaign& cm = **c;
    const std::string id = std::to_string(cm.id);
    const std::string by_text = QueryParam(req, "by") == "hour" ? "hour" : "day";
    const ads::ReportGrouping by =
        by_text == "hour" ? ads::ReportGrouping::kHour : ads::ReportGrouping::kDay;
    ads::ReportFilter f = FilterFor(ctx);
    f.campaign_id = cm.id;
    Result<std::vector<ads::ReportRow>> rows = ads::BuildReport(*store, by, f);
    if (!rows.ok()) return Fail(res, rows.status(), &ctx.session);
    Result<std::vector<ads::ReportRow>> creative_rows =
        ads::BuildReport(*store, ads::ReportGrouping::kCreative, f);
    if (!creative_rows.ok()) return Fail(res, creative_rows.status(), &ctx.session);
    Result<std::vector<ads::Creative>> creatives = ads::AdCatalog(*store).Creatives();
    if (!creatives.ok()) return Fail(res, creatives.status(), &ctx.session);

    std::vector<std::string> kws;
    for (const ads::Keyword& k : cm.targeting.keywords) {
      kws.push_back(std::string(ads::Name(k.match)) + ": " + k.text);
    }
    std::string body =
        "<dl class=\"facts\"><dt>Status</dt><dd class=\"status\">" +
        std::string(ads::Name(cm.status)) + "</dd><dt>CPM bid</dt><dd>" +
        ads::FormatMicros(cm.cpm_bid_micros) + "</dd><dt>Budget</dt><dd>" +
        ads::FormatMicros(cm.total_budget_micros) + "</dd><dt>Daily budget</dt><dd>" +
        (cm.daily_budget_micros ? ads::FormatMicros(cm.daily_budget_micros) : "none") +
        "</dd><dt>Runs</dt><dd>" + DateValue(cm.start_us) + " – " +
        (cm.end_us ? DateValue(cm.end_us) : "open-ended") + "</dd><dt>Pacing</dt><dd>" +
        std::string(ads::Name(cm.pacing)) + "</dd><dt>Keywords</dt><dd>" +
        HtmlEscape(Join(kws, ", ")) + "</dd>" +
        (cm.targeting.negative_keywords.empty()
             ? ""
             : "<dt>Negative keywords</dt><dd>" +
                   HtmlEscape(Join(cm.targeting.negative_keywords, ", ")) + "</dd>") +
        "</dl><p class=\"actions\"><a class=\"button\" href=\"/ads/campaigns/" + id +
        "/edit\">Edit</a> ";
    if (cm.status == ads::CampaignStatus::kActive) {
      body += ButtonForm("/ads/campaigns/" + id + "/status", ctx.session.csrf_token, "Pause",
                         "action", "pause");
    } else if (cm.status == ads::CampaignStatus::kPaused) {
      body += ButtonForm("/ads/campaigns/" + id + "/status", ctx.session.csrf_token, "Resume",
                         "action", "resume");
    }
    body +=
        "</p><h2>Creatives</h2><table class=\"creatives\"><thead><tr><th scope=col>Title</th>"
        "<th scope=col>Text</th><th scope=col>Display URL</th><th scope=col>Status</th><th "
        "scope=col>Review</th><th scope=col></th></tr></thead><tbody>";
    for (const ads::Creative& cr : *creatives) {
      if (cr.campaign_id != cm.id) continue;
      const std::string cid = std::to_string(cr.id);
      body += "<tr data-id=\"" + cid + "\"><th scope=row>" + HtmlEscape(cr.title) + "</th><td>" +
              HtmlEscape(cr.body) + "</td><td>" + HtmlEscape(cr.display_url) + "</td><td>" +
              std::string(ads::Name(cr.status)) + "</td><td>" + std::string(ads::Name(cr.review)) +
              "</td><td><a href=\"/ads/creatives/" + cid + "/edit\">Edit</a> " +
              ButtonForm("/ads/creatives/" + cid + "/status", ctx.session.csrf_token,
                         cr.status == ads::CreativeStatus::kActive ? "Pause" : "Resume", "action",
                         cr.status == ads::CreativeStatus::kActive ? "pause" : "resume") +
              "</td></tr>";
    }
    body += "</tbody></table><p><a class=\"button\" href=\"/ads/campaigns/" + id +
            "/creatives/new\">New creative</a></p>";
    body += "<h2>Report per " + by_text + "</h2><p class=\"switch\"><a href=\"/ads/campaigns/" +
            id + "?by=day\">per day</a> · <a href=\"/ads/campaigns/" + id +
            "?by=hour\">per hour</a> · <a href=\"/ads/reports.csv?by=" + by_text +
            "&amp;campaign=" + id + "\">CSV</a></p>" + dashboard::ReportChartSvg(*rows, by) +
            dashboard::ReportTable(*rows, by_text == "hour" ? "Hour (UTC)" : "Day (UTC)") +
            "<h2>By creative</h2>" + dashboard::ReportTable(*creative_rows, "Creative");
    SendHtml(res, 200, Layout(cm.name, &ctx.session, body));
  }

  void EditCampaignPage(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Campaign>> c = OwnedCampaign(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    const std::string action = "/ads/campaigns/" + std::to_string((*c)->id);
    SendHtml(res, 200,
             Layout("Edit " + (*c)->name, &ctx.session,
                    CampaignForm(ctx, FormOf(**c), true, action, "")));
  }

  void UpdateCampaign(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Campaign>> c = OwnedCampaign(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    ads::Campaign updated = **c;
    const std::string action = "/ads/campaigns/" + std::to_string(updated.id);
    Status st = ApplyCampaignForm(ctx.form, false, updated);
    if (st.ok()) {
      st = store->BeginWrite();
      if (st.ok()) st = store->UpdateCampaign(updated);
      if (st.ok()) st = store->Commit();
      if (!st.ok()) store->Rollback();
    }
    if (!st.ok()) {
      if (st.code() != StatusCode::kInvalidArgument) return Fail(res, st, &ctx.session);
      Form shown = ctx.form;
      const Form fixed = FormOf(**c);
      for (const char* k : {"cpm", "budget", "daily_budget"}) shown[k] = Field(fixed, k);
      return SendHtml(res, 400,
                      Layout("Edit " + (*c)->name, &ctx.session,
                             CampaignForm(ctx, shown, true, action, st.message())));
    }
    res.set_redirect(action, 303);
  }

  void CampaignStatus(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Campaign>> c = OwnedCampaign(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    const std::string action = Field(ctx.form, "action");
    if ((*c)->status == ads::CampaignStatus::kEnded) {
      return Fail(res, InvalidArgument("this campaign has ended; it cannot be paused or resumed"),
                  &ctx.session);
    }
    ads::CampaignStatus to;
    if (action == "pause") {
      to = ads::CampaignStatus::kPaused;
    } else if (action == "resume") {
      to = ads::CampaignStatus::kActive;
    } else {
      return Fail(res, InvalidArgument("action must be pause or resume"), &ctx.session);
    }
    if (Status st = ads::AdCatalog(*store).SetCampaignStatus((*c)->id, to); !st.ok()) {
      return Fail(res, st, &ctx.session);
    }
    res.set_redirect("/ads/campaigns/" + std::to_string((*c)->id), 303);
  }

  // ---- creatives

  std::string CreativeForm(const Ctx& ctx, const Form& f, std::string_view action, bool editing,
                           std::string_view error) {
    return ErrorBox(error) + "<form class=\"edit\" method=\"post\" action=\"" + Attr(action) +
           "\">" + CsrfField(ctx.session.csrf_token) +
           TextInput("title", "Title (at most 60 characters)", Field(f, "title"),
                     "required maxlength=\"60\"") +
           "<label>Text (at most 140 characters)<textarea name=\"body\" rows=\"3\" "
           "maxlength=\"140\" required>" +
           HtmlEscape(Field(f, "body")) + "</textarea></label>" +
           TextInput("display_url", "Display URL (e.g. example.com/shoes)", Field(f, "display_url"),
                     "required") +
           TextInput("landing_url", "Landing URL (http:// or https://)", Field(f, "landing_url"),
                     "type=\"url\" required") +
           "<p class=\"hint\">" +
           (editing ? "Saving sends the creative back to review; it is not served until an "
                      "operator approves it."
                    : "New creatives are served once an operator approves them.") +
           "</p><button type=\"submit\">" + (editing ? "Save" : "Create creative") +
           "</button></form>";
  }

  Status ApplyCreativeForm(const Form& f, ads::Creative& c) {
    c.title = Field(f, "title");
    c.body = Field(f, "body");
    c.display_url = Field(f, "display_url");
    c.landing_url = Field(f, "landing_url");
    return ads::ValidateCreative(c);
  }

  void NewCreativePage(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Campaign>> c = OwnedCampaign(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    SendHtml(
        res, 200,
        Layout("New creative for " + (*c)->name, &ctx.session,
               CreativeForm(ctx, {}, "/ads/campaigns/" + std::to_string((*c)->id) + "/creatives",
                            false, "")));
  }

  void CreateCreative(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Campaign>> c = OwnedCampaign(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    ads::Creative cr;
    cr.campaign_id = (*c)->id;
    Status st = ApplyCreativeForm(ctx.form, cr);
    Result<std::int64_t> id = st.ok() ? ads::AdCatalog(*store).CreateCreative(cr) : st;
    if (!id.ok()) {
      if (id.status().code() != StatusCode::kInvalidArgument) {
        return Fail(res, id.status(), &ctx.session);
      }
      return SendHtml(
          res, 400,
          Layout("New creative for " + (*c)->name, &ctx.session,
                 CreativeForm(ctx, ctx.form,
                              "/ads/campaigns/" + std::to_string((*c)->id) + "/creatives", false,
                              id.status().message())));
    }
    res.set_redirect("/ads/campaigns/" + std::to_string((*c)->id), 303);
  }

  void EditCreativePage(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Creative>> c = OwnedCreative(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    const Form f{{"title", (*c)->title},
                 {"body", (*c)->body},
                 {"display_url", (*c)->display_url},
                 {"landing_url", (*c)->landing_url}};
    SendHtml(res, 200,
             Layout("Edit creative", &ctx.session,
                    CreativeForm(ctx, f, "/ads/creatives/" + std::to_string((*c)->id), true, "")));
  }

  void UpdateCreative(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Creative>> c = OwnedCreative(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    ads::Creative updated = **c;
    Status st = ApplyCreativeForm(ctx.form, updated);
    updated.review = ads::ReviewState::kPending;
    if (st.ok()) {
      st = store->BeginWrite();
      if (st.ok()) st = store->UpdateCreative(updated);
      if (st.ok()) st = store->Commit();
      if (!st.ok()) store->Rollback();
    }
    if (!st.ok()) {
      if (st.code() != StatusCode::kInvalidArgument) return Fail(res, st, &ctx.session);
      return SendHtml(
          res, 400,
          Layout("Edit creative", &ctx.session,
                 CreativeForm(ctx, ctx.form, "/ads/creatives/" + std::to_string(updated.id), true,
                              st.message())));
    }
    res.set_redirect("/ads/campaigns/" + std::to_string(updated.campaign_id), 303);
  }

  void CreativeStatus(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<std::optional<ads::Creative>> c = OwnedCreative(ctx, req.matches[1].str());
    if (!c.ok()) return Fail(res, c.status(), &ctx.session);
    if (!*c) return NotFoundPage(res, &ctx.session);
    const std::string action = Field(ctx.form, "action");
    ads::AdCatalog catalog(*store);
    Status st;
    if (action == "pause") {
      st = catalog.SetCreativeStatus((*c)->id, ads::CreativeStatus::kPaused);
    } else if (action == "resume") {
      st = catalog.SetCreativeStatus((*c)->id, ads::CreativeStatus::kActive);
    } else if (ctx.is_operator() && action == "approve") {
      st = catalog.ReviewCreative((*c)->id, ads::ReviewState::kApproved);
    } else if (ctx.is_operator() && action == "reject") {
      st = catalog.ReviewCreative((*c)->id, ads::ReviewState::kRejected);
    } else {
      st = InvalidArgument("action must be pause or resume");
    }
    if (!st.ok()) return Fail(res, st, &ctx.session);
    const std::string back = Field(ctx.form, "back") == "operator"
                                 ? "/ads/operator"
                                 : "/ads/campaigns/" + std::to_string((*c)->campaign_id);
    res.set_redirect(back, 303);
  }

  // ---- reports

  struct ReportRequest {
    ads::ReportGrouping by = ads::ReportGrouping::kDay;
    std::string by_text = "day";
    ads::ReportFilter filter;
  };

  Result<ReportRequest> ParseReportRequest(const Ctx& ctx, const httplib::Request& req) {
    ReportRequest r;
    r.by_text = QueryParam(req, "by");
    if (r.by_text.empty()) r.by_text = "day";
    LUMEN_ASSIGN_OR_RETURN(r.by, ads::ParseReportGrouping(r.by_text));
    r.filter = FilterFor(ctx);
    const std::string campaign = QueryParam(req, "campaign");
    if (!campaign.empty()) {
      LUMEN_ASSIGN_OR_RETURN(std::optional<ads::Campaign> c, OwnedCampaign(ctx, campaign));
      if (!c) return NotFound("no such campaign");
      r.filter.campaign_id = c->id;
    }
    for (const char* key : {"from", "to"}) {
      const std::string v = QueryParam(req, key);
      if (v.empty()) continue;
      Result<std::int64_t> t = ads::ParseTime(v);
      if (!t.ok()) return InvalidArgument(std::string(key) + ": " + t.status().message());
      (std::string_view(key) == "from" ? r.filter.from_us : r.filter.to_us) = *t;
    }
    return r;
  }

  void ReportsPage(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<ReportRequest> r = ParseReportRequest(ctx, req);
    if (!r.ok()) return Fail(res, r.status(), &ctx.session);
    Result<std::vector<ads::ReportRow>> rows = ads::BuildReport(*store, r->by, r->filter);
    if (!rows.ok()) return Fail(res, rows.status(), &ctx.session);
    const bool period = r->by == ads::ReportGrouping::kDay || r->by == ads::ReportGrouping::kHour;
    std::string qs = "by=" + r->by_text;
    if (r->filter.campaign_id) qs += "&amp;campaign=" + std::to_string(r->filter.campaign_id);
    std::string body = "<p class=\"switch\">";
    for (const char* g : {"day", "hour", "campaign", "creative"}) {
      body +=
          "<a href=\"/ads/reports?by=" + std::string(g) +
          (r->filter.campaign_id ? "&amp;campaign=" + std::to_string(r->filter.campaign_id) : "") +
          "\"" + (r->by_text == g ? " aria-current=\"page\"" : "") + ">per " + g + "</a> · ";
    }
    body += "<a href=\"/ads/reports.csv?" + qs + "\">CSV</a></p>";
    if (period) body += dashboard::ReportChartSvg(*rows, r->by);
    const std::string first = r->by == ads::ReportGrouping::kDay          ? "Day (UTC)"
                              : r->by == ads::ReportGrouping::kHour       ? "Hour (UTC)"
                              : r->by == ads::ReportGrouping::kCampaign   ? "Campaign"
                              : r->by == ads::ReportGrouping::kAdvertiser ? "Advertiser"
                                                                          : "Creative";
    body += dashboard::ReportTable(
        *rows, first, r->by == ads::ReportGrouping::kCampaign ? "/ads/campaigns/" : "");
    SendHtml(res, 200, Layout("Reports", &ctx.session, body));
  }

  void ReportsCsv(Ctx& ctx, const httplib::Request& req, httplib::Response& res) {
    Result<ReportRequest> r = ParseReportRequest(ctx, req);
    if (!r.ok()) return Fail(res, r.status(), &ctx.session);
    Result<std::vector<ads::ReportRow>> rows = ads::BuildReport(*store, r->by, r->filter);
    if (!rows.ok()) return Fail(res, rows.status(), &ctx.session);
    res.set_header("Content-Disposition",
                   "attachment; filename=\"lumen-report-" + r->by_text + ".csv\"");
    res.set_content(ads::ReportToCsv(*rows, r->by), "text/csv; charset=utf-8");
  }

  // ---- operator

  void OperatorPage(Ctx& ctx, const httplib::Request&, httplib::Response& res) {
    if (!ctx.is_operator()) return NotFoundPage(res, &ctx.session);
    Result<ads::VerifyReport> v = ads::VerifyLedger(*store);
    if (!v.ok()) return Fail(res, v.status(), &ctx.session);
    Result<std::vector<ads::ReportRow>> rows =
        ads::BuildReport(*store, ads::ReportGrouping::kAdvertiser, {});
    if (!rows.ok()) return Fail(res, rows.status(), &ctx.session);
    ads::AdCatalog catalog(*store);
    Result<std::vector<ads::Advertiser>> advertisers = catalog.Advertisers();
    if (!advertisers.ok()) return Fail(res, advertisers.status(), &ctx.session);
    Result<std::vector<ads::Creative>> creatives = catalog.Creatives();
    if (!creatives.ok()) return Fail(res, creatives.status(), &ctx.session);

    std::string body = "<section class=\"verify " + std::string(v->ok ? "ok" : "bad") +
                       "\" id=\"ledger\"><h2>Ledger</h2>";
    if (v->ok) {
      body += "<p><strong data-verified=\"true\">Verified</strong>: " + std::to_string(v->entries) +
              " entries, hash chain intact, postings balanced, roll-ups, balances and spend "
              "re-derived.</p><p>Head hash <code>" +
              (v->head_hash.empty() ? "(empty ledger)" : v->head_hash) +
              "</code></p><p>Billable impressions " + std::to_string(v->billable) + ", billed " +
              ads::FormatNanos(v->billed_nanos) + ", adjustments " +
              ads::FormatNanos(v->adjustments_nanos) + "</p>";
    } else {
      body += "<p><strong data-verified=\"false\">INCONSISTENT</strong> after " +
              std::to_string(v->entries) + " entries" +
              (v->first_bad_seq ? "; first bad entry " + std::to_string(v->first_bad_seq) : "") +
              ".</p><p>" + HtmlEscape(v->problem) + "</p>";
    }
    body += "</section>";
    // Revenue per currency: the sum of every advertiser's spend.
    std::map<std::string, ads::Nanos> revenue;
    for (const ads::ReportRow& r : *rows) revenue[r.currency] += r.spend;
    body += "<h2>Revenue</h2><ul class=\"revenue\">";
    for (const auto& [currency, nanos] : revenue) {
      body += "<li data-currency=\"" + HtmlEscape(currency) + "\">" + ads::FormatNanos(nanos) +
              " " + HtmlEscape(currency) + "</li>";
    }
    if (revenue.empty()) body += "<li>none yet</li>";
    body +=
        "</ul><h2>Advertisers</h2><table class=\"advertisers\"><thead><tr><th "
        "scope=col>Id</th><th scope=col>Name</th><th scope=col>Contact</th><th "
        "scope=col>Status</th></tr></thead><tbody>";
    for (const ads::Advertiser& a : *advertisers) {
      body += "<tr><td>" + std::to_string(a.id) + "</td><td>" + HtmlEscape(a.name) + "</td><td>" +
              HtmlEscape(a.contact) + "</td><td>" + std::string(ads::Name(a.status)) + "</td></tr>";
    }
    body += "</tbody></table><h2>Performance by advertiser</h2>" +
            dashboard::ReportTable(*rows, "Advertiser") +
            "<p><a href=\"/ads/reports.csv?by=advertiser\">Download CSV</a></p>"
            "<h2>Creatives awaiting review</h2>";
    std::string pending;
    for (const ads::Creative& c : *creatives) {
      if (c.review != ads::ReviewState::kPending) continue;
      const std::string id = std::to_string(c.id);
      const std::string action = "/ads/creatives/" + id + "/status";
      pending += "<tr data-id=\"" + id + "\"><th scope=row>" + HtmlEscape(c.title) + "</th><td>" +
                 HtmlEscape(c.body) + "</td><td>" + HtmlEscape(c.landing_url) + "</td><td>" +
                 "<form class=\"inline\" method=\"post\" action=\"" + action + "\">" +
                 CsrfField(ctx.session.csrf_token) +
                 "<input type=\"hidden\" name=\"back\" value=\"operator\"><button name=\"action\" "
                 "value=\"approve\">Approve</button> <button name=\"action\" "
                 "value=\"reject\">Reject</button></form></td></tr>";
    }
    body += pending.empty() ? "<p class=\"empty\">None.</p>"
                            : "<table class=\"pending\"><tbody>" + pending + "</tbody></table>";
    SendHtml(res, 200, Layout("Operator", &ctx.session, body));
  }
};

Dashboard::Dashboard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dashboard::~Dashboard() = default;

Result<std::unique_ptr<Dashboard>> Dashboard::Open(const DashboardOptions& options, Logger& log,
                                                   Clock clock) {
  if (!clock) {
    clock = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  auto impl = std::make_unique<Impl>(options, log, std::move(clock));
  LUMEN_ASSIGN_OR_RETURN(impl->store, ads::SqliteStore::Open(options.db_path, options.store));
  impl->sessions = std::make_unique<SessionBook>(*impl->store, options.session_ttl_s);
  return std::unique_ptr<Dashboard>(new Dashboard(std::move(impl)));
}

Result<std::unique_ptr<Dashboard>> OpenDashboard(const Config& config, Logger& log) {
  LUMEN_ASSIGN_OR_RETURN(DashboardOptions options, DashboardOptions::FromConfig(config));
  if (!options.enabled) return std::unique_ptr<Dashboard>();
  return Dashboard::Open(options, log);
}

void Dashboard::Register(HttpServer& server) {
  Impl* d = impl_.get();
  using Ctx = Impl::Ctx;
  using Req = httplib::Request;
  using Res = httplib::Response;
  server.Get("/ads", "/ads", [](const Req&, Res& res) { res.set_redirect("/ads/", 301); });
  server.Get("/ads/signin", "/ads/signin", [d](const Req& q, Res& r) { d->SigninPage(q, r); });
  server.Post("/ads/signin", "/ads/signin", [d](const Req& q, Res& r) { d->Signin(q, r); });
  auto page = [d](auto method) {
    return [d, method](Ctx& c, const Req& q, Res& r) { (d->*method)(c, q, r); };
  };
  d->Authed(server, true, "/ads/signout", "/ads/signout", page(&Impl::Signout));
  d->Authed(server, false, "/ads/", "/ads/", page(&Impl::CampaignsPage));
  d->Authed(server, false, "/ads/campaigns/new", "/ads/campaigns/new",
            page(&Impl::NewCampaignPage));
  d->Authed(server, true, "/ads/campaigns", "/ads/campaigns", page(&Impl::CreateCampaign));
  d->Authed(server, false, R"(/ads/campaigns/(\d+))", "/ads/campaigns/:id",
            page(&Impl::CampaignPage));
  d->Authed(server, true, R"(/ads/campaigns/(\d+))", "/ads/campaigns/:id",
            page(&Impl::UpdateCampaign));
  d->Authed(server, false, R"(/ads/campaigns/(\d+)/edit)", "/ads/campaigns/:id/edit",
            page(&Impl::EditCampaignPage));
  d->Authed(server, true, R"(/ads/campaigns/(\d+)/status)", "/ads/campaigns/:id/status",
            page(&Impl::CampaignStatus));
  d->Authed(server, false, R"(/ads/campaigns/(\d+)/creatives/new)",
            "/ads/campaigns/:id/creatives/new", page(&Impl::NewCreativePage));
  d->Authed(server, true, R"(/ads/campaigns/(\d+)/creatives)", "/ads/campaigns/:id/creatives",
            page(&Impl::CreateCreative));
  d->Authed(server, false, R"(/ads/creatives/(\d+)/edit)", "/ads/creatives/:id/edit",
            page(&Impl::EditCreativePage));
  d->Authed(server, true, R"(/ads/creatives/(\d+))", "/ads/creatives/:id",
            page(&Impl::UpdateCreative));
  d->Authed(server, true, R"(/ads/creatives/(\d+)/status)", "/ads/creatives/:id/status",
            page(&Impl::CreativeStatus));
  d->Authed(server, false, "/ads/reports", "/ads/reports", page(&Impl::ReportsPage));
  d->Authed(server, false, "/ads/reports.csv", "/ads/reports.csv", page(&Impl::ReportsCsv));
  d->Authed(server, false, "/ads/operator", "/ads/operator", page(&Impl::OperatorPage));
}

}  // namespace lumen::web
