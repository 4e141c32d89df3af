#include "util/log.hpp"

#include <atomic>
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

void log_write(log_level level, std::string_view message) {
    std::shared_ptr<log_sink> sink;
    {
        std::lock_guard lock(sink_mutex());
        sink = sink_slot();
    }
    try {
        if (sink) {
            (*sink)(level, message);
        } else {
            stderr_sink(level, message);
        }
    } catch (...) {
        // A failing user sink must not take down the caller (often the serve loop).
    }
}

} // namespace detail
} // namespace redisrpc
