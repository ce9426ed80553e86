// HTML escaping for text from users and crawled pages. Everything that did not come from our own
// templates goes through here before it reaches a page.
#pragma once

#include <string>
#include <string_view>

namespace lumen::web {

// Escapes & < > " ' for use in element content and quoted attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace lumen::web
