#pragma once
// The floor: raw request/response through Redis between two processes, on the library's own
// connection layer (detail::connection, command_buffer), with the best command patterns and no
// RPC work at all (no JSON parsing, no ids, no TTLs). Whatever redisrpc adds on top of this is
// its own overhead.
//
//  sequential: client  RPUSH req + BLPOP own-reply-list          (one write, one round trip)
//              server  BLPOP req; RPUSH reply + next BLPOP        (one write per request)
//  batched:    client  keeps K requests in flight: RPUSH <m new values> + BLMPOP reply-list COUNT K
//              server  BLMPOP req COUNT batch; RPUSH reply-list <n values> + next BLMPOP

#include "common.hpp"

#include <string>

namespace bench {

/// A request of the same shape and size as redisrpc's classic request for add(5).
[[nodiscard]] std::string floor_request(const std::string& reply_key);

result floor_sequential(const settings& s, const std::string& queue);
result floor_batched(const settings& s, const std::string& queue, std::size_t k);

/// Fixed-count variants for profilers: `n` calls, no timing.
void floor_calls_sequential(const settings& s, const std::string& queue, std::uint64_t n);
void floor_calls_batched(const settings& s, const std::string& queue, std::uint64_t n, std::size_t k);

/// Peer roles.
int floor_server_sequential(const settings& s, const std::string& queue);
int floor_server_batched(const settings& s, const std::string& queue);

} // namespace bench
