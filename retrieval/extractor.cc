#include "retrieval/extractor.h"

#include <gumbo.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "retrieval/url.h"

namespace lumen::retrieval {
namespace {

// ---- gumbo ownership -------------------------------------------------------------------------

struct GumboOutputDeleter {
  void operator()(GumboOutput* out) const { gumbo_destroy_output(&kGumboDefaultOptions, out); }
};
using GumboDocument = std::unique_ptr<GumboOutput, GumboOutputDeleter>;

std::string_view Attr(const GumboNode* g, const char* name) {
  if (g->type != GUMBO_NODE_ELEMENT) return {};
  const GumboAttribute* a = gumbo_get_attribute(&g->v.element.attributes, name);
  return a == nullptr ? std::string_view() : std::string_view(a->value);
}

bool IsSpace(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Appends `s` to `out` with runs of whitespace collapsed to one space.
void AppendCollapsed(std::string& out, std::string_view s) {
  for (char c : s) {
    if (IsSpace(c)) {
      if (!out.empty() && out.back() != ' ' && out.back() != '\n') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
}

std::string Collapse(std::string_view s) {
  std::string out;
  AppendCollapsed(out, s);
  return std::string(Trim(out));
}

// ---- classification of elements ---------------------------------------------------------------

bool IsBlockTag(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_LISTING:
    case GUMBO_TAG_PLAINTEXT:
    case GUMBO_TAG_XMP: return true;
    default: return false;
  }
}

int HeadingLevel(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_H1: return 1;
    case GUMBO_TAG_H2: return 2;
    case GUMBO_TAG_H3: return 3;
    case GUMBO_TAG_H4: return 4;
    case GUMBO_TAG_H5: return 5;
    case GUMBO_TAG_H6: return 6;
    default: return 0;
  }
}

// Subtrees never rendered nor scored.
bool IsSkippedTag(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_MAP:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_DATALIST:
    case GUMBO_TAG_APPLET:
    case GUMBO_TAG_FRAMESET:
    case GUMBO_TAG_FRAME:
    case GUMBO_TAG_MENU: return true;
    default: return false;
  }
}

// Boilerplate by tag: pruned unless the element holds most of the page's text.
bool IsBoilerplateTag(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_LABEL: return true;
    default: return false;
  }
}

bool IsBoilerplateRole(std::string_view role) {
  return role == "navigation" || role == "banner" || role == "complementary" ||
         role == "contentinfo" || role == "menu" || role == "menubar" || role == "dialog" ||
         role == "alertdialog" || role == "search" || role == "toolbar" || role == "tablist";
}

// Splits lower-cased class/id text into words ("post-share_bar" -> post, share, bar).
template <typename Fn>
void ForEachClassWord(std::string_view s, Fn&& fn) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && !std::isalnum(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t j = i;
    while (j < s.size() && std::isalnum(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) fn(s.substr(i, j - i));
    i = j;
  }
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// Class/id words naming boilerplate.
bool IsJunkWord(std::string_view w) {
  static const std::unordered_set<std::string_view> kExact = {"ad",
                                                              "ads",
                                                              "adv",
                                                              "advert",
                                                              "advertisement",
                                                              "advertising",
                                                              "ad_container",
                                                              "sponsor",
                                                              "sponsored",
                                                              "promo",
                                                              "promotion",
                                                              "promoted",
                                                              "share",
                                                              "sharing",
                                                              "shares",
                                                              "social",
                                                              "socials",
                                                              "comment",
                                                              "comments",
                                                              "disqus",
                                                              "related",
                                                              "recommended",
                                                              "recommendations",
                                                              "recirc",
                                                              "newsletter",
                                                              "subscribe",
                                                              "subscription",
                                                              "signup",
                                                              "cookie",
                                                              "cookies",
                                                              "consent",
                                                              "gdpr",
                                                              "banner",
                                                              "breadcrumb",
                                                              "breadcrumbs",
                                                              "sidebar",
                                                              "widget",
                                                              "widgets",
                                                              "nav",
                                                              "navbar",
                                                              "navigation",
                                                              "menu",
                                                              "footer",
                                                              "masthead",
                                                              "pagination",
                                                              "pager",
                                                              "popup",
                                                              "modal",
                                                              "overlay",
                                                              "outbrain",
                                                              "taboola",
                                                              "trending",
                                                              "popular",
                                                              "tags",
                                                              "tagcloud",
                                                              "byline",
                                                              "author",
                                                              "bio",
                                                              "toolbar",
                                                              "tools",
                                                              "print",
                                                              "skip",
                                                              "hidden",
                                                              "hide",
                                                              "sr",
                                                              "visually",
                                                              "screenreader",
                                                              "caption",
                                                              "credit",
                                                              "credits",
                                                              "copyright",
                                                              "rss",
                                                              "login",
                                                              "paywall",
                                                              "meta",
                                                              "dateline",
                                                              "timestamp",
                                                              "more",
                                                              "readmore",
                                                              "next",
                                                              "prev",
                                                              "previous",
                                                              "jump",
                                                              "skyscraper",
                                                              "shoutbox",
                                                              "rail",
                                                              "seealso",
                                                              "cta",
                                                              "follow",
                                                              "signin",
                                                              "alert",
                                                              "partner",
                                                              "partners",
                                                              "teaser",
                                                              "teasers",
                                                              "newsfeed",
                                                              "feedback",
                                                              "headline",
                                                              "kicker",
                                                              "eyebrow",
                                                              "disclaimer",
                                                              "figcaption"};
  if (kExact.count(w)) return true;
  return StartsWith(w, "comment") || StartsWith(w, "share") || StartsWith(w, "social") ||
         StartsWith(w, "related") || StartsWith(w, "newsletter") || StartsWith(w, "advert") ||
         StartsWith(w, "sponsor") || StartsWith(w, "cookie") || StartsWith(w, "promo") ||
         StartsWith(w, "sidebar") || StartsWith(w, "recommend") || StartsWith(w, "subscri") ||
         StartsWith(w, "breadcrumb") || StartsWith(w, "outbrain") || StartsWith(w, "taboola");
}

bool IsContentWord(std::string_view w) {
  static const std::unordered_set<std::string_view> kExact = {
      "article",  "articlebody", "body",     "content", "entry", "hentry",
      "main",     "post",        "text",     "blog",    "story", "storybody",
      "postbody", "prose",       "richtext", "rte",     "copy"};
  if (kExact.count(w)) return true;
  return StartsWith(w, "article") || StartsWith(w, "content") || StartsWith(w, "story") ||
         StartsWith(w, "entry") || StartsWith(w, "post");
}

// Lines that are page furniture wherever they appear ("Advertisement", "Read more", ...).
bool IsBoilerplateLine(std::string_view text) {
  if (text.size() > 48) return false;
  std::string t;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == ' ') {
      t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  t = std::string(Trim(t));
  static const std::unordered_set<std::string_view> kLines = {
      "advertisement",
      "advert",
      "ad",
      "ads",
      "sponsored",
      "sponsored content",
      "comments",
      "comment",
      "share",
      "share this",
      "share this article",
      "share this story",
      "tweet",
      "email",
      "print",
      "related",
      "related articles",
      "related stories",
      "related content",
      "read more",
      "continue reading",
      "story continues below",
      "story continues below advertisement",
      "article continues below advertisement",
      "this slideshow requires javascript",
      "skip to content",
      "tell us what you think",
      "loading",
      "more",
      "see more",
      "show more",
      "view comments",
      "leave a comment",
      "recommended",
      "trending",
      "most popular",
      "click to enlarge",
      "enlarge",
      "close",
      "menu",
      "search",
      "subscribe",
      "sign up",
      "log in",
      "sign in",
      "follow us",
      "image",
      "photo",
      "video",
      "advertising"};
  return kLines.count(t) > 0;
}

// ---- flat tree --------------------------------------------------------------------------------

struct Node {
  const GumboNode* g = nullptr;
  int parent = -1;
  int end = 0;  // one past the last descendant (nodes are in preorder)
  GumboTag tag = GUMBO_TAG_UNKNOWN;
  bool is_text = false;
  bool skipped = false;      // script, style, form controls...: never text
  bool boilerplate = false;  // candidate for pruning (tag, role, hidden, class)
  bool pruned = false;       // pruned: not rendered, not scored
  bool in_link = false;
  int class_weight = 0;          // +25 content-like class/id, -25 boilerplate-like
  std::uint32_t chars = 0;       // visible non-space bytes in the subtree
  std::uint32_t link_chars = 0;  // of which inside <a>
  std::uint32_t commas = 0;
  std::uint32_t pchars = 0;   // text of paragraph-like descendants that are not mostly links
  bool article_body = false;  // itemprop=articleBody
  double score = 0;
  bool scored = false;
};

double LinkDensity(const Node& n) {
  return n.chars == 0 ? 0.0 : static_cast<double>(n.link_chars) / n.chars;
}

struct Metadata {
  std::string title_tag, og_title, h1;
  std::string canonical, og_url, base_href;
  std::string description, og_description;
  std::string language, content_language, og_locale;
  std::string published, modified, author, site_name;
  std::string time_datetime;
  std::vector<std::string> json_ld;
};

std::string TextOf(const GumboNode* g) {
  std::string out;
  std::vector<const GumboNode*> stack = {g};
  while (!stack.empty()) {
    const GumboNode* n = stack.back();
    stack.pop_back();
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE ||
        n->type == GUMBO_NODE_CDATA) {
      AppendCollapsed(out, n->v.text.text);
    } else if (n->type == GUMBO_NODE_ELEMENT) {
      const GumboVector& c = n->v.element.children;
      for (unsigned i = c.length; i > 0; --i) {
        stack.push_back(static_cast<const GumboNode*>(c.data[i - 1]));
      }
    }
  }
  return std::string(Trim(out));
}

void SetIfEmpty(std::string& field, std::string_view value) {
  if (field.empty()) field = Collapse(value);
}

void CollectMeta(const GumboNode* g, Metadata& m) {
  switch (g->v.element.tag) {
    case GUMBO_TAG_HTML: SetIfEmpty(m.language, Attr(g, "lang")); break;
    case GUMBO_TAG_TITLE: SetIfEmpty(m.title_tag, TextOf(g)); break;
    case GUMBO_TAG_BASE: SetIfEmpty(m.base_href, Attr(g, "href")); break;
    case GUMBO_TAG_LINK: {
      const std::string rel = Lower(Attr(g, "rel"));
      if (rel == "canonical") SetIfEmpty(m.canonical, Attr(g, "href"));
      break;
    }
    case GUMBO_TAG_TIME: SetIfEmpty(m.time_datetime, Attr(g, "datetime")); break;
    case GUMBO_TAG_META: {
      const std::string key = Lower(!Attr(g, "property").empty()   ? Attr(g, "property")
                                    : !Attr(g, "name").empty()     ? Attr(g, "name")
                                    : !Attr(g, "itemprop").empty() ? Attr(g, "itemprop")
                                                                   : Attr(g, "http-equiv"));
      const std::string_view content = Attr(g, "content");
      if (key.empty() || content.empty()) break;
      if (key == "og:title" || key == "twitter:title")
        SetIfEmpty(m.og_title, content);
      else if (key == "description")
        SetIfEmpty(m.description, content);
      else if (key == "og:description" || key == "twitter:description")
        SetIfEmpty(m.og_description, content);
      else if (key == "og:url")
        SetIfEmpty(m.og_url, content);
      else if (key == "og:locale")
        SetIfEmpty(m.og_locale, content);
      else if (key == "content-language")
        SetIfEmpty(m.content_language, content);
      else if (key == "og:site_name")
        SetIfEmpty(m.site_name, content);
      else if (key == "author" || key == "article:author" || key == "dc.creator" ||
               key == "parsely-author" || key == "sailthru.author")
        SetIfEmpty(m.author, content);
      else if (key == "article:published_time" || key == "datepublished" || key == "pubdate" ||
               key == "publishdate" || key == "publish-date" || key == "date" || key == "dc.date" ||
               key == "dc.date.issued" || key == "dcterms.created" || key == "sailthru.date" ||
               key == "parsely-pub-date" || key == "article.published" ||
               key == "og:published_time" || key == "cxenseparse:recs:publishtime")
        SetIfEmpty(m.published, content);
      else if (key == "article:modified_time" || key == "og:updated_time" ||
               key == "datemodified" || key == "dcterms.modified" || key == "last-modified")
        SetIfEmpty(m.modified, content);
      break;
    }
    default: break;
  }
  // itemprop dates on any element (<time itemprop=datePublished datetime=...>, <span ...>).
  const std::string_view itemprop = Attr(g, "itemprop");
  if (!itemprop.empty() && g->v.element.tag != GUMBO_TAG_META) {
    std::string_view value = Attr(g, "datetime");
    if (value.empty()) value = Attr(g, "content");
    if (!value.empty()) {
      if (IEquals(itemprop, "datePublished")) SetIfEmpty(m.published, value);
      if (IEquals(itemprop, "dateModified")) SetIfEmpty(m.modified, value);
    }
  }
}

// Reads datePublished/dateModified/author from JSON-LD (objects, arrays and @graph).
void ReadJsonLd(std::string_view text, Metadata& m) {
  if (text.size() > (1 << 20)) return;
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return;
  std::vector<const nlohmann::json*> stack = {&doc};
  int visited = 0;
  while (!stack.empty() && ++visited < 2000) {
    const nlohmann::json* j = stack.back();
    stack.pop_back();
    if (j->is_array()) {
      for (const auto& e : *j) stack.push_back(&e);
    } else if (j->is_object()) {
      auto str = [&](const char* k) -> std::string {
        auto it = j->find(k);
        return it != j->end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      SetIfEmpty(m.published, str("datePublished"));
      SetIfEmpty(m.modified, str("dateModified"));
      if (auto it = j->find("author"); it != j->end()) {
        const nlohmann::json& a = it->is_array() && !it->empty() ? (*it)[0] : *it;
        if (a.is_object() && a.contains("name") && a["name"].is_string()) {
          SetIfEmpty(m.author, a["name"].get<std::string>());
        } else if (a.is_string()) {
          SetIfEmpty(m.author, a.get<std::string>());
        }
      }
      if (auto it = j->find("@graph"); it != j->end()) stack.push_back(&*it);
    }
  }
}

class Extraction {
 public:
  Extraction(std::string_view url, const ExtractOptions& options) : url_(url), options_(options) {}

  ExtractedPage Run(const GumboNode* root) {
    Build(root);
    ComputeStats();
    Prune();
    ComputeStats();
    ExtractedPage page;
    FillMetadata(page);
    const std::vector<int> roots = SelectMain();
    for (int r : roots) MarkMain(r);
    for (int r : roots) Render(r, page);
    FinishText(page);
    if (options_.collect_links) CollectLinks(page);
    return page;
  }

 private:
  void Build(const GumboNode* root) {
    std::vector<std::pair<const GumboNode*, int>> stack = {{root, -1}};
    while (!stack.empty()) {
      auto [g, parent] = stack.back();
      stack.pop_back();
      if (g->type == GUMBO_NODE_COMMENT || g->type == GUMBO_NODE_DOCUMENT) {
        if (g->type == GUMBO_NODE_DOCUMENT) {
          const GumboVector& c = g->v.document.children;
          for (unsigned i = c.length; i > 0; --i) {
            stack.push_back({static_cast<const GumboNode*>(c.data[i - 1]), parent});
          }
        }
        continue;
      }
      const int index = static_cast<int>(nodes_.size());
      Node& n = nodes_.emplace_back();
      n.g = g;
      n.parent = parent;
      n.end = index + 1;
      if (parent >= 0) n.in_link = nodes_[parent].in_link || nodes_[parent].tag == GUMBO_TAG_A;
      if (g->type != GUMBO_NODE_ELEMENT && g->type != GUMBO_NODE_TEMPLATE) {
        n.is_text = true;
        if (parent >= 0 && nodes_[parent].skipped) n.skipped = true;
        continue;
      }
      n.tag = g->v.element.tag;
      CollectMeta(g, meta_);
      if (n.tag == GUMBO_TAG_SCRIPT) {
        const std::string type = Lower(Attr(g, "type"));
        if (type.find("ld+json") != std::string::npos && g->v.element.children.length > 0) {
          const auto* t = static_cast<const GumboNode*>(g->v.element.children.data[0]);
          if (t->type == GUMBO_NODE_TEXT || t->type == GUMBO_NODE_CDATA ||
              t->type == GUMBO_NODE_WHITESPACE) {
            meta_.json_ld.emplace_back(t->v.text.text);
          }
        }
      }
      if (n.tag == GUMBO_TAG_H1 && meta_.h1.empty()) meta_.h1 = TextOf(g);
      n.skipped = (parent >= 0 && nodes_[parent].skipped) || IsSkippedTag(n.tag) || Hidden(g) ||
                  (n.tag == GUMBO_TAG_A && IsPermalinkMarker(g));
      if (!n.skipped) Classify(n);
      const GumboVector& c = g->v.element.children;
      for (unsigned i = c.length; i > 0; --i) {
        stack.push_back({static_cast<const GumboNode*>(c.data[i - 1]), index});
      }
    }
    for (int i = static_cast<int>(nodes_.size()) - 1; i > 0; --i) {
      Node& p = nodes_[nodes_[i].parent];
      p.end = std::max(p.end, nodes_[i].end);
    }
  }

  // A heading's self-link drawn as a symbol (Sphinx's "¶", GitHub's and MkDocs' "#", "§", a
  // link emoji): not text of the page.
  static bool IsPermalinkMarker(const GumboNode* g) {
    if (g->v.element.children.length > 3) return false;
    const std::string t = TextOf(g);
    return t == "\u00b6" || t == "#" || t == "\u00a7" || t == "\U0001F517";
  }

  static bool Hidden(const GumboNode* g) {
    if (gumbo_get_attribute(&g->v.element.attributes, "hidden") != nullptr) return true;
    if (IEquals(Attr(g, "aria-hidden"), "true")) return true;
    const std::string_view style = Attr(g, "style");
    if (!style.empty()) {
      std::string s;
      for (char c : style) {
        if (!IsSpace(c))
          s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      }
      if (s.find("display:none") != std::string::npos ||
          s.find("visibility:hidden") != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  void Classify(Node& n) {
    const GumboNode* g = n.g;
    if (IEquals(Attr(g, "itemprop"), "articleBody")) n.article_body = true;
    if (IsBoilerplateTag(n.tag)) n.boilerplate = true;
    const std::string_view role = Attr(g, "role");
    if (!role.empty() && IsBoilerplateRole(Lower(role))) n.boilerplate = true;
    const std::string cls = Lower(Attr(g, "class"));
    const std::string id = Lower(Attr(g, "id"));
    if (cls.empty() && id.empty()) return;
    bool junk = false, content = false;
    auto visit = [&](std::string_view w) {
      if (IsJunkWord(w)) junk = true;
      if (IsContentWord(w)) content = true;
    };
    ForEachClassWord(cls, visit);
    ForEachClassWord(id, visit);
    if (content) n.class_weight += 25;
    if (junk) n.class_weight -= 25;
    if (junk && !content && n.tag != GUMBO_TAG_BODY && n.tag != GUMBO_TAG_HTML &&
        n.tag != GUMBO_TAG_ARTICLE && n.tag != GUMBO_TAG_MAIN) {
      n.boilerplate = true;
    }
  }

  void ComputeStats() {
    for (Node& n : nodes_) {
      n.chars = n.link_chars = n.commas = 0;
    }
    for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i) {
      Node& n = nodes_[i];
      if (n.skipped || n.pruned) continue;
      if (n.is_text) {
        const char* t = n.g->v.text.text;
        std::uint32_t c = 0, commas = 0;
        for (const char* p = t; *p; ++p) {
          if (!IsSpace(*p)) ++c;
          if (*p == ',') ++commas;
        }
        n.chars = c;
        n.commas = commas;
        if (n.in_link) n.link_chars = c;
      }
      if (n.parent >= 0) {
        Node& p = nodes_[n.parent];
        p.chars += n.chars;
        p.link_chars += n.link_chars;
        p.commas += n.commas;
      }
    }
  }

  // Sums, for every node, the text of the paragraph-like nodes below it that are not mostly
  // links: how much prose a container holds.
  void ComputeParagraphChars() {
    for (Node& n : nodes_) n.pchars = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      if (n.is_text || n.skipped || n.pruned || n.chars < 25) continue;
      if (!IsParagraphLike(static_cast<int>(i))) continue;
      if (LinkDensity(n) > 0.5) continue;
      const std::uint32_t own = n.chars - n.link_chars;
      for (int a = static_cast<int>(i); a >= 0; a = nodes_[a].parent) nodes_[a].pchars += own;
    }
  }

  void Prune() {
    ComputeParagraphChars();
    const std::uint32_t total = nodes_.empty() ? 0 : nodes_[0].chars;
    const std::uint32_t total_p = nodes_.empty() ? 0 : nodes_[0].pchars;
    std::vector<bool> holds_article(nodes_.size(), false);
    for (std::size_t i = nodes_.size(); i-- > 0;) {
      if (nodes_[i].article_body) holds_article[i] = true;
      if (holds_article[i] && nodes_[i].parent >= 0) holds_article[nodes_[i].parent] = true;
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      if (n.parent >= 0 && nodes_[n.parent].pruned) {
        n.pruned = true;
        continue;
      }
      if (!n.boilerplate) continue;
      // A boilerplate-looking element that holds the article, most of the page or much of its
      // prose is a wrapper (a "rail" layout, a form around the whole page), not boilerplate.
      const bool wrapper = holds_article[i] || (total > 0 && n.chars * 2 > total) ||
                           (!IsBoilerplateTag(n.tag) && total_p > 0 && n.pchars * 5 > total_p * 3);
      if (!wrapper) n.pruned = true;
    }
  }

  // Readability-style scoring. Returns the roots of the main content, in document order.
  std::vector<int> SelectMain() {
    std::vector<int> owners;  // block elements with their own text
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      if (n.is_text || n.skipped || n.pruned || n.chars == 0) continue;
      if (!IsParagraphLike(static_cast<int>(i))) continue;
      owners.push_back(static_cast<int>(i));
    }
    for (int o : owners) {
      const Node& n = nodes_[o];
      const std::uint32_t len = n.chars - n.link_chars;
      if (len < 25) continue;
      double s = 1.0 + n.commas + std::min<double>(len / 100, 3.0);
      int ancestor = n.parent;
      for (int level = 0; ancestor >= 0 && level < 5; ++level) {
        Node& a = nodes_[ancestor];
        if (!a.scored) {
          a.scored = true;
          a.score = InitialScore(a);
        }
        const double divider = level == 0 ? 1.0 : level == 1 ? 2.0 : level * 3.0;
        a.score += s / divider;
        ancestor = a.parent;
      }
    }
    int top = -1;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      if (!n.scored || n.pruned) continue;
      n.score *= 1.0 - LinkDensity(n);
      if (top < 0 || n.score > nodes_[top].score) top = static_cast<int>(i);
    }
    if (top < 0) {
      // No paragraph at all: the body (or whatever is left) is the content.
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].tag == GUMBO_TAG_BODY && !nodes_[i].pruned) return {static_cast<int>(i)};
      }
      return nodes_.empty() ? std::vector<int>{} : std::vector<int>{0};
    }
    // Climb while a parent scores better (content split over sibling containers).
    double last = nodes_[top].score;
    for (int p = nodes_[top].parent; p >= 0 && nodes_[p].tag != GUMBO_TAG_BODY;
         p = nodes_[p].parent) {
      if (!nodes_[p].scored) continue;
      if (nodes_[p].score < last / 3) break;
      if (nodes_[p].score > last) {
        top = p;
      }
      last = nodes_[p].score;
    }
    // Siblings that look like more of the same.
    const int parent = nodes_[top].parent;
    if (parent < 0) return {top};
    std::vector<int> roots;
    const double threshold = std::max(10.0, nodes_[top].score * 0.2);
    const std::string top_class(Attr(nodes_[top].g, "class"));
    for (int c = parent + 1; c < nodes_[parent].end; c = nodes_[c].end) {
      const Node& s = nodes_[c];
      if (c == top) {
        roots.push_back(c);
        continue;
      }
      if (s.pruned || s.skipped || s.is_text) continue;
      double bonus = 0;
      if (!top_class.empty() && Attr(s.g, "class") == top_class) bonus = nodes_[top].score * 0.2;
      bool append = s.scored && s.score + bonus >= threshold;
      if (!append && s.tag == GUMBO_TAG_P) {
        const double ld = LinkDensity(s);
        const std::uint32_t len = s.chars;
        if (len > 80 && ld < 0.25) append = true;
        if (len > 0 && len <= 80 && ld == 0 && HasSentenceEnd(s)) append = true;
      }
      if (append) roots.push_back(c);
    }
    AddSameClassContainers(top, roots);
    return roots;
  }

  // An article split into several containers by figures, pull quotes or ads repeats the
  // container's tag and class: every such container with prose joins the main content.
  void AddSameClassContainers(int top, std::vector<int>& roots) {
    const std::string_view cls = Attr(nodes_[top].g, "class");
    if (cls.empty()) return;
    ComputeParagraphChars();
    std::vector<int> extra;
    for (int i = 0; i < static_cast<int>(nodes_.size());) {
      const Node& n = nodes_[i];
      bool covered = false;
      for (int r : roots) covered = covered || (i >= r && i < nodes_[r].end);
      if (covered) {
        ++i;
        continue;
      }
      if (!n.is_text && !n.pruned && !n.skipped && n.tag == nodes_[top].tag && n.pchars >= 25 &&
          Attr(n.g, "class") == cls) {
        extra.push_back(i);
        i = n.end;
        continue;
      }
      ++i;
    }
    if (extra.empty()) return;
    roots.insert(roots.end(), extra.begin(), extra.end());
    std::sort(roots.begin(), roots.end());
    // Drop roots nested in an earlier root.
    std::vector<int> kept;
    for (int r : roots) {
      if (!kept.empty() && r < nodes_[kept.back()].end) continue;
      kept.push_back(r);
    }
    roots = std::move(kept);
  }

  bool HasSentenceEnd(const Node& n) const {
    const std::string t = TextOf(n.g);
    return t.find(". ") != std::string::npos || (!t.empty() && t.back() == '.');
  }

  // A node whose own (direct) text makes it a paragraph: p, pre, td, or a container with text
  // children of its own.
  bool IsParagraphLike(int i) const {
    const Node& n = nodes_[i];
    switch (n.tag) {
      case GUMBO_TAG_P:
      case GUMBO_TAG_PRE:
      case GUMBO_TAG_TD:
      case GUMBO_TAG_BLOCKQUOTE: return true;
      case GUMBO_TAG_DIV:
      case GUMBO_TAG_SECTION:
      case GUMBO_TAG_ARTICLE:
      case GUMBO_TAG_SPAN:
      case GUMBO_TAG_LI:
      case GUMBO_TAG_DD: {
        // Direct text (not inside a child block).
        std::uint32_t direct = 0;
        for (int c = i + 1; c < n.end; c = nodes_[c].end) {
          const Node& k = nodes_[c];
          if (k.is_text)
            direct += k.chars;
          else if (!IsBlockTag(k.tag) && !k.pruned)
            direct += k.chars;
        }
        return direct >= 25;
      }
      default: return false;
    }
  }

  static double InitialScore(const Node& n) {
    double s = n.class_weight;
    switch (n.tag) {
      case GUMBO_TAG_DIV: s += 5; break;
      case GUMBO_TAG_ARTICLE: s += 10; break;
      case GUMBO_TAG_PRE:
      case GUMBO_TAG_TD:
      case GUMBO_TAG_BLOCKQUOTE: s += 3; break;
      case GUMBO_TAG_ADDRESS:
      case GUMBO_TAG_OL:
      case GUMBO_TAG_UL:
      case GUMBO_TAG_DL:
      case GUMBO_TAG_DD:
      case GUMBO_TAG_DT:
      case GUMBO_TAG_LI:
      case GUMBO_TAG_FORM: s -= 3; break;
      case GUMBO_TAG_H1:
      case GUMBO_TAG_H2:
      case GUMBO_TAG_H3:
      case GUMBO_TAG_H4:
      case GUMBO_TAG_H5:
      case GUMBO_TAG_H6:
      case GUMBO_TAG_TH: s -= 5; break;
      default: break;
    }
    if (IEquals(Attr(n.g, "itemprop"), "articleBody")) s += 50;
    return s;
  }

  void MarkMain(int root) {
    if (main_.empty()) main_.assign(nodes_.size(), false);
    for (int i = root; i < nodes_[root].end; ++i) main_[i] = true;
  }

  // Lists, tables and containers inside the main content that are mostly links (related
  // stories, tag lists, share bars) are left out.
  bool IsLinkCluster(const Node& n) const {
    if (n.chars == 0) return false;
    const double density = LinkDensity(n);
    const std::uint32_t own = n.chars - n.link_chars;
    switch (n.tag) {
      case GUMBO_TAG_P:
      case GUMBO_TAG_LI:
      case GUMBO_TAG_DT:
      case GUMBO_TAG_DD:
        // A linked headline with a sentence of its own is content; a bare link is not.
        return density > 0.5 && own < 40;
      case GUMBO_TAG_UL:
      case GUMBO_TAG_OL:
      case GUMBO_TAG_DL:
      case GUMBO_TAG_DIV:
      case GUMBO_TAG_SECTION:
      case GUMBO_TAG_TABLE: return density > 0.65 || (density > 0.5 && own < 100);
      default: return false;
    }
  }

  void Render(int root, ExtractedPage& page) {
    // Iterative walk; `pending` collects inline text until the next block boundary.
    struct Frame {
      int node;
      bool exit;
    };
    std::vector<Frame> stack = {{root, false}};
    std::vector<int> block_stack;  // open block elements
    while (!stack.empty()) {
      const Frame f = stack.back();
      stack.pop_back();
      const Node& n = nodes_[f.node];
      if (f.exit) {
        Flush(page, block_stack);
        if (!block_stack.empty()) block_stack.pop_back();
        continue;
      }
      if (n.pruned || n.skipped) continue;
      if (n.is_text) {
        if (InPre(block_stack)) {
          pending_ += n.g->v.text.text;
        } else {
          AppendCollapsed(pending_, n.g->v.text.text);
        }
        continue;
      }
      if (f.node != root && IsLinkCluster(n)) continue;
      if (n.tag == GUMBO_TAG_BR) {
        pending_ += InPre(block_stack) ? "\n" : " ";
        continue;
      }
      if (IsBlockTag(n.tag)) {
        Flush(page, block_stack);
        block_stack.push_back(f.node);
        stack.push_back({f.node, true});
      }
      children_.clear();
      for (int c = f.node + 1; c < n.end; c = nodes_[c].end) children_.push_back(c);
      for (auto it = children_.rbegin(); it != children_.rend(); ++it)
        stack.push_back({*it, false});
    }
    Flush(page, block_stack);
  }

  bool InPre(const std::vector<int>& block_stack) const {
    for (auto it = block_stack.rbegin(); it != block_stack.rend(); ++it) {
      const GumboTag t = nodes_[*it].tag;
      if (t == GUMBO_TAG_PRE || t == GUMBO_TAG_LISTING || t == GUMBO_TAG_XMP) return true;
    }
    return false;
  }

  void Flush(ExtractedPage& page, const std::vector<int>& block_stack) {
    std::string_view text = Trim(pending_);
    if (text.empty()) {
      pending_.clear();
      return;
    }
    Block b;
    b.kind = Block::Kind::kParagraph;
    for (auto it = block_stack.rbegin(); it != block_stack.rend(); ++it) {
      const GumboTag t = nodes_[*it].tag;
      if (const int level = HeadingLevel(t); level > 0) {
        b.kind = Block::Kind::kHeading;
        b.level = level;
        break;
      }
      if (t == GUMBO_TAG_PRE || t == GUMBO_TAG_LISTING || t == GUMBO_TAG_XMP) {
        b.kind = Block::Kind::kCode;
        break;
      }
      if (t == GUMBO_TAG_LI || t == GUMBO_TAG_DD || t == GUMBO_TAG_DT) {
        b.kind = Block::Kind::kListItem;
        break;
      }
      if (t == GUMBO_TAG_TD || t == GUMBO_TAG_TH) {
        b.kind = Block::Kind::kTableCell;
        break;
      }
      if (t == GUMBO_TAG_BLOCKQUOTE) {
        b.kind = Block::Kind::kQuote;
        break;
      }
      if (t == GUMBO_TAG_P) break;
    }
    if (IsBoilerplateLine(text)) {
      pending_.clear();
      return;
    }
    b.text = std::string(text);
    pending_.clear();
    if (b.kind == Block::Kind::kHeading) {
      while (!heading_stack_.empty() && heading_stack_.back().first >= b.level) {
        heading_stack_.pop_back();
      }
      b.heading_path = HeadingPath();
      heading_stack_.emplace_back(b.level, b.text);
      page.headings.push_back(b.text);
    } else {
      b.heading_path = HeadingPath();
    }
    page.blocks.push_back(std::move(b));
  }

  std::string HeadingPath() const {
    std::string path;
    for (const auto& [level, text] : heading_stack_) {
      if (!path.empty()) path += " > ";
      path += text;
    }
    return path;
  }

  static void FinishText(ExtractedPage& page) {
    for (Block& b : page.blocks) {
      if (!page.text.empty()) page.text += "\n\n";
      b.begin = page.text.size();
      page.text += b.text;
      b.end = page.text.size();
    }
  }

  std::string Absolute(std::string_view href) const {
    if (href.empty()) return {};
    std::string base = url_;
    if (!meta_.base_href.empty() && !url_.empty()) {
      Result<std::string> b = ResolveUrl(url_, meta_.base_href);
      if (b.ok()) base = *b;
    }
    Result<std::string> r = base.empty() ? NormalizeUrl(href) : ResolveUrl(base, href);
    return r.ok() ? *r : std::string();
  }

  void FillMetadata(ExtractedPage& page) {
    for (const std::string& j : meta_.json_ld) ReadJsonLd(j, meta_);
    page.title = !meta_.og_title.empty()    ? meta_.og_title
                 : !meta_.title_tag.empty() ? meta_.title_tag
                                            : meta_.h1;
    page.canonical_url = Absolute(!meta_.canonical.empty() ? meta_.canonical : meta_.og_url);
    page.description = !meta_.description.empty() ? meta_.description : meta_.og_description;
    page.language = !meta_.language.empty()           ? meta_.language
                    : !meta_.content_language.empty() ? meta_.content_language
                                                      : meta_.og_locale;
    page.published = !meta_.published.empty() ? meta_.published : meta_.time_datetime;
    page.modified = meta_.modified;
    page.author = meta_.author;
    page.site_name = meta_.site_name;
  }

  void CollectLinks(ExtractedPage& page) {
    std::string base = url_;
    if (!meta_.base_href.empty() && !url_.empty()) {
      Result<std::string> b = ResolveUrl(url_, meta_.base_href);
      if (b.ok()) base = *b;
    }
    const UrlResolver resolver(base);
    std::unordered_set<std::string_view> seen_href;
    std::unordered_set<std::string> seen;
    for (std::size_t i = 0; i < nodes_.size() && page.links.size() < options_.max_links; ++i) {
      const Node& n = nodes_[i];
      if (n.tag != GUMBO_TAG_A || n.is_text) continue;
      const std::string_view href = Attr(n.g, "href");
      if (href.empty() || href[0] == '#' || !seen_href.insert(href).second) continue;
      Result<std::string> abs = resolver.Resolve(href);
      if (!abs.ok() || !seen.insert(*abs).second) continue;
      page.links.push_back({.url = std::move(*abs),
                            .text = TextOf(n.g),
                            .in_main = !main_.empty() && main_[i] && !n.pruned});
    }
  }

  std::string url_;
  const ExtractOptions& options_;
  std::vector<Node> nodes_;
  std::vector<bool> main_;
  std::vector<int> children_;
  Metadata meta_;
  std::string pending_;
  std::vector<std::pair<int, std::string>> heading_stack_;
};

