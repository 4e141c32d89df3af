#pragma once
// Unpredictable tokens for reply-list names and request ids. Reply lists are only as private as
// their names are hard to guess, so these come from the kernel's CSPRNG, never from rand().

#include <cstddef>
#include <string>

namespace redisrpc::detail {

/// `length` characters from [A-Za-z0-9] (about 5.95 bits each).
std::string random_token(std::size_t length);

/// A random (version 4) UUID in its canonical lower-case form, e.g.
/// "0f8fad5b-d9cb-469f-a165-70867728950e" (122 random bits): the Codility dialect's call ids.
std::string random_uuid4();

} // namespace redisrpc::detail
