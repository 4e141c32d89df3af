#pragma once
// Wall-clock time in the unit request deadlines travel in. (Timeouts inside one process use
// steady_clock; only deadlines that cross machines use the wall clock.)

#include <chrono>
#include <cstdint>

namespace redisrpc::detail {

inline std::int64_t unix_now_ms() noexcept {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace redisrpc::detail
