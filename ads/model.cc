#include "ads/model.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace lumen::ads {
namespace {

template <typename E, std::size_t N>
Result<E> ParseEnum(std::string_view s, const std::string_view (&names)[N], std::string_view what) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  std::string options;
  for (std::size_t i = 0; i < N; ++i) options += (i ? ", " : "") + std::string(names[i]);
  return InvalidArgument("unknown " + std::string(what) + " \"" + std::string(s.substr(0, 40)) +
                         "\" (expected " + options + ")");
}

constexpr std::string_view kAdvertiserStatus[] = {"active", "paused"};
constexpr std::string_view kCampaignStatus[] = {"active", "paused", "ended"};
constexpr std::string_view kPacing[] = {"asap", "even"};
constexpr std::string_view kMatchType[] = {"exact", "phrase", "broad"};
constexpr std::string_view kCreativeStatus[] = {"active", "paused"};
constexpr std::string_view kReviewState[] = {"pending", "approved", "rejected"};

bool HasControl(std::string_view s) {
  for (const unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Status CheckText(std::string_view field, std::string_view text, std::size_t max_chars,
                 bool required) {
  Result<std::size_t> n = Utf8Length(text);
  if (!n.ok()) return InvalidArgument(std::string(field) + ": " + n.status().message());
  if (required && *n == 0) return InvalidArgument(std::string(field) + " is required");
  if (*n > max_chars) {
    return InvalidArgument(std::string(field) + " is " + std::to_string(*n) +
                           " characters; the limit is " + std::to_string(max_chars));
  }
  if (HasControl(text)) return InvalidArgument(std::string(field) + " has control characters");
  return Status::Ok();
}

}  // namespace

std::string_view Name(AdvertiserStatus s) {
  return kAdvertiserStatus[static_cast<int>(s)];
}
std::string_view Name(CampaignStatus s) {
  return kCampaignStatus[static_cast<int>(s)];
}
std::string_view Name(Pacing p) {
  return kPacing[static_cast<int>(p)];
}
std::string_view Name(MatchType m) {
  return kMatchType[static_cast<int>(m)];
}
std::string_view Name(CreativeStatus s) {
  return kCreativeStatus[static_cast<int>(s)];
}
std::string_view Name(ReviewState r) {
  return kReviewState[static_cast<int>(r)];
}
Result<AdvertiserStatus> ParseAdvertiserStatus(std::string_view s) {
  return ParseEnum<AdvertiserStatus>(s, kAdvertiserStatus, "advertiser status");
}
Result<CampaignStatus> ParseCampaignStatus(std::string_view s) {
  return ParseEnum<CampaignStatus>(s, kCampaignStatus, "campaign status");
}
Result<Pacing> ParsePacing(std::string_view s) {
  return ParseEnum<Pacing>(s, kPacing, "pacing");
}
Result<MatchType> ParseMatchType(std::string_view s) {
  return ParseEnum<MatchType>(s, kMatchType, "match type");
}
Result<CreativeStatus> ParseCreativeStatus(std::string_view s) {
  return ParseEnum<CreativeStatus>(s, kCreativeStatus, "creative status");
}
Result<ReviewState> ParseReviewState(std::string_view s) {
  return ParseEnum<ReviewState>(s, kReviewState, "review state");
}

Result<std::size_t> Utf8Length(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80         ? 1
                      : (c >> 5) == 6  ? 2
                      : (c >> 4) == 14 ? 3
                      : (c >> 3) == 30 ? 4
                                       : 0;
    if (len == 0 || i + len > text.size()) return InvalidArgument("malformed UTF-8");
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2) {
        return InvalidArgument("malformed UTF-8");
      }
    }
    i += len;
    ++n;
  }
  return n;
}

Status ValidateLandingUrl(std::string_view url) {
  if (url.empty()) return InvalidArgument("landing URL is required");
  if (url.size() > kMaxUrlBytes) return InvalidArgument("landing URL is longer than 2048 bytes");
  for (const unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) {
      return InvalidArgument(
          "landing URL has a space, control or non-ASCII character (percent-encode it)");
    }
  }
  std::string lower(url.substr(0, 8));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t rest = 0;
  if (lower.rfind("https://", 0) == 0) {
    rest = 8;
  } else if (lower.rfind("http://", 0) == 0) {
    rest = 7;
  } else {
    return InvalidArgument("landing URL must start with http:// or https:// (got \"" +
                           std::string(url.substr(0, 40)) + "\")");
  }
  const std::string_view after = url.substr(rest);
  const std::size_t end = after.find_first_of("/?#");
  std::string_view authority = after.substr(0, end);
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    return InvalidArgument("landing URL must not carry user info (\"user@host\")");
  }
  const std::string_view host = authority.substr(0, authority.rfind(':'));
  if (host.empty() || host.front() == '.' || host.front() == '-') {
    return InvalidArgument("landing URL has no valid host");
  }
  return Status::Ok();
}

