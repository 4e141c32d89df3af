#pragma once
// Finding the master of a Sentinel-monitored group: ask the sentinels (in order, the first that
// knows the name wins), connect to the address given, and accept it only if ROLE says master
// (right after a failover a sentinel may still name the demoted node). Retries until the
// connect timeout, so a call made during a failover waits for the new master instead of failing.

#include "redis/node_connection.hpp"

#include <memory>

namespace redisrpc::detail {

/// A connection to the current master. @throws connection_error saying what each sentinel said.
std::unique_ptr<node_connection> connect_to_sentinel_master(const connection_options& options);

/// True for an error reply saying the node is no longer (or not yet) a usable master:
/// READONLY, UNBLOCKED (a blocked pop ended by a role change), MASTERDOWN, LOADING.
bool is_role_change_error(const reply& r) noexcept;

} // namespace redisrpc::detail
