#pragma once
// Internal logging front end: cheap level check first, formatting only when the line is kept.

#include <redisrpc/log.hpp>

#include <string>
#include <string_view>

namespace redisrpc::detail {

bool log_enabled(log_level level) noexcept;
void log_write(log_level level, std::string_view message);

template <class... Parts>
void log(log_level level, const Parts&... parts) {
    if (!log_enabled(level)) return;
    std::string line;
    (line.append(parts), ...);
    log_write(level, line);
}

} // namespace redisrpc::detail
