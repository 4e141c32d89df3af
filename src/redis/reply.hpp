#pragma once
// A decoded RESP2 reply, detached from hiredis's allocations.

#include <cstdint>
#include <string>
#include <vector>

namespace redisrpc::detail {

struct reply {
    enum class type { nil, status, error, integer, string, array };

    type kind = type::nil;
    std::string str;          // status, error and bulk string payload
    std::int64_t integer = 0; // integer replies
    std::vector<reply> elements;

    [[nodiscard]] bool is_nil() const noexcept { return kind == type::nil; }
    [[nodiscard]] bool is_error() const noexcept { return kind == type::error; }
    [[nodiscard]] bool is_string() const noexcept { return kind == type::string; }
    [[nodiscard]] bool is_array() const noexcept { return kind == type::array; }
    [[nodiscard]] bool is_integer() const noexcept { return kind == type::integer; }
    [[nodiscard]] bool is_status() const noexcept { return kind == type::status; }
};

} // namespace redisrpc::detail
