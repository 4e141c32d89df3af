#pragma once
// Appends replies to a pipeline so that every reply list gets its TTL atomically with its
// content: per distinct key, MULTI; RPUSH key v1..vn; EXPIRE key ttl; EXEC. One transaction per
// key (not per batch) keeps every transaction single-slot, as Redis Cluster requires.

#include "protocol/message.hpp"
#include "redis/command.hpp"
#include "redis/reply.hpp"

#include <span>
#include <string>
#include <vector>

namespace redisrpc::detail {

/// Appends the commands; returns how many replies the pipeline will produce for them.
std::size_t append_replies(command_buffer& out, std::span<const outgoing_reply> replies);

/// Checks the replies of the commands append_replies() wrote (starting at `first`);
/// returns a description of the first failure, or an empty string.
std::string check_reply_results(std::span<const reply> results);

} // namespace redisrpc::detail
