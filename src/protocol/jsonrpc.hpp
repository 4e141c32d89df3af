#pragma once
// JSON-RPC 2.0 over Redis lists, both sides.
//
// JSON-RPC has no reply address, so a message on the request list is
//
//     <reply list name> "\n" <JSON-RPC request or batch>       (JSON text or MessagePack)
//
// and the reply pushed to that list is the plain JSON-RPC response (or batch response). The
// JSON-RPC objects themselves are standard. A message that starts like a body (`{`, `[`, JSON
// whitespace or a MessagePack map/array marker), or has no "\n" within the first
// jsonrpc_max_reply_key + 1 bytes, has no reply address: it is executed but cannot be answered.
// See docs/protocol-jsonrpc.md.
//
// Error codes: -32700 parse_error, -32600 invalid_request, -32601 method_not_found (also every
// "rpc." name), -32602 invalid_params, -32603 internal_error, -32000 handler_error (message =
// the handler's text), -32001 expired.

#include "protocol/classic.hpp" // reply_policy
#include "protocol/codec.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace redisrpc::detail {

/// Longest reply list name accepted in the prefix.
inline constexpr std::size_t jsonrpc_max_reply_key = 512;
/// Most entries in one batch: bounds the work and the size of the answer to one message.
inline constexpr std::size_t jsonrpc_max_batch = 1000;

/// error_code -> JSON-RPC error code (handler_error -> -32000, expired -> -32001).
[[nodiscard]] std::int64_t jsonrpc_error_code(error_code code) noexcept;
/// JSON-RPC error code -> error_code; codes we do not define (-32099..-32002, application
/// codes) map to handler_error.
[[nodiscard]] error_code error_code_from_jsonrpc(std::int64_t code) noexcept;

class jsonrpc_server_codec final : public server_codec {
public:
    jsonrpc_server_codec(std::string queue, message_limits limits = {},
                         std::chrono::seconds reply_ttl = std::chrono::seconds{60}, reply_policy policy = {},
                         std::size_t max_batch = jsonrpc_max_batch);

    /// Just the one request list.
    [[nodiscard]] std::vector<std::string> queues(std::span<const std::string> methods) const override;
    /// `<queue>:server:<server_id>:alive`, as in the classic dialect (a redisrpc extension).
    [[nodiscard]] std::string heartbeat_key(std::string_view server_kind, std::string_view server_id) const override;

    /// Never throws.
    /// - Single request: one call (wants_reply = false for a notification), or rejected with
    ///   entry_errors[0] holding the id to echo.
    /// - Batch: batch = true; valid entries in `calls`, invalid ones in `entry_errors` (by
    ///   position); rejected only when no entry is valid. An empty or oversized batch is a
    ///   single invalid_request (batch = false).
    /// - Parse errors: rejected with parse_error.
    /// - reply_key: from the prefix, when allowed by the policy. A prefix the policy refuses
    ///   rejects the whole message unanswered; a message without prefix is executed unanswered
    ///   (`problem` says so).
    [[nodiscard]] decoded_job decode(std::string_view source_key, std::string_view bytes) const override;

    /// One reply (response object or batch array) on job.reply_key; none for notifications, an
    /// all-notification batch, or an empty reply_key. Results that cannot be encoded become
    /// -32603 errors for that entry.
    [[nodiscard]] std::vector<outgoing_reply> encode(const decoded_job& job,
                                                     std::span<const call_outcome> outcomes) const override;

private:
    [[nodiscard]] bool reply_key_allowed(std::string_view key) const noexcept;

    std::string queue_;
    message_limits limits_;
    std::chrono::seconds reply_ttl_;
    reply_policy policy_;
    std::string prefix_; // effective required prefix of reply list names
    std::size_t max_batch_;
};

class jsonrpc_client_codec final : public client_codec {
public:
    explicit jsonrpc_client_codec(std::string queue, message_limits limits = {});

    /// `reply_key` "\n" {"jsonrpc":"2.0","method":..,"params":..,"id":..} to the queue.
    /// params: an array for positional, an object for keyword arguments, left out when there
    /// are none. id: call.id (null when the call has none); left out when !call.wants_reply.
    /// "deadline_ms" (extension) when set.
    /// @throws usage_error for positional and keyword arguments together, an empty method name
    ///         or a reply_key that cannot be a prefix; protocol_error on invalid UTF-8.
    [[nodiscard]] outgoing_request encode(const call_request& call, std::string_view reply_key,
                                          encoding enc) const override;

    /// A response object: "result" -> success; "error" -> failure with the code mapped back
    /// (error_code_from_jsonrpc), message as text and "data" kept.
    /// @throws protocol_error for anything else (batch arrays included).
    [[nodiscard]] decoded_response decode(std::string_view bytes) const override;

private:
    std::string queue_;
    message_limits limits_;
};

} // namespace redisrpc::detail
