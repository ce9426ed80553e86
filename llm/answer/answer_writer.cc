#include "llm/answer/answer_writer.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <exception>
#include <set>
#include <unordered_set>

#include "llm/answer/terms.h"

namespace lumen::answer {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kInstructions =
    "You are Lumen, an answer engine. Answer the user's question using only the numbered "
    "sources provided. After each claim, cite the source that supports it as [n], for example "
    "\"Lists are mutable [2].\" Cite only the numbers of the sources given. If the sources do not "
    "answer the question, say so plainly instead of guessing. Answer in the language of the "
    "question. Be concise: a few sentences, or a short list when steps are asked for.";

std::string CutUtf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end)) + " …";
}

}  // namespace

std::string DropInvalidCitations(std::string_view text, int max_source, int* removed) {
  int dropped = 0;
  std::string out;
  std::size_t pos = 0;
  for (const CitationMarker& m : FindCitationMarkers(text)) {
    std::vector<int> keep;
    for (int id : m.ids) {
      if (id >= 1 && id <= max_source) {
        keep.push_back(id);
      } else {
        ++dropped;
      }
    }
    if (keep.size() == m.ids.size()) continue;  // valid as written
    out.append(text.substr(pos, m.span.begin - pos));
    if (keep.empty()) {
      while (!out.empty() && out.back() == ' ') out.pop_back();
    } else {
      out += '[';
      for (std::size_t i = 0; i < keep.size(); ++i) {
        if (i) out += ", ";
        out += std::to_string(keep[i]);
      }
      out += ']';
    }
    pos = m.span.end;
  }
  out.append(text.substr(pos));
  if (removed != nullptr) *removed = dropped;
  return out;
}

std::string StandaloneQuery(std::string_view question, const std::vector<Turn>& thread) {
  if (thread.empty()) return std::string(question);
  static const std::unordered_set<std::string> kAnaphora = {
      "it",   "its",   "this", "that", "these", "those", "they",
      "them", "their", "one",  "ones", "he",    "she",   "there"};
  bool leans = false;
  std::string lower;
  for (char c : question) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string word;
  for (std::size_t i = 0; i <= lower.size(); ++i) {
    const char c = i < lower.size() ? lower[i] : ' ';
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += c;
    } else {
      if (kAnaphora.count(word)) leans = true;
      word.clear();
    }
  }
  const std::vector<std::string> own = ContentTerms(question);
  if (!leans && own.size() > 3) return std::string(question);
  // Add the previous question's words that this one lacks (original spelling, not stems).
  const std::string& previous = thread.back().question;
  const std::set<std::string> have(own.begin(), own.end());
  std::string query(question);
  std::string token;
  std::set<std::string> added;
  for (std::size_t i = 0; i <= previous.size(); ++i) {
    const char c = i < previous.size() ? previous[i] : ' ';
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') {
      token += c;
      continue;
    }
    while (!token.empty() && token.back() == '.') token.pop_back();
    const std::vector<std::string> t = ContentTerms(token);
    if (!t.empty() && !have.count(t[0]) && added.insert(t[0]).second) query += " " + token;
    token.clear();
  }
  return query;
}

namespace {

// The question to ask for a generic section heading ("{}" = the page's subject), "skip" for a
// section that suggests nothing, "" for a heading that is a topic of its own.
std::string_view GenericSection(std::string_view heading) {
  std::string h;
  for (char c : heading) h += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<std::string_view, std::string_view> kSections[] = {
      {"examples", "Show me an example of {}"},
      {"example", "Show me an example of {}"},
      {"usage", "Show me an example of {}"},
      {"module contents", "What does {} provide?"},
      {"contents", "What does {} provide?"},
      {"reference", "What does {} provide?"},
      {"api", "What does {} provide?"},
      {"functions", "What does {} provide?"},
      {"introduction", "What is {} for?"},
      {"overview", "What is {} for?"},
      {"notes", "skip"},
      {"footnotes", "skip"},
      {"see also", "skip"},
  };
  for (const auto& [name, question] : kSections) {
    if (h == name) return question;
  }
  return {};
}

// The subject of a page from its title: "csv — CSV File Reading and Writing — Python 3.11
// documentation" -> "csv" (the part before the first dash when it is short), else the title up
// to its first separator.
std::string PageSubject(std::string_view title) {
  for (std::string_view dash : {" \u2014 ", " - ", " | ", ": "}) {
    const std::size_t at = title.find(dash);
    if (at != std::string_view::npos && at > 0) return std::string(title.substr(0, at));
  }
  return title.size() <= 60 ? std::string(title) : std::string();
}

}  // namespace

