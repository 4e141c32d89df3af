#pragma once
// Appends replies to a pipeline, grouped per reply list (one RPUSH of all its values, in call
// order), each followed by EXPIRE so that no reply list outlives its TTL:
//   classic, JSON-RPC: RPUSH key v1..vn; EXPIRE key ttl   (pipelined: Redis runs them back to back)
//   codility:          MULTI; RPUSH ...; EXPIRE ...; EXEC (its specification asks for MULTI)
// Every group touches one key only, so each stays single-slot as Redis Cluster requires.

#include "protocol/message.hpp"
#include "redis/command.hpp"
#include "redis/reply.hpp"

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redisrpc::detail {

/// Reusable scratch space, so that a serve loop writes replies without allocating per batch.
class reply_writer {
public:
    /// Appends the commands; returns how many replies the pipeline will produce for them.
    std::size_t append(command_buffer& out, std::span<const outgoing_reply> replies);

private:
    std::vector<std::pair<std::string_view, std::size_t>> by_key_; // (key, index), sorted
    std::vector<std::string_view> argv_;
};

/// One-shot form of reply_writer::append.
std::size_t append_replies(command_buffer& out, std::span<const outgoing_reply> replies);

/// Checks the replies of the commands append_replies() wrote; returns a description of the first
/// failure, or an empty string.
std::string check_reply_results(std::span<const reply> results);

} // namespace redisrpc::detail
