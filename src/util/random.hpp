#pragma once
// Unpredictable tokens for reply-list names and request ids. Reply lists are only as private as
// their names are hard to guess, so these come from the kernel's CSPRNG, never from rand().

#include <cstddef>
#include <string>

namespace redisrpc::detail {

/// `length` characters from [A-Za-z0-9] (about 5.95 bits each).
std::string random_token(std::size_t length);

} // namespace redisrpc::detail