// Gumbo spends most of its time in script and style text, which never holds content. Before
// parsing, comments and the bodies of <script> (except JSON-LD, read for metadata), <style> and
// <svg> elements are cut with a memchr scan. The scan follows the tokenizer's rules for where
// these end ("</script" in any case, "-->"); a cut that the tokenizer would have made
// differently (e.g. "<script" inside an attribute value) can only lose text, never add any.
bool MatchesTagName(std::string_view s, std::size_t at, std::string_view name) {
  if (at + name.size() >= s.size()) return false;
  for (std::size_t k = 0; k < name.size(); ++k) {
    char c = s[at + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != name[k]) return false;
  }
  const char next = s[at + name.size()];
  return next == '>' || next == '/' || IsSpace(next);
}

// Position of the first "</name" (any case) at or after `from`, or npos.
std::size_t FindClosing(std::string_view s, std::size_t from, std::string_view name) {
  while (from < s.size()) {
    const void* p = std::memchr(s.data() + from, '<', s.size() - from);
    if (p == nullptr) return std::string_view::npos;
    const std::size_t lt = static_cast<const char*>(p) - s.data();
    if (lt + 1 < s.size() && s[lt + 1] == '/' && MatchesTagName(s, lt + 2, name)) return lt;
    from = lt + 1;
  }
  return std::string_view::npos;
}

