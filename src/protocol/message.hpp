#pragma once
// The dialect-neutral model of calls and their outcomes. Dialect codecs translate bytes to and
// from these structs; the dispatcher and the client/server front ends only ever see these.

#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace redisrpc::detail {

using json = nlohmann::json;

/// One call, as the dispatcher sees it.
struct call_request {
    std::string method;
    json args = json::array();    // positional arguments (always an array)
    json kwargs = json::object(); // keyword arguments (always an object)
    json id;                      // request id; null when the peer sent none
    bool wants_reply = true;      // false for JSON-RPC notifications
    std::optional<std::int64_t> deadline_ms; // absolute, Unix epoch milliseconds (extension)
};

/// How one call ended on the server.
struct call_outcome {
    bool ok = true;
    json value;                             // the result when ok
    error_code code = error_code::none;     // category when !ok
    std::string message;                    // human-readable error text when !ok
    json data;                              // extra error data (JSON-RPC error.data), or null

    static call_outcome success(json v) { return {true, std::move(v), error_code::none, {}, nullptr}; }
    static call_outcome failure(error_code c, std::string text, json d = nullptr) {
        return {false, nullptr, c, std::move(text), std::move(d)};
    }
};

/// A reply the server pushes: RPUSH key payload, then EXPIRE key ttl (same pipeline).
struct outgoing_reply {
    std::string key;
    std::string payload;
    std::chrono::seconds ttl{60};
    /// Push and TTL inside one MULTI/EXEC, because the dialect's specification says so (codility).
    bool transactional = false;
};

/// A batch entry refused before dispatch (JSON-RPC): answered in place with its own error.
struct entry_error {
    std::size_t index = 0; // position in the batch
    json id;               // the id to echo (null when the entry had no usable one)
    call_outcome error;
};

/// What a server codec made of one popped message.
struct decoded_job {
    std::vector<call_request> calls;  // to run, in order (empty when the message was rejected)
    std::string reply_key;            // where replies go; empty when nobody can be answered
    encoding enc = encoding::json;    // answer in kind
    bool batch = false;               // JSON-RPC batch: one array reply for all calls
    /// Set when the message itself was rejected: the error to send to reply_key (if known).
    std::optional<call_outcome> rejected;
    /// Why the message was dropped or rejected, for the log (already escaped/shortened).
    std::string problem;
    /// Dialect-specific detail the encoder needs back (e.g. codility function name).
    std::string context;
    /// JSON-RPC: invalid entries of a batch, by ascending index (their errors are part of the
    /// batch answer), or the id to echo when a single request was rejected.
    std::vector<entry_error> entry_errors;
};

/// A request ready for the wire, made by a client codec.
struct outgoing_request {
    std::string queue;      // list to RPUSH onto
    std::string payload;    // encoded request
    std::string reply_key;  // list the reply will arrive on
    std::optional<std::chrono::seconds> queue_ttl; // EXPIRE the queue in the same MULTI (codility)
    std::optional<std::chrono::seconds> reply_ttl_hint;
};

/// A reply as a client codec decoded it.
struct decoded_response {
    json id;              // echoed request id, null if none
    call_outcome outcome; // value or error
};

} // namespace redisrpc::detail
