#include "server/method_stats.hpp"

#include <bit>

namespace redisrpc::detail {

void latency_histogram::record(std::chrono::nanoseconds d) noexcept {
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count() / 1000));
    const std::size_t bucket = std::min<std::size_t>(bucket_count - 1, static_cast<std::size_t>(std::bit_width(us)));
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t latency_histogram::count() const noexcept {
    std::uint64_t n = 0;
    for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
    return n;
}

double latency_histogram::quantile_ms(double q) const noexcept {
    const std::uint64_t total = count();
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += buckets_[i].load(std::memory_order_relaxed);
        if (seen >= rank) return static_cast<double>(std::uint64_t{1} << i) / 1000.0;
    }
    return static_cast<double>(std::uint64_t{1} << (bucket_count - 1)) / 1000.0;
}

method_stats::method_stats(const std::vector<std::string>& names) {
    for (const auto& n : names) by_name_.emplace(n, std::make_unique<method_counters>());
}

method_counters& method_stats::of(std::string_view name) noexcept {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? unknown_ : *it->second;
}

std::map<std::string, method_stats_snapshot> method_stats::snapshot() const {
    std::map<std::string, method_stats_snapshot> out;
    auto take = [](const method_counters& c) {
        method_stats_snapshot s;
        s.calls = c.calls.load(std::memory_order_relaxed);
        s.errors = c.errors.load(std::memory_order_relaxed);
        s.expired = c.expired.load(std::memory_order_relaxed);
        s.p50_ms = c.latency.quantile_ms(0.50);
        s.p90_ms = c.latency.quantile_ms(0.90);
        s.p99_ms = c.latency.quantile_ms(0.99);
        return s;
    };
    for (const auto& [name, counters] : by_name_) out.emplace(name, take(*counters));
    if (unknown_.calls.load() != 0 || unknown_.errors.load() != 0) out.emplace("(unknown)", take(unknown_));
    return out;
}

} // namespace redisrpc::detail
