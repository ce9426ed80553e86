// Main-content extraction on small pages with every kind of boilerplate.
#include "retrieval/extractor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "retrieval/html_file.h"

namespace lumen::retrieval {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(LUMEN_SOURCE_DIR) + "/tests/fixtures/extraction/" + name);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ExtractorTest, KeepsTheArticleAndDropsBoilerplate) {
  Result<ExtractedPage> page =
      ExtractPage(Fixture("article.html"), "https://gazette.example/news/rivers?utm_source=x");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  const std::string& t = page->text;
  EXPECT_TRUE(Contains(t, "The rivers of the north run cold and fast")) << t;
  EXPECT_TRUE(Contains(t, "Salmon numbers have fallen by a third")) << t;
  EXPECT_TRUE(Contains(t, "first results, they say, are encouraging.")) << t;
  EXPECT_TRUE(Contains(t, "level_m = 2.4")) << t;
  for (std::string_view junk :
       {"cookies", "Accept all", "Home", "Tweet", "Advertisement", "Lakes of the west",
        "Great article", "Most read", "newsletter", "Copyright", "not content", "font-family"}) {
    EXPECT_FALSE(Contains(t, junk)) << junk << " in:\n" << t;
  }
}

TEST(ExtractorTest, BlocksCarryKindsHeadingPathsAndOffsets) {
  Result<ExtractedPage> page = ExtractPage(Fixture("article.html"), "https://gazette.example/");
  ASSERT_TRUE(page.ok());
  bool saw_list = false, saw_code = false, saw_h2 = false;
  for (const Block& b : page->blocks) {
    EXPECT_EQ(page->text.substr(b.begin, b.end - b.begin), b.text);
    if (b.kind == Block::Kind::kListItem) {
      saw_list = true;
      EXPECT_EQ(b.heading_path, "Rivers of the North > A changing landscape");
    }
    if (b.kind == Block::Kind::kCode) saw_code = true;
    if (b.kind == Block::Kind::kHeading && b.level == 2) {
      saw_h2 = true;
      EXPECT_EQ(b.heading_path, "Rivers of the North");
    }
  }
  EXPECT_TRUE(saw_list);
  EXPECT_TRUE(saw_code);
  EXPECT_TRUE(saw_h2);
  EXPECT_EQ(page->headings,
            (std::vector<std::string>{"Rivers of the North", "A changing landscape"}));
}

TEST(ExtractorTest, HeadingPermalinkSymbolsAreNotText) {
  const std::string html =
      "<html><body><main><h1>csv \u2014 CSV File Reading<a class=\"headerlink\" "
      "href=\"#csv\">\u00b6</a></h1><h2>Examples<a href=\"#ex\">#</a></h2>"
      "<p>The simplest example of reading a CSV file opens it and loops over the reader, one "
      "row at a time, printing each row as a list of strings.</p>"
      "<p>Comments start with a hash sign, described under <a href=\"#x\">the # operator</a> in "
      "the language reference, and the quoting rules are given in section <a "
      "href=\"#s\">\u00a7 2</a> of the dialect description that follows below.</p>"
      "</main></body></html>";
  Result<ExtractedPage> page = ExtractPage(html, "https://docs.example/library/csv.html");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_FALSE(Contains(page->text, "\u00b6")) << page->text;
  EXPECT_EQ(page->headings, (std::vector<std::string>{"csv \u2014 CSV File Reading", "Examples"}));
  // Links whose text merely contains such a symbol are text.
  EXPECT_TRUE(Contains(page->text, "the # operator")) << page->text;
  EXPECT_TRUE(Contains(page->text, "\u00a7 2")) << page->text;
}

TEST(ExtractorTest, ReadsMetadata) {
  Result<ExtractedPage> page = ExtractPage(Fixture("article.html"), "https://gazette.example/x");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->title, "Rivers of the North");
  EXPECT_EQ(page->canonical_url, "https://gazette.example/news/rivers-of-the-north");
  EXPECT_EQ(page->description, "A long look at northern rivers.");
  EXPECT_EQ(page->language, "en-GB");
  EXPECT_EQ(page->published, "2024-03-05T08:00:00Z");
  EXPECT_EQ(page->modified, "2024-03-06T10:00:00Z");
  EXPECT_EQ(page->author, "Ada Writer");
  EXPECT_EQ(page->site_name, "The Example Gazette");
}

