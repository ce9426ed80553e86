#include "ads/targeting.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace lumen::ads {
namespace {

constexpr std::size_t kMaxWords = 256;

constexpr std::array<std::string_view, 48> kStopWords = {
    "a",    "an",    "and", "are",  "as",   "at",     "be",    "best", "by",  "can",
    "do",   "does",  "for", "from", "get",  "how",    "i",     "in",   "is",  "it",
    "me",   "my",    "of",  "on",   "or",   "should", "so",    "that", "the", "there",
    "this", "to",    "was", "what", "when", "where",  "which", "who",  "why", "will",
    "with", "would", "you", "your", "we",   "our",    "vs",    "good"};

bool IsStopWord(std::string_view w) {
  return std::find(kStopWords.begin(), kStopWords.end(), w) != kStopWords.end();
}

// Index of the first occurrence of `needle` as a contiguous run in `hay`, or npos.
std::size_t FindRun(const std::vector<std::string>& hay, const std::vector<std::string>& needle) {
  if (needle.empty() || needle.size() > hay.size()) return std::string::npos;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (std::equal(needle.begin(), needle.end(), hay.begin() + static_cast<long>(i))) return i;
  }
  return std::string::npos;
}

std::int64_t Coverage(std::int64_t base, std::size_t k, std::size_t q) {
  if (q == 0) q = k;
  k = std::min(k, q);
  return base + 400'000 * static_cast<std::int64_t>(k) / static_cast<std::int64_t>(q);
}

}  // namespace

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (const char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      cur.push_back(ch);
    } else if (c >= 'A' && c <= 'Z') {
      cur.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
      if (out.size() == kMaxWords) return out;
    }
  }
  if (!cur.empty() && out.size() < kMaxWords) out.push_back(std::move(cur));
  return out;
}

std::string Stem(std::string_view w) {
  auto ends = [&](std::string_view s) {
    return w.size() >= s.size() + 2 && w.substr(w.size() - s.size()) == s;
  };
  if (ends("ies")) return std::string(w.substr(0, w.size() - 3)) + "y";
  if (ends("sses") || ends("xes") || ends("ches") || ends("shes")) {
    return std::string(w.substr(0, w.size() - 2));
  }
  if (ends("s") && !ends("ss") && !ends("us") && !ends("is")) {
    return std::string(w.substr(0, w.size() - 1));
  }
  return std::string(w);
}

NormalizedQuestion NormalizeQuestion(std::string_view question) {
  NormalizedQuestion q;
  q.words = Words(question);
  for (const std::string& w : q.words) {
    q.stems.push_back(Stem(w));
    if (!IsStopWord(w)) q.content.push_back(w);
  }
  return q;
}

std::int64_t KeywordRelevance(const Keyword& keyword, const NormalizedQuestion& q) {
  const std::vector<std::string> kw = Words(keyword.text);
  if (kw.empty()) return 0;
  switch (keyword.match) {
    case MatchType::kExact: {
      std::vector<std::string> kw_content;
      for (const std::string& w : kw) {
        if (!IsStopWord(w)) kw_content.push_back(w);
      }
      if (kw_content.empty()) kw_content = kw;
      return !q.content.empty() && kw_content == q.content ? kRelevanceScale : 0;
    }
    case MatchType::kPhrase:
      if (FindRun(q.words, kw) == std::string::npos) return 0;
      return Coverage(600'000, kw.size(), q.content.size());
    case MatchType::kBroad: {
      for (const std::string& w : kw) {
        if (std::find(q.stems.begin(), q.stems.end(), Stem(w)) == q.stems.end()) return 0;
      }
      return Coverage(400'000, kw.size(), q.content.size());
    }
  }
  return 0;
}

std::int64_t CampaignRelevance(const Targeting& targeting, const NormalizedQuestion& q,
                               std::string_view language) {
  if (!targeting.languages.empty()) {
    const std::string primary(language.substr(0, language.find('-')));
    bool found = false;
    for (const std::string& l : targeting.languages) {
      std::string lp = l.substr(0, l.find('-'));
      for (char& c : lp) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string rp = primary;
      for (char& c : rp) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!rp.empty() && lp == rp) found = true;
    }
    if (!found) return 0;
  }
  for (const std::string& neg : targeting.negative_keywords) {
    const std::vector<std::string> nw = Words(neg);
    if (!nw.empty() && FindRun(q.words, nw) != std::string::npos) return 0;
    // A single negative word also excludes its plural/singular form.
    if (nw.size() == 1 && std::find(q.stems.begin(), q.stems.end(), Stem(nw[0])) != q.stems.end()) {
      return 0;
    }
  }
  std::int64_t best = 0;
  for (const Keyword& k : targeting.keywords) best = std::max(best, KeywordRelevance(k, q));
  return best;
}

}  // namespace lumen::ads
