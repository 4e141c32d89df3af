#pragma once
// Runs one decoded call against the dispatcher and turns every way it can end into an outcome.

#include "protocol/message.hpp"
#include "server/method_stats.hpp"
#include "util/clock.hpp"

#include <redisrpc/dispatcher.hpp>

#include <atomic>
#include <cstdint>

namespace redisrpc::detail {

struct call_counters {
    std::atomic<std::uint64_t> calls{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> expired{0};
};

/// Never throws: unknown methods, bad arguments, handler exceptions and passed deadlines all
/// become error outcomes. Counts into `totals` and the method's own counters.
call_outcome execute_call(const dispatcher& methods, const call_request& call, call_counters& totals,
                          method_stats& per_method);

} // namespace redisrpc::detail
