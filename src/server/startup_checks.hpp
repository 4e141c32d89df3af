#pragma once
// Checks of the Redis configuration a server makes once at start, only to warn.

#include "redis/connection.hpp"

#include <string>
#include <string_view>

namespace redisrpc::detail {

/// Warns when Redis's maxmemory-policy may evict keys: queued requests (codility queues carry a
/// TTL, so even volatile-* policies take them), reply lists and heartbeats. Silent (debug level)
/// when CONFIG GET is not allowed, e.g. by an ACL. Never throws.
void warn_if_keys_may_be_evicted(connection& conn, clock::time_point deadline) noexcept;

/// The warning text for a policy and limit, or empty when keys are safe (noeviction, or no
/// maxmemory limit). Split out for tests.
[[nodiscard]] std::string eviction_warning(std::string_view policy, long long maxmemory);

} // namespace redisrpc::detail
