// The secret key that signs impression and click tokens (and keys the pseudonymous frequency-cap
// identifiers). It is 32 random bytes kept as 64 hex characters in a file readable only by its
// owner — by default <data_dir>/ads.key, created on first use with mode 0600.
//
// Anyone holding the key can mint tokens that bill advertisers, so: a key file that group or
// others may read is refused; rotating the key (replacing the file) invalidates every
// outstanding token, which then counts as forged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace lumen::ads {

// Reads the key at `path`, creating it (and nothing else: the folder must exist) when absent.
// Errors: PermissionDenied when the file is accessible to group or others, Corruption when it
// does not hold 64 hex characters (optionally followed by a newline), IoError otherwise.
// Safe against two processes creating it at once (O_EXCL; the loser reads the winner's key).
Result<std::vector<std::uint8_t>> LoadOrCreateSecretKey(const std::string& path);

// Parses a key given as text (64 or more hex characters), e.g. from an environment variable.
Result<std::vector<std::uint8_t>> ParseSecretKey(const std::string& hex, const std::string& origin);

}  // namespace lumen::ads
