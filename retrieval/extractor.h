// Main-content extraction: from an HTML page (UTF-8) to its metadata, its outgoing links and its
// main text as ordered blocks, with navigation, headers, footers, sidebars, cookie banners,
// comments, share widgets, related-article lists and ads left out.
//
// How: gumbo parses the page (HTML5 rules, so any byte soup yields a tree). A flat copy of the
// tree carries per-node text and link-text lengths. Hidden elements and elements that are
// boilerplate by tag (nav, aside, footer, form controls, ...), ARIA role or class/id
// (share, related, comments, newsletter, cookie, ad, ...) are pruned unless they hold most of
// the page's text. Paragraph-like nodes then score their ancestors (text length, commas, link
// density, class hints, as in Readability); the best container and its sibling paragraphs are
// the main content, which is rendered into blocks with their heading paths.
//
// Quality is measured by `lumen eval extraction` on ../shared/eval/extraction (see
// docs/BENCHMARKS.md). ExtractPage is a pure function: thread-safe, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lumen::retrieval {

struct Block {
  enum class Kind { kParagraph, kHeading, kListItem, kCode, kTableCell, kQuote };
  Kind kind = Kind::kParagraph;
  int level = 0;             // 1..6 for headings, else 0
  std::string text;          // whitespace collapsed (kept as is in code blocks)
  std::string heading_path;  // headings above this block, outermost first, joined by " > "
  std::size_t begin = 0;     // byte offsets of `text` inside ExtractedPage::text
  std::size_t end = 0;
};

std::string_view BlockKindName(Block::Kind kind);  // "paragraph", "heading", ...

struct Link {
  std::string url;       // absolute and normalized (retrieval/url.h)
  std::string text;      // anchor text, whitespace collapsed
  bool in_main = false;  // inside the main content
};

struct ExtractedPage {
  std::string title;
  std::string canonical_url;  // <link rel=canonical> or og:url, absolute; empty if none
  std::string description;
  std::string language;   // <html lang>, Content-Language or og:locale
  std::string published;  // as the page states it (ISO 8601 mostly); empty if unknown
  std::string modified;
  std::string author;
  std::string site_name;
  std::vector<std::string> headings;  // headings of the main content, in order
  std::vector<Link> links;            // every distinct outgoing http(s) link, in page order
  std::vector<Block> blocks;          // the main content, in order
  std::string text;                   // the blocks' texts joined by "\n\n"
};

struct ExtractOptions {
  // Input beyond this many bytes is ignored (the page is cut, not rejected).
  std::size_t max_input_bytes = 8 << 20;
  std::size_t max_links = 5000;
  // Fill `links` (costs a URL parse per anchor).
  bool collect_links = true;
};

// Extracts `html` (UTF-8; invalid sequences are tolerated) fetched from `url` (used to resolve
// relative links; may be empty, then links stay unresolved and are dropped). Never fails on
// malformed markup; an empty page gives an empty result. Returns InvalidArgument only for input
// that is not text at all (NUL bytes in the first kilobyte: binary served as HTML).
Result<ExtractedPage> ExtractPage(std::string_view html, std::string_view url,
                                  const ExtractOptions& options = {});

}  // namespace lumen::retrieval