constexpr int kMaxNesting = 2000;

// Elements that are void or whose end tags pages routinely omit: not counted as nesting.
bool IsUsuallyUnclosed(std::string_view s, std::size_t at) {
  static constexpr std::string_view kNames[] = {"br",    "img",    "meta", "link", "input", "hr",
                                                "wbr",   "source", "area", "col",  "embed", "param",
                                                "track", "base",   "p",    "li",   "td",    "th",
                                                "tr",    "option", "dt",   "dd",   "image"};
  for (std::string_view n : kNames) {
    if (MatchesTagName(s, at, n)) return true;
  }
  return false;
}

std::string StripNonContent(std::string_view html) {
  int depth = 0;
  std::string out;
  out.reserve(html.size() / 2);
  std::size_t copied = 0;
  std::size_t i = 0;
  while (i < html.size()) {
    const void* p = std::memchr(html.data() + i, '<', html.size() - i);
    if (p == nullptr) break;
    const std::size_t lt = static_cast<const char*>(p) - html.data();
    std::size_t cut_end = std::string_view::npos;
    if (html.compare(lt, 4, "<!--") == 0) {
      const std::size_t close = html.find("-->", lt + 4);
      cut_end = close == std::string_view::npos ? html.size() : close + 3;
    } else {
      std::string_view name;
      if (MatchesTagName(html, lt + 1, "script"))
        name = "script";
      else if (MatchesTagName(html, lt + 1, "style"))
        name = "style";
      else if (MatchesTagName(html, lt + 1, "svg"))
        name = "svg";
      if (!name.empty()) {
        const std::size_t gt = html.find('>', lt);
        if (gt == std::string_view::npos) break;
        const std::string_view open_tag = html.substr(lt, gt - lt);
        const bool json_ld =
            name == "script" && (open_tag.find("ld+json") != std::string_view::npos ||
                                 open_tag.find("LD+JSON") != std::string_view::npos);
        if (!json_ld) {
          const std::size_t close = FindClosing(html, gt + 1, name);
          if (close == std::string_view::npos) {
            cut_end = html.size();
          } else {
            const std::size_t close_gt = html.find('>', close);
            cut_end = close_gt == std::string_view::npos ? html.size() : close_gt + 1;
          }
        }
      }
    }
    if (cut_end == std::string_view::npos) {
      // Nesting depth, roughly: gumbo's tree building is quadratic in it (100k nested <div>s
      // take ~40 s), so a page nested deeper than kMaxNesting is cut there.
      if (lt + 1 < html.size() && html[lt + 1] == '/') {
        if (depth > 0) --depth;
      } else if (lt + 1 < html.size() && std::isalpha(static_cast<unsigned char>(html[lt + 1]))) {
        if (!IsUsuallyUnclosed(html, lt + 1) && ++depth > kMaxNesting) {
          out.append(html.substr(copied, lt - copied));
          return out;
        }
      }
      i = lt + 1;
      continue;
    }
    out.append(html.substr(copied, lt - copied));
    out.push_back(' ');
    copied = cut_end;
    i = cut_end;
  }
  out.append(html.substr(std::min(copied, html.size())));
  return out;
}

}  // namespace

