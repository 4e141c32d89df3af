#pragma once
// The synchronous call path: on one connection, push the request and block on its reply list
// in a single write (RPUSH + BLPOP pipelined), so a call costs one network round trip plus the
// server's work. On timeout the request is withdrawn if no server has taken it yet.

#include "protocol/codec.hpp"
#include "redis/command.hpp"
#include "redis/connection.hpp"

#include <string_view>

namespace redisrpc::detail {

/// How long withdrawing a timed-out request may take. With the scheduling delays of a loaded
/// machine, a call still ends within its deadline + 250 ms (docs/guarantees.md) even when Redis
/// freezes or pauses writes (a failover) just then.
inline constexpr auto withdraw_budget = std::chrono::milliseconds(150);

/// Appends the commands that enqueue `request` (RPUSH, or MULTI/RPUSH/EXPIRE/EXEC when the
/// dialect wants the queue to expire); returns how many replies they produce.
std::size_t append_request(command_buffer& out, const outgoing_request& request);

/// Throws when the replies of append_request()'s commands report a failure.
void check_request_results(std::span<const reply> results, const outgoing_request& request);

/// Removes a request nobody has taken yet. Returns true when it was withdrawn (so it will never
/// run), false when a server already took it (or Redis could not be asked).
bool withdraw_request(connection& conn, const outgoing_request& request, clock::time_point deadline) noexcept;

/// Pushes the request, waits for the reply until `deadline`, decodes it.
/// @throws timeout_error (with outcome_unknown() telling whether a server took it),
///         connection_error, protocol_error.
decoded_response round_trip(connection& conn, const outgoing_request& request, clock::time_point deadline,
                            const client_codec& codec);

} // namespace redisrpc::detail
