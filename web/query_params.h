// Query-string parameters decoded the way HTML forms encode them ("+" is a space, %XX a byte),
// read from the raw request target: cpp-httplib 0.11 leaves "+" undecoded, which would turn
// every question typed into the search box into "how+do+I...". Also: making text valid UTF-8.
#pragma once

#include <string>
#include <string_view>

#include <httplib.h>

namespace lumen::web {

// The first value of `name` in the request's query string, decoded; "" when absent.
std::string QueryParam(const httplib::Request& req, std::string_view name);

// Percent-decoding with "+" as space (application/x-www-form-urlencoded).
std::string FormDecode(std::string_view s);

// `s` with every invalid UTF-8 sequence replaced by U+FFFD.
std::string ValidUtf8(std::string_view s);

}  // namespace lumen::web
