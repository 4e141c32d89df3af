#include "util/log.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <cstdio>
#include <memory>
#include <mutex>

namespace redisrpc {
namespace {

std::atomic<log_level> current_level{log_level::info};

std::mutex& sink_mutex() {
    static std::mutex m;
    return m;
}
// A shared_ptr so a line being written keeps its sink alive while another thread replaces it.
std::shared_ptr<log_sink>& sink_slot() {
    static std::shared_ptr<log_sink> sink;
    return sink;
}

void stderr_sink(log_level level, std::string_view message) {
    // One fwrite per line keeps lines from different threads whole.
    std::string line = "redisrpc ";
    line.append(to_string(level)).append(": ").append(message).push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace

void set_log_sink(log_sink sink) {
    std::lock_guard lock(sink_mutex());
    sink_slot() = sink ? std::make_shared<log_sink>(std::move(sink)) : nullptr;
}

void set_log_level(log_level level) { current_level.store(level, std::memory_order_relaxed); }

log_level get_log_level() noexcept { return current_level.load(std::memory_order_relaxed); }

std::string_view to_string(log_level level) noexcept {
    switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warning";
    case log_level::error: return "error";
    case log_level::off: return "off";
    }
    return "?";
}

namespace detail {

bool log_enabled(log_level level) noexcept {
    return level != log_level::off && level >= current_level.load(std::memory_order_relaxed);
}

namespace {

// A flood of bad messages must not turn into a flood of log lines (disk, CPU): a token bucket
// lets bursts of `burst` lines through and then `per_second`; what it holds back is counted and
// reported with the next line that passes.
class rate_limiter {
public:
    static constexpr double burst = 200;
    static constexpr double per_second = 50;

    /// True when a line may be written now; `suppressed` gets the count held back before it.
    bool admit(std::uint64_t& suppressed) {
        const auto now = std::chrono::steady_clock::now();
        tokens_ = std::min(burst, tokens_ + std::chrono::duration<double>(now - last_).count() * per_second);
        last_ = now;
        if (tokens_ < 1) {
            ++held_back_;
            return false;
        }
        tokens_ -= 1;
        suppressed = held_back_;
        held_back_ = 0;
        return true;
    }

private:
    double tokens_ = burst;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
    std::uint64_t held_back_ = 0;
};

} // namespace

void log_write(log_level level, std::string_view message) {
    static rate_limiter limiter;
    std::shared_ptr<log_sink> sink;
    std::uint64_t suppressed = 0;
    {
        std::lock_guard lock(sink_mutex());
        if (!limiter.admit(suppressed)) return;
        sink = sink_slot();
    }
    auto emit = [&](log_level l, std::string_view text) {
        if (sink) {
            (*sink)(l, text);
        } else {
            stderr_sink(l, text);
        }
    };
    try {
        if (suppressed > 0)
            emit(log_level::warning, std::to_string(suppressed) + " log lines suppressed (rate limit)");
        emit(level, message);
    } catch (...) {
        // A failing user sink must not take down the caller (often the serve loop).
    }
}

} // namespace detail
} // namespace redisrpc
