#pragma once
/// @file
/// Inspection and one-way messages for tools such as the `redisrpc` command-line program:
/// pending requests, live servers, fire-and-forget notifications. Not needed for ordinary calls.

#include <redisrpc/options.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace redisrpc::admin {

/// One request list and how many requests wait on it.
struct queue_depth {
    std::string key;         ///< the list's Redis key
    std::int64_t length = 0; ///< requests not yet taken by a server
    /// At-least-once servers (docs/guarantees.md): requests taken but not yet acknowledged, summed
    /// over the processing lists of the servers registered in `<key>:consumers`.
    std::int64_t in_processing = 0;
    std::int64_t dead_letters = 0; ///< requests moved to `<key>:dead` after too many deliveries
};

/// A server that announced itself through a heartbeat key.
struct live_server {
    std::string id;   ///< the server id (`server_options::server_id`, or the random one)
    std::string kind; ///< codility: `server_options::server_kind`; empty for the other dialects
    std::string key;  ///< the heartbeat key itself
    std::chrono::milliseconds ttl{0}; ///< time left before the key expires (0 if it has none)
};

/// The heartbeat key pattern of a service, for `SCAN ... MATCH`. Special glob characters in
/// `queue` are escaped.
/// - codility: `{prefix}:*:*:alive` (`{prefix}:{server_kind}:{server_id}:alive`);
/// - classic and JSON-RPC: `{queue}:server:*:alive` (`{queue}:server:{server_id}:alive`).
[[nodiscard]] std::string heartbeat_pattern(std::string_view queue, dialect d);

/// Requests waiting on the service's request lists: the one list of a classic or JSON-RPC queue;
/// every `{prefix}:{function}:calls` list of a codility prefix (found with SCAN). Also counts
/// the at-least-once processing and dead-letter lists of each (zero when that mode is not used).
/// @param url   see parse_url(); empty means default_url().
/// @param queue the request list (classic, JSON-RPC) or key prefix (codility).
/// @param d     the service's dialect.
/// @throws connection_error, timeout_error, usage_error (bad URL).
[[nodiscard]] std::vector<queue_depth> queue_depths(std::string_view url, std::string_view queue,
                                                    dialect d = dialect::classic);

/// The servers whose heartbeat key (see heartbeat_pattern()) currently exists, sorted by id.
/// Servers that do not write heartbeats are not found. Parameters as for queue_depths().
/// @throws connection_error, timeout_error, usage_error (bad URL).
[[nodiscard]] std::vector<live_server> live_servers(std::string_view url, std::string_view queue,
                                                    dialect d = dialect::classic);

/// Sends a call without waiting for, or reading, any answer. Returns once Redis has accepted
/// the request; whether and when a server runs it is unknown.
/// - JSON-RPC: a real JSON-RPC notification (no `id`): the server runs it and sends nothing.
/// - classic: the original protocol has no notifications. An ordinary request is sent whose
///   reply list (`{queue}:rpc:notify:<random>`) nobody reads; the server's reply to it expires
///   after the server's `reply_ttl` (60 s by default). No extension fields are sent, so
///   original Python/Ruby/PHP servers accept it too.
/// - codility: an ordinary call on `{prefix}:{method}:calls` with a fresh id; its result list
///   expires after 120 s, as every codility result does.
///
/// @param url     see parse_url(); empty means default_url().
/// @param queue   the request list (classic, JSON-RPC) or key prefix (codility).
/// @param method  the method to call.
/// @param args    positional arguments, a JSON array.
/// @param kwargs  keyword arguments, a JSON object.
/// @param d       the service's dialect.
/// @param timeout how long connecting and pushing may take.
/// @throws connection_error, timeout_error (Redis did not answer within `timeout`),
///         usage_error (bad URL, empty method, malformed arguments).
void notify(std::string_view url, std::string_view queue, std::string_view method,
            nlohmann::json args = nlohmann::json::array(), nlohmann::json kwargs = nlohmann::json::object(),
            dialect d = dialect::classic, std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace redisrpc::admin