Status ValidateAdvertiser(const Advertiser& a) {
  LUMEN_RETURN_IF_ERROR(CheckText("advertiser name", a.name, kMaxNameChars, true));
  LUMEN_RETURN_IF_ERROR(CheckText("contact", a.contact, kMaxNameChars, true));
  if (a.currency.size() != 3 || !std::isupper(static_cast<unsigned char>(a.currency[0])) ||
      !std::isupper(static_cast<unsigned char>(a.currency[1])) ||
      !std::isupper(static_cast<unsigned char>(a.currency[2]))) {
    return InvalidArgument("currency must be a three-letter ISO 4217 code such as USD (got \"" +
                           a.currency.substr(0, 10) + "\")");
  }
  return Status::Ok();
}

Status ValidateCampaign(const Campaign& c) {
  LUMEN_RETURN_IF_ERROR(CheckText("campaign name", c.name, kMaxNameChars, true));
  if (c.advertiser_id <= 0) return InvalidArgument("campaign needs an advertiser");
  if (c.cpm_bid_micros <= 0) return InvalidArgument("CPM bid must be greater than zero");
  if (c.cpm_bid_micros > kMaxCpmMicros) {
    return InvalidArgument("CPM bid is above the limit of " + FormatMicros(kMaxCpmMicros));
  }
  if (c.total_budget_micros <= 0) return InvalidArgument("total budget must be greater than zero");
  if (c.total_budget_micros > kMaxBudgetMicros || c.daily_budget_micros > kMaxBudgetMicros) {
    return InvalidArgument("budget is above the limit of " + FormatMicros(kMaxBudgetMicros));
  }
  if (c.daily_budget_micros < 0) return InvalidArgument("daily budget must not be negative");
  if (c.end_us != 0 && c.end_us <= c.start_us) {
    return InvalidArgument("campaign end must be after its start");
  }
  if (c.targeting.keywords.empty()) return InvalidArgument("campaign needs at least one keyword");
  if (c.targeting.keywords.size() + c.targeting.negative_keywords.size() > kMaxKeywords) {
    return InvalidArgument("campaign has more than 1000 keywords");
  }
  for (const Keyword& k : c.targeting.keywords) {
    LUMEN_RETURN_IF_ERROR(CheckText("keyword", k.text, 100, true));
  }
  for (const std::string& k : c.targeting.negative_keywords) {
    LUMEN_RETURN_IF_ERROR(CheckText("negative keyword", k, 100, true));
  }
  for (const std::string& l : c.targeting.languages) {
    if (l.empty() || l.size() > 8) return InvalidArgument("language \"" + l + "\" is not a tag");
    for (const char ch : l) {
      if (!std::isalpha(static_cast<unsigned char>(ch)) && ch != '-') {
        return InvalidArgument("language \"" + l + "\" is not a tag");
      }
    }
  }
  return Status::Ok();
}

Status ValidateCreative(const Creative& c) {
  if (c.campaign_id <= 0) return InvalidArgument("creative needs a campaign");
  LUMEN_RETURN_IF_ERROR(CheckText("title", c.title, kMaxTitleChars, true));
  LUMEN_RETURN_IF_ERROR(CheckText("body", c.body, kMaxBodyChars, false));
  LUMEN_RETURN_IF_ERROR(CheckText("display URL", c.display_url, 100, true));
  return ValidateLandingUrl(c.landing_url);
}

Result<Keyword> ParseKeyword(std::string_view spec) {
  Keyword k;
  const std::size_t colon = spec.find(':');
  if (colon != std::string_view::npos) {
    Result<MatchType> m = ParseMatchType(spec.substr(0, colon));
    if (m.ok()) {
      k.match = *m;
      spec.remove_prefix(colon + 1);
    }
  }
  k.text = std::string(spec);
  if (k.text.empty()) return InvalidArgument("empty keyword");
  return k;
}

std::string TargetingToJson(const Targeting& t) {
  nlohmann::json j;
  j["keywords"] = nlohmann::json::array();
  for (const Keyword& k : t.keywords) {
    j["keywords"].push_back({{"text", k.text}, {"match", std::string(Name(k.match))}});
  }
  j["negative"] = t.negative_keywords;
  j["languages"] = t.languages;
  return j.dump();
}

Result<Targeting> TargetingFromJson(std::string_view json) {
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    Targeting t;
    for (const auto& k : j.at("keywords")) {
      LUMEN_ASSIGN_OR_RETURN(const MatchType m, ParseMatchType(k.at("match").get<std::string>()));
      t.keywords.push_back({k.at("text").get<std::string>(), m});
    }
    t.negative_keywords = j.at("negative").get<std::vector<std::string>>();
    t.languages = j.at("languages").get<std::vector<std::string>>();
    return t;
  } catch (const std::exception& e) {
    return Corruption(std::string("stored targeting is not valid: ") + e.what());
  }
}

}  // namespace lumen::ads
