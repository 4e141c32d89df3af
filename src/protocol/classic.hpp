#pragma once
// The classic redisrpc dialect (Python / Ruby / PHP redisrpc 0.3.x), both sides.
//
//   request  {"function_call": {"name": N, "args": [...], "kwargs": {...}},
//             "response_queue": "<queue>:rpc:<suffix>"}
//   response {"return_value": V}  |  {"exception": "<text>"}
//
// Extension fields, ignored by the original peers (docs/protocol.md, "Extensions"):
//   request  "id" (string or integer, echoed), "deadline_ms" (integer, Unix epoch ms)
//   response "id" (the echo), "error_code" (on errors other than a handler's exception)

#include "protocol/codec.hpp"
#include "protocol/wire_util.hpp" // error_code_name / error_code_from_name ("error_code" field)

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace redisrpc::detail {

/// Which response_queue values a classic server is willing to push to (and EXPIRE).
struct reply_policy {
    /// Accept any key. For peers that name reply lists differently; the request queue itself is
    /// still refused (its own TTL would otherwise be set by our EXPIRE).
    bool allow_any = false;
    /// The required prefix; empty means "<queue>:rpc:" as every original client does. The key
    /// must be longer than the prefix.
    std::string prefix;
};

class classic_server_codec final : public server_codec {
public:
    classic_server_codec(std::string queue, message_limits limits = {},
                         std::chrono::seconds reply_ttl = std::chrono::seconds{60}, reply_policy policy = {});

    /// Just the one request queue: the classic dialect has a single queue for all methods.
    [[nodiscard]] std::vector<std::string> queues(std::span<const std::string> methods) const override;

    /// Never throws. On success: one call, reply_key = response_queue, enc = detected encoding.
    /// On rejection: no calls, `problem` set (log-safe), `rejected` set (parse_error or
    /// invalid_request), and reply_key set only when response_queue was a string allowed by the
    /// reply policy (otherwise the message is dropped: nobody is answered).
    [[nodiscard]] decoded_job decode(std::string_view source_key, std::string_view bytes) const override;

    /// The two paths decode() takes, public so tests and the fuzzer can check they agree:
    /// decode_canonical() reads a valid JSON request of the usual shape (members function_call,
    /// response_queue, id, deadline_ms; function_call with name, args as an array, kwargs)
    /// straight into the job without building a DOM, and returns nullopt for anything else,
    /// valid or not; decode_general() handles every input with the exact diagnostics.
    [[nodiscard]] std::optional<decoded_job> decode_canonical(std::string_view bytes) const;
    [[nodiscard]] decoded_job decode_general(std::string_view bytes) const;

    /// One reply per job (for outcomes[0], or job.rejected when outcomes is empty); no replies
    /// when job.reply_key is empty. Success -> {"return_value": V}; failure ->
    /// {"exception": text} plus "error_code" unless the code is handler_error; "id" echoed.
    /// Encoded like the request (JSON or MessagePack). Does not throw on unencodable results:
    /// they become an internal_error reply.
    [[nodiscard]] std::vector<outgoing_reply> encode(const decoded_job& job,
                                                     std::span<const call_outcome> outcomes) const override;

    /// `<queue>:server:<server_id>:alive` (a redisrpc extension: the originals have no heartbeat).
    [[nodiscard]] std::string heartbeat_key(std::string_view server_kind, std::string_view server_id) const override;

private:
    [[nodiscard]] bool reply_key_allowed(std::string_view key) const noexcept;

    std::string queue_;
    message_limits limits_;
    std::chrono::seconds reply_ttl_;
    reply_policy policy_;
    std::string prefix_; // effective required prefix of response_queue
};

class classic_client_codec final : public client_codec {
public:
    /// The request queue is taken from each reply key: everything before its last ":rpc:"
    /// (reply keys are "<queue>:rpc:<suffix>" in this dialect).
    explicit classic_client_codec(message_limits limits = {});
    /// Requests always go to `queue`.
    explicit classic_client_codec(std::string queue, message_limits limits = {});

    /// {"function_call":{"name":..,"args":[..],"kwargs":{..}},"response_queue":reply_key}, args
    /// and kwargs only when non-empty (as the Python client does), "id" when call.id is not
    /// null, "deadline_ms" when set.
    /// @throws usage_error when no queue is known or args/kwargs have the wrong type;
    ///         protocol_error when a string is not valid UTF-8.
    [[nodiscard]] outgoing_request encode(const call_request& call, std::string_view reply_key,
                                          encoding enc) const override;

    /// Accepts the responses of all three original servers and of ours (JSON or MessagePack;
    /// bare NaN/Infinity as Python writes them). "exception" non-null -> failure with the code
    /// from "error_code" if known, else handler_error (Ruby's "backtrace" goes to data);
    /// otherwise "return_value" -> success.
    /// @throws protocol_error for anything else.
    [[nodiscard]] decoded_response decode(std::string_view bytes) const override;

    /// decode()'s fast path, public for the same reason as the server's: the usual JSON reply
    /// ({"return_value": V} or {"exception": "text"}, each with an optional "id") without a DOM;
    /// nullopt for anything else.
    [[nodiscard]] std::optional<decoded_response> decode_canonical(std::string_view bytes) const;
    [[nodiscard]] decoded_response decode_general(std::string_view bytes) const;

private:
    std::string queue_;
    message_limits limits_;
};

} // namespace redisrpc::detail
