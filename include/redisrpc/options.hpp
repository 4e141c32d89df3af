#pragma once
/// @file
/// Plain option structs. Every field has a safe default, so designated initialisers work:
/// `redisrpc::client_options{.timeout = 500ms}`.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redisrpc {

using namespace std::chrono_literals;

/// Where and how to reach Redis. Usually built from a URL with parse_url().
struct connection_options {
    /// How to reach Redis: over TCP (host, port) or a unix domain socket (path).
    enum class transport { tcp, unix_socket };

    transport kind = transport::tcp; ///< tcp (`redis://`, `rediss://`) or unix_socket (`unix://`)
    std::string host = "127.0.0.1"; ///< TCP: host name or IP address
    std::uint16_t port = 6379;      ///< TCP: port
    std::string path{};            ///< unix socket path when kind == unix_socket
    std::string user{};            ///< ACL user; empty means the default user
    std::string password{};        ///< no AUTH when both user and password are empty
    int db = 0;                  ///< SELECTed after connecting when non-zero
    bool tls = false;            ///< rediss://: TLS over TCP (not available for unix sockets)
    /// TLS: verify the server's certificate chain and name. Turning it off (`?insecure=true` or
    /// `?tls_verify=no`) leaves the connection open to any man in the middle: tests only.
    bool tls_verify = true;
    std::string tls_ca_file{};     ///< TLS: PEM file of trusted CAs; with tls_ca_dir empty too: system CAs
    std::string tls_ca_dir{};      ///< TLS: directory of hashed CA certificates (c_rehash layout)
    std::string tls_cert_file{};   ///< TLS: client certificate chain (PEM), for --tls-auth-clients
    std::string tls_key_file{};    ///< TLS: private key of tls_cert_file (PEM, unencrypted)
    /// TLS: name sent as SNI and checked against the certificate (DNS or IP SANs); empty: host.
    std::string tls_server_name{};
    /// Deadline for opening a connection (socket connect and TLS handshake).
    std::chrono::milliseconds connect_timeout = 2s;
    std::chrono::milliseconds command_timeout = 5s; ///< per non-blocking command round trip
    std::string client_name{};     ///< CLIENT SETNAME when non-empty

    // ---- scale-out (docs/cluster.md) ----------------------------------------------------------
    /// How the Redis deployment is organised.
    enum class topology {
        standalone, ///< one server (`redis://`, `rediss://`, `unix://`)
        cluster,    ///< Redis Cluster (`redis+cluster://`): keys routed by the cluster's slot map
        sentinel,   ///< a master found through Sentinel (`redis+sentinel://`)
    };
    /// A TCP address of a cluster seed node or a sentinel.
    struct node_address {
        std::string host;        ///< host name or IP address
        std::uint16_t port = 0;  ///< TCP port
    };
    topology mode = topology::standalone; ///< standalone unless the URL names a cluster or sentinels
    /// Cluster: nodes to learn the slot map from; sentinel: the sentinels. host/port above
    /// repeat the first entry.
    std::vector<node_address> nodes{};
    std::string sentinel_master{};   ///< sentinel: the monitored master's name
    std::string sentinel_user{};     ///< sentinel: ACL user for the sentinels (not the master)
    std::string sentinel_password{}; ///< sentinel: password of the sentinels; empty: no AUTH

    /// "host:port" or "unix:/path": for error messages and logs. Never contains credentials.
    [[nodiscard]] std::string address() const;
};

/// Parses `redis://[user[:password]@]host[:port][/db][?opt=val...]` and
/// `unix:///path.sock[?db=N&...]`; for scale-out (docs/cluster.md)
/// `redis+cluster://[user[:password]@]host:port[,host:port...][/][?opt=val...]` and
/// `redis+sentinel://[user[:password]@]host:port[,host:port...]/master[/db][?opt=val...]`
/// (with `sentinel_user` and `sentinel_password` options for the sentinels themselves; the
/// `rediss+` forms use TLS everywhere). Credentials are percent-decoded; IPv6 hosts go in brackets.
/// Query options: `db`, `timeout` / `command_timeout`, `connect_timeout` (with units: `500ms`,
/// `2s`, `1m`; a bare number means seconds), `name`, `user`, `password`; with `rediss://` only:
/// `tls_ca_file`, `tls_ca_dir`, `tls_cert_file`, `tls_key_file`, `tls_server_name`,
/// `tls_verify` (true/false, yes/no, 1/0) and `insecure=true` (the same as `tls_verify=false`).
/// @throws usage_error naming what is wrong (never echoing the password).
[[nodiscard]] connection_options parse_url(std::string_view url);

/// Parses a duration as URLs write them: `500ms`, `2s`, `0.5s`, `1m`, `250us`; a bare number
/// means seconds. Positive, at most one day, rounded up to whole milliseconds.
/// @param text the duration
/// @param what names the value in the error message (e.g. "timeout")
/// @return the duration in milliseconds
/// @throws usage_error saying what is wrong
[[nodiscard]] std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what = "duration");

/// The URL from the environment variable `REDIS_URL`, or `redis://127.0.0.1:6379/0`.
[[nodiscard]] std::string default_url();

/// Which wire format a client or server speaks (see docs/protocol.md).
enum class dialect {
    classic,  ///< the original redisrpc (Python/Ruby/PHP); the default
    codility, ///< Codility redis-rpc: per-function queues, call ids, heartbeats
    jsonrpc,  ///< JSON-RPC 2.0 over lists
};

