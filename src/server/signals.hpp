#pragma once
// SIGINT/SIGTERM as a stop request. The handler only bumps a counter (async-signal-safe); serve
// loops compare it with the value they saw at start, at least once per poll interval.

#include <atomic>

namespace redisrpc::detail {

class stop_signals {
public:
    /// Installs the handlers when `install` (restoring the previous ones on destruction).
    explicit stop_signals(bool install);
    ~stop_signals();
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;

    /// True once SIGINT or SIGTERM arrived after construction.
    [[nodiscard]] bool fired() const noexcept;

private:
    bool installed_;
    unsigned start_count_;
};

} // namespace redisrpc::detail