std::vector<std::string> SuggestRelated(std::string_view question, const SourceList& sources,
                                        int n) {
  std::vector<std::string> out;
  const std::vector<std::string> q = ContentTerms(question);
  const std::set<std::string> asked(q.begin(), q.end());
  std::set<std::string> seen;
  auto consider = [&](std::string topic) {
    while (!topic.empty() && (topic.back() == ' ' || topic.back() == '.')) topic.pop_back();
    if (topic.size() < 3 || topic.size() > 80) return;
    const std::vector<std::string> terms = ContentTerms(topic);
    if (terms.empty()) return;
    std::size_t fresh = 0;
    for (const std::string& t : terms) fresh += asked.count(t) ? 0 : 1;
    if (fresh == 0) return;  // nothing the user has not asked about
    std::string key;
    for (const std::string& t : terms) key += t + " ";
    if (!seen.insert(key).second) return;
    const bool identifier =
        topic.find_first_of("._()") != std::string::npos && topic.find(' ') == std::string::npos;
    out.push_back(identifier ? "How do I use " + topic + "?" : "Tell me more about " + topic);
  };
  for (const Source& s : sources) {
    if (static_cast<int>(out.size()) >= n) break;
    if (s.heading_path.empty()) continue;
    const std::size_t sep = s.heading_path.rfind(" > ");
    const std::string heading =
        sep == std::string::npos ? s.heading_path : s.heading_path.substr(sep + 3);
    // "Examples", "Module Contents": a section name, not a topic; ask about the page's subject.
    const std::string_view generic = GenericSection(heading);
    if (generic.empty()) {
      consider(heading);
      continue;
    }
    const std::string subject = PageSubject(s.title);
    if (subject.empty() || generic == "skip") continue;
    std::string q = std::string(generic);
    q.replace(q.find("{}"), 2, subject);
    const std::vector<std::string> terms = ContentTerms(subject);
    const bool fresh = std::any_of(terms.begin(), terms.end(),
                                   [&](const std::string& t) { return !asked.count(t); });
    if ((fresh || generic.find("example") != std::string_view::npos) &&
        seen.insert("generic " + q).second) {
      out.push_back(q);
    }
  }
  for (const Source& s : sources) {
    if (static_cast<int>(out.size()) >= n) break;
    std::string title = s.title;
    // "csv — CSV File Reading and Writing — Python 3.11 documentation": keep the topic part.
    for (std::string_view dash : {" — ", " - ", " | "}) {
      const std::size_t at = title.find(dash);
      if (at != std::string::npos && at > 0) {
        const std::string rest = title.substr(at + dash.size());
        title = rest.size() > title.size() - rest.size() ? rest : title.substr(0, at);
        const std::size_t again = title.find(dash);
        if (again != std::string::npos) title.resize(again);
      }
    }
    consider(title);
  }
  if (static_cast<int>(out.size()) > n) out.resize(static_cast<std::size_t>(n));
  return out;
}

AnswerWriter::AnswerWriter(ModelBackend* backend, AnswerOptions options, SupportScorer scorer,
                           ExtractiveWriter extractive)
    : backend_(backend),
      options_(std::move(options)),
      scorer_(std::move(scorer)),
      extractive_(std::move(extractive)) {}