/// Encoding of message bodies. Servers answer in the encoding of the request.
enum class encoding {
    json,    ///< the default; what every original peer speaks
    msgpack, ///< compact binary (MessagePack); only our own peers
};

/// Limits applied to every incoming message before and while parsing it.
struct message_limits {
    std::size_t max_bytes = 1024 * 1024; ///< checked before parsing
    int max_depth = 64;                  ///< nesting of arrays/objects, checked while parsing
};

/// Options of a client.
struct client_options {
    enum dialect dialect = dialect::classic; ///< wire format of the service; must match the server's
    enum encoding encoding = encoding::json; ///< encoding of the requests this client sends
    /// Default deadline of a call (time from sending until the result is in).
    std::chrono::milliseconds timeout = 10s;
    /// true: the server is a redisrpc C++ server, which echoes request ids, so async calls can
    /// share one reply list per client. false: original peers; every call gets its own reply list.
    bool ids_echoed = true;
    /// Prefix of this client's reply lists; empty means `<queue>:rpc:`. A fixed per-client prefix
    /// such as `calc:rpc:alice:` lets an ACL confine each client to its own replies
    /// (docs/security.md). It must stay inside the server's reply namespace (`<queue>:rpc:` by
    /// default). Ignored by the codility dialect, whose result lists the protocol names.
    std::string reply_prefix{};
    /// Connections used for calls (sync calls borrow one; async calls share them).
    std::size_t connections = 2;
    message_limits limits{}; ///< applied to every response this client receives
    /// Spread calls over this many sub-queues of the service (see shard_queues() in
    /// <redisrpc/cluster.hpp>), one picked per call in turn; servers need the same number.
    /// 1: the queue itself. Classic and JSON-RPC dialects; not with reply_prefix.
    std::size_t shards = 1;
    // --- reliability (docs/guarantees.md) ---
    /// Before sending, check that at least one server of the service has a live heartbeat key;
    /// when none has, the call fails at once with no_live_server_error instead of waiting for its
    /// deadline. The answer is cached for `live_check_interval`. Needs servers that write
    /// heartbeats (ours do in every dialect).
    bool fail_fast_without_server = false;
    std::chrono::milliseconds live_check_interval = 1s; ///< how long a "servers are alive" answer is trusted
};

/// What a server promises about the requests it takes (docs/guarantees.md).
enum class delivery {
    /// The default: a request is popped and run at most once; a server that dies loses the
    /// requests it held. Nothing is ever re-sent or re-delivered.
    at_most_once,
    /// A request is moved atomically into a per-server processing list and removed only after
    /// its reply was pushed; the work of a server whose heartbeat expired is returned to the
    /// queue, so a request may run more than once: handlers must be idempotent.
    at_least_once,
};

/// Which reply lists a server may push to. By default only lists inside the service's reply
/// namespace (`<queue>:rpc:...`), never a request queue or an arbitrary key.
struct reply_address_policy {
    bool allow_any = false; ///< for peers that name reply lists differently (request queues stay refused)
    std::string prefix{};     ///< required prefix; empty means `<queue>:rpc:`
};

/// Options of a server.
struct server_options {
    /// Dialect of the queue given to the constructor; more endpoints via server::listen().
    enum dialect dialect = dialect::classic;
    /// Threads running handlers. 1 (the default) runs calls one at a time, so a stateful
    /// bound object needs no locking.
    std::size_t workers = 1;
    /// Most requests taken from Redis in one pop (BLMPOP ... COUNT n).
    std::size_t batch = 64;
    /// How long a pop blocks before the loop checks for stop() and refreshes heartbeats.
    std::chrono::milliseconds poll_interval = 250ms;
    /// TTL put on every reply list, so replies to vanished clients do not stay in Redis.
    std::chrono::seconds reply_ttl = 60s;
    /// Which reply lists the server pushes to (classic and JSON-RPC; codility names its own).
    reply_address_policy reply_policy{};
    /// DEL the request queue at start, like the original Python/PHP servers. Off by default:
    /// it loses pending requests.
    bool clear_queue_on_start = false;
    /// Install SIGINT/SIGTERM handlers for the duration of run().
    bool handle_signals = true;
    /// Answer the built-in method `rpc.stats` (counters and latencies; see server::stats_json()).
    bool builtin_stats = true;
    /// Log every message received and sent at debug level (as the original Python server can).
    bool debug_messages = false;
    /// Codility dialect: heartbeat key `{prefix}:{server_kind}:{server_id}:alive`.
    std::string server_kind = "redisrpc";
    std::string server_id{}; ///< empty: a random id chosen at start
    message_limits limits{}; ///< applied to every request this server receives
    // --- reliability (docs/guarantees.md) ---
    /// at_most_once (default) or at_least_once (processing lists, reaper, dead letters).
    enum delivery delivery = delivery::at_most_once;
    /// at_least_once: a request delivered this many times without completing goes to the
    /// dead-letter list `<queue>:dead` instead of running again.
    std::uint32_t max_deliveries = 3;
    /// at_least_once: TTL of the dead-letter list and of the delivery counters (refreshed on write).
    std::chrono::seconds dead_letter_ttl = std::chrono::hours(24 * 7);
    /// Serve every classic and JSON-RPC endpoint on this many sub-queues (shard_queues() in
    /// <redisrpc/cluster.hpp>), as clients with the same `shards` expect. 1: the queue itself.
    std::size_t shards = 1;
};

} // namespace redisrpc