std::string_view BlockKindName(Block::Kind kind) {
  switch (kind) {
    case Block::Kind::kParagraph: return "paragraph";
    case Block::Kind::kHeading: return "heading";
    case Block::Kind::kListItem: return "list_item";
    case Block::Kind::kCode: return "code";
    case Block::Kind::kTableCell: return "table_cell";
    case Block::Kind::kQuote: return "quote";
  }
  return "paragraph";
}

Result<ExtractedPage> ExtractPage(std::string_view html, std::string_view url,
                                  const ExtractOptions& options) {
  if (html.size() > options.max_input_bytes) html = html.substr(0, options.max_input_bytes);
  const std::string_view head = html.substr(0, 1024);
  if (head.find('\0') != std::string_view::npos) {
    return InvalidArgument("binary content (NUL bytes), not HTML");
  }
  GumboOptions gumbo_options = kGumboDefaultOptions;
  gumbo_options.max_errors = 0;  // the error list is not used; skip building it
  const std::string stripped = StripNonContent(html);
  GumboDocument doc(gumbo_parse_with_options(&gumbo_options, stripped.data(), stripped.size()));
  if (!doc) return Internal("gumbo could not parse the page");
  Extraction extraction(url, options);
  return extraction.Run(doc->document);
}

}  // namespace lumen::retrieval
