// The advertiser-side model: advertisers own campaigns, campaigns own creatives and targeting.
// Plain values; Validate* functions enforce the rules every writer (CLI, dashboard, API) must
// apply before a record is stored. Money is in micros (see ads/money.h); times are Unix
// microseconds (UTC).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ads/money.h"
#include "core/status.h"

namespace lumen::ads {

enum class AdvertiserStatus { kActive, kPaused };
enum class CampaignStatus { kActive, kPaused, kEnded };
enum class Pacing { kAsap, kEven };
enum class MatchType { kExact, kPhrase, kBroad };
enum class CreativeStatus { kActive, kPaused };
enum class ReviewState { kPending, kApproved, kRejected };

struct Advertiser {
  std::int64_t id = 0;  // assigned by the store
  std::string name;
  std::string contact;           // e-mail or other address for billing questions
  std::string currency = "USD";  // ISO 4217 code; every amount of this advertiser is in it
  AdvertiserStatus status = AdvertiserStatus::kActive;
  std::string api_key_hash;  // hex SHA-256 of the advertiser's API key (the key is never stored)
  std::int64_t created_us = 0;
};

struct Keyword {
  std::string text;  // as typed; matched after normalisation (ads/targeting.h)
  MatchType match = MatchType::kBroad;
};

struct Targeting {
  std::vector<Keyword> keywords;               // at least one
  std::vector<std::string> negative_keywords;  // any match excludes the campaign
  std::vector<std::string> languages;          // empty = any; else BCP 47 primary tags ("en")
};

struct Campaign {
  std::int64_t id = 0;
  std::int64_t advertiser_id = 0;
  std::string name;
  CampaignStatus status = CampaignStatus::kActive;
  Micros cpm_bid_micros = 0;       // the most it pays per thousand billable impressions; > 0
  Micros daily_budget_micros = 0;  // 0 = no daily limit
  Micros total_budget_micros = 0;  // > 0
  std::int64_t start_us = 0;       // 0 = from creation
  std::int64_t end_us = 0;         // 0 = open-ended; exclusive
  Pacing pacing = Pacing::kAsap;
  Targeting targeting;
  std::int64_t created_us = 0;
};

struct Creative {
  std::int64_t id = 0;
  std::int64_t campaign_id = 0;
  std::string title;        // <= 60 characters
  std::string body;         // <= 140 characters
  std::string display_url;  // shown to the reader, e.g. "example.com/shoes"
  std::string landing_url;  // where a click goes: http:// or https:// only
  CreativeStatus status = CreativeStatus::kActive;
  ReviewState review = ReviewState::kPending;  // only approved creatives are served
  std::int64_t created_us = 0;
};

inline constexpr std::size_t kMaxTitleChars = 60;
inline constexpr std::size_t kMaxBodyChars = 140;
inline constexpr std::size_t kMaxNameChars = 200;
inline constexpr std::size_t kMaxUrlBytes = 2048;
inline constexpr std::size_t kMaxKeywords = 1000;

// Each returns InvalidArgument naming the field and the rule that failed.
Status ValidateAdvertiser(const Advertiser& a);
Status ValidateCampaign(const Campaign& c);
Status ValidateCreative(const Creative& c);
// http(s) URL with a host, no whitespace or control characters, <= kMaxUrlBytes. Rejects
// javascript:, data:, file:, protocol-relative and scheme-less URLs.
Status ValidateLandingUrl(std::string_view url);

// Number of Unicode code points in UTF-8 text; InvalidArgument for malformed UTF-8.
Result<std::size_t> Utf8Length(std::string_view text);

std::string_view Name(AdvertiserStatus s);
std::string_view Name(CampaignStatus s);
std::string_view Name(Pacing p);
std::string_view Name(MatchType m);
std::string_view Name(CreativeStatus s);
std::string_view Name(ReviewState r);
Result<AdvertiserStatus> ParseAdvertiserStatus(std::string_view s);
Result<CampaignStatus> ParseCampaignStatus(std::string_view s);
Result<Pacing> ParsePacing(std::string_view s);
Result<MatchType> ParseMatchType(std::string_view s);
Result<CreativeStatus> ParseCreativeStatus(std::string_view s);
Result<ReviewState> ParseReviewState(std::string_view s);

// "phrase:running shoes" -> {"running shoes", kPhrase}; no prefix means broad.
Result<Keyword> ParseKeyword(std::string_view spec);

// Targeting <-> JSON text (how stores keep it).
std::string TargetingToJson(const Targeting& t);
Result<Targeting> TargetingFromJson(std::string_view json);

}  // namespace lumen::ads