TEST(ExtractorTest, LinksAreAbsoluteNormalizedDistinctAndMarkedWhenInMain) {
  Result<ExtractedPage> page = ExtractPage(Fixture("article.html"), "https://gazette.example/x/y");
  ASSERT_TRUE(page.ok());
  bool trees_in_main = false, home = false;
  for (const Link& l : page->links) {
    EXPECT_EQ(l.url.rfind("http", 0), 0u) << l.url;
    if (l.url == "https://gazette.example/news/trees") trees_in_main = l.in_main;
    if (l.url == "https://gazette.example/") {
      home = true;
      EXPECT_FALSE(l.in_main);
    }
    EXPECT_EQ(l.url.find("mailto"), std::string::npos);
    EXPECT_EQ(l.url.find("javascript"), std::string::npos);
  }
  EXPECT_TRUE(trees_in_main);
  EXPECT_TRUE(home);
}

TEST(ExtractorTest, PublishedDateFromTimeElementAndItemprop) {
  Result<ExtractedPage> page = ExtractPage(
      "<html><body><article><time datetime=\"2023-01-02\">Jan 2</time><p>Some words here that "
      "make a paragraph long enough to count as content for the scorer.</p></article></body>"
      "</html>",
      "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->published, "2023-01-02");
}

TEST(ExtractorTest, MalformedMarkupStillYieldsText) {
  Result<ExtractedPage> page = ExtractPage(
      "<html><body><div><p>Unclosed paragraph with enough words to be taken as the main "
      "content of this broken page<p>Second one, also unclosed, and a stray </span></b> tag "
      "<table><tr><td>cell text inside a table that never closes",
      "http://a.example/");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(Contains(page->text, "Unclosed paragraph")) << page->text;
  EXPECT_TRUE(Contains(page->text, "Second one")) << page->text;
}

TEST(ExtractorTest, EmptyAndDeeplyNestedInputDoNotCrash) {
  EXPECT_TRUE(ExtractPage("", "").ok());
  EXPECT_TRUE(ExtractPage("   ", "").ok());
  // 300k nested elements: gumbo alone would take minutes (its tree building is quadratic in
  // the depth); the page is cut at the nesting limit instead.
  std::string deep = "<p>Shallow text at the top of a very deep page.</p>";
  for (int i = 0; i < 300000; ++i) deep += "<div>";
  deep += "<p>deep text</p>";
  const auto start = std::chrono::steady_clock::now();
  Result<ExtractedPage> page = ExtractPage(deep, "");
  ASSERT_TRUE(page.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(Contains(page->text, "Shallow text")) << page->text;
}

TEST(ExtractorTest, BinaryInputIsRefused) {
  const std::string binary("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  Result<ExtractedPage> page = ExtractPage(binary, "");
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
}

TEST(ExtractorTest, ScriptTextNeverLeaksEvenWithTrickyEndTags) {
  Result<ExtractedPage> page = ExtractPage(
      "<body><script>document.write('<p>fake paragraph from a script that is long enough "
      "to score</p>');</SCRIPT ><p>The real paragraph of this page, which has enough words in "
      "it to be chosen as the main content.</p><!-- <p>commented out paragraph text</p> -->"
      "</body>",
      "");
  ASSERT_TRUE(page.ok());
  EXPECT_FALSE(Contains(page->text, "fake paragraph")) << page->text;
  EXPECT_FALSE(Contains(page->text, "commented out")) << page->text;
  EXPECT_TRUE(Contains(page->text, "The real paragraph")) << page->text;
}

TEST(ExtractorTest, ReadsGzippedFiles) {
  Result<std::string> raw =
      ReadPageFile(std::string(LUMEN_SOURCE_DIR) + "/tests/fixtures/extraction/article.html.gz");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(*raw, Fixture("article.html"));
  EXPECT_EQ(ReadPageFile("/no/such/file.html").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Gunzip(std::string("\x1f\x8b\x08\x00garbage", 11)).status().code(),
            StatusCode::kCorruption);
}

}  // namespace
}  // namespace lumen::retrieval