std::vector<llm::ChatMessage> AnswerWriter::BuildPrompt(const AnswerRequest& request) const {
  std::vector<llm::ChatMessage> messages;
  messages.push_back({"system", std::string(kInstructions), std::nullopt});
  for (const Turn& t : request.thread) {
    messages.push_back({"user", t.question, std::nullopt});
    messages.push_back({"assistant", t.answer, std::nullopt});
  }
  std::string user = "Sources:\n";
  for (const Source& s : request.sources) {
    user += "\n[" + std::to_string(s.n) + "] " + s.title;
    if (!s.url.empty()) user += " (" + s.url + ")";
    user += "\n" + CutUtf8(s.text, static_cast<std::size_t>(options_.max_source_chars)) + "\n";
  }
  if (request.sources.empty()) user += "(none)\n";
  user += "\nQuestion: " + request.question;
  messages.push_back({"user", std::move(user), std::nullopt});
  return messages;
}

void AnswerWriter::Finish(const AnswerRequest& request, Answer& answer) const {
  int max_n = 0;
  for (const Source& s : request.sources) max_n = std::max(max_n, s.n);
  answer.sentences = ParseCitedAnswer(answer.text, max_n);
  answer.check = CheckCitations(answer.sentences, request.sources, scorer_);
  answer.related = SuggestRelated(request.question, request.sources, options_.related_questions);
}

Answer AnswerWriter::Extractive(const AnswerRequest& request, std::string fallback_reason) const {
  const Clock::time_point t0 = Clock::now();
  Answer answer;
  answer.mode = "extractive";
  answer.fallback_reason = std::move(fallback_reason);
  const ExtractiveAnswer e = extractive_.Write(request.question, request.sources);
  answer.text = e.text.empty() ? options_.no_answer_text : e.text;
  if (request.on_delta) request.on_delta(answer.text);
  Finish(request, answer);
  answer.time_to_first_token_ms = answer.total_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return answer;
}

Answer AnswerWriter::Write(const AnswerRequest& request) const {
  if (backend_ == nullptr) return Extractive(request, "");
  if (request.sources.empty()) {
    return Extractive(request, "no sources to generate from");
  }
  GenerateRequest g;
  g.messages = BuildPrompt(request);
  g.max_tokens = options_.max_tokens;
  g.temperature = options_.temperature;
  g.deadline = request.deadline;
  g.num_sources = static_cast<int>(request.sources.size());
  // Leading whitespace is not streamed (nor kept): a reply that is only whitespace then falls
  // back to an extractive answer without blank lines before it.
  bool started = false;
  if (request.on_delta) {
    g.on_delta = [&](std::string_view delta) {
      if (!started) {
        const std::size_t text = delta.find_first_not_of(" \n\t\r");
        if (text == std::string_view::npos) return true;
        delta.remove_prefix(text);
        started = true;
      }
      return request.on_delta(delta);
    };
  }
  // A backend that throws (a bug, or an allocation failure in the engine) must not take the
  // request down with it: the answer falls back like any other model failure.
  Result<GenerateResult> r = Internal("the model backend did not run");
  try {
    r = backend_->Generate(g);
  } catch (const std::exception& e) {
    r = Internal(std::string("the model backend threw: ") + e.what());
  } catch (...) {
    r = Internal("the model backend threw");
  }
  if (!r.ok()) {
    Answer a = Extractive(
        request, std::string(StatusCodeName(r.status().code())) + ": " + r.status().message());
    a.backend = backend_->name();
    return a;
  }
  if (r->text.find_first_not_of(" \n\t\r") == std::string::npos) {
    Answer a = Extractive(request, "the model returned an empty answer");
    a.backend = backend_->name();
    return a;
  }
  Answer answer;
  answer.mode = "generative";
  answer.backend = backend_->name();
  int max_n = 0;
  for (const Source& s : request.sources) max_n = std::max(max_n, s.n);
  int dropped = 0;
  const std::size_t text_begin = r->text.find_first_not_of(" \n\t\r");
  answer.text = DropInvalidCitations(std::string_view(r->text).substr(text_begin), max_n, &dropped);
  answer.time_to_first_token_ms = r->time_to_first_token_ms;
  answer.total_ms = r->total_ms;
  Finish(request, answer);
  answer.check.invalid_citations += dropped;
  answer.check.citations += dropped;
  if (answer.check.citations > 0) {
    answer.check.citation_precision =
        static_cast<double>(answer.check.supported_citations) / answer.check.citations;
  }
  return answer;
}

}  // namespace lumen::answer
