#include "server/startup_checks.hpp"

#include "util/log.hpp"

#include <optional>
#include <string>

namespace redisrpc::detail {
namespace {

/// CONFIG GET name -> its value, or nullopt when refused or malformed.
std::optional<std::string> config_value(connection& conn, std::string_view name, clock::time_point deadline) {
    const reply r = conn.execute({"CONFIG", "GET", name}, deadline);
    if (r.is_error()) {
        log(log_level::debug, "cannot read the redis setting ", name, ": ", r.str);
        return std::nullopt;
    }
    if (!r.is_array() || r.elements.size() != 2)
        return std::nullopt;
    return r.elements[1].str;
}

} // namespace

std::string eviction_warning(std::string_view policy, long long maxmemory) {
    if (policy.empty() || policy == "noeviction")
        return {};
    std::string text = "redis maxmemory-policy is " + std::string(policy) +
                       ": under memory pressure redis may evict queued requests and replies (lost calls, "
                       "timeouts); use maxmemory-policy noeviction for RPC queues";
    if (maxmemory == 0)
        text += " (no maxmemory limit is set yet, so nothing is evicted for now)";
    return text;
}

void warn_if_keys_may_be_evicted(connection& conn, clock::time_point deadline) noexcept {
    try {
        const auto policy = config_value(conn, "maxmemory-policy", deadline);
        if (!policy)
            return;
        const auto limit = config_value(conn, "maxmemory", deadline);
        long long maxmemory = 0;
        if (limit) {
            try {
                maxmemory = std::stoll(*limit);
            } catch (const std::exception&) {
            }
        }
        const std::string text = eviction_warning(*policy, maxmemory);
        if (!text.empty())
            log(maxmemory == 0 ? log_level::info : log_level::warning, text);
    } catch (const std::exception& e) {
        log(log_level::debug, "cannot check redis's eviction policy: ", e.what());
    }
}

} // namespace redisrpc::detail
