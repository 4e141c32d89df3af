#pragma once
// Per-method counters and latency histograms of a running server. The set of methods is fixed
// when run() starts, so lookups during serving read an immutable map and the counters are
// atomics: no lock on the call path, and stats can be read from any thread.

#include <redisrpc/server.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace redisrpc::detail {

/// Log2 buckets of microseconds: bucket i holds durations in [2^(i-1), 2^i) µs (bucket 0: < 1 µs).
class latency_histogram {
public:
    static constexpr std::size_t bucket_count = 32;
    void record(std::chrono::nanoseconds d) noexcept;
    /// The upper bound (ms) of the bucket holding the q-quantile, or 0 without samples.
    [[nodiscard]] double quantile_ms(double q) const noexcept;
    [[nodiscard]] std::uint64_t count() const noexcept;

private:
    std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
};

struct method_counters {
    std::atomic<std::uint64_t> calls{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> expired{0};
    latency_histogram latency;
};

class method_stats {
public:
    explicit method_stats(const std::vector<std::string>& names);
    /// The counters of `name`; names that are not bound share one "(unknown)" slot, so hostile
    /// names cannot grow the map.
    method_counters& of(std::string_view name) noexcept;
    [[nodiscard]] std::map<std::string, method_stats_snapshot> snapshot() const;

private:
    struct hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::unique_ptr<method_counters>, hash, std::equal_to<>> by_name_;
    method_counters unknown_;
};

} // namespace redisrpc::detail
