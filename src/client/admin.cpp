#include <redisrpc/admin.hpp>

#include "client/round_trip.hpp"
#include "protocol/factory.hpp"
#include "redis/cluster_topology.hpp"
#include "redis/connection.hpp"
#include "server/delivery.hpp" // the at-least-once key names, to count what those lists hold
#include "util/random.hpp"

#include <redisrpc/error.hpp>

#include <algorithm>
#include <set>
#include <string>

namespace redisrpc::admin {

using detail::clock;

namespace {

constexpr std::size_t notify_suffix_length = 20;
constexpr std::string_view scan_batch = "1000";

connection_options options_of(std::string_view url) {
    return parse_url(url.empty() ? std::string_view(default_url()) : url);
}

clock::time_point deadline_of(const connection_options& o) {
    return clock::now() + o.command_timeout;
}

/// Escapes the glob characters of SCAN MATCH (`*`, `?`, `[`, `]`, `\`).
std::string glob_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
            out += '\\';
        out += c;
    }
    return out;
}

void check(const detail::reply& r, std::string_view what) {
    if (r.is_error())
        throw connection_error(std::string(what) + " failed: " + r.str);
}

std::set<std::string> scan_one(detail::connection& conn, const std::string& pattern,
                               const connection_options& o);

/// Every key matching `pattern`, each once (SCAN may return a key more than once). A cluster
/// answers SCAN per node: there every master is scanned.
std::set<std::string> scan(detail::connection& conn, const std::string& pattern,
                           const connection_options& o) {
    if (o.mode != connection_options::topology::cluster)
        return scan_one(conn, pattern, o);
    const auto topology = detail::cluster_topology::shared(o);
    topology->refresh(deadline_of(o));
    std::set<std::string> keys;
    for (const auto& master : topology->masters()) {
        detail::connection node(topology->node_options(master));
        keys.merge(scan_one(node, pattern, o));
    }
    return keys;
}

std::set<std::string> scan_one(detail::connection& conn, const std::string& pattern,
                               const connection_options& o) {
    std::set<std::string> keys;
    std::string cursor = "0";
    do {
        const detail::reply r =
            conn.execute({"SCAN", cursor, "MATCH", pattern, "COUNT", scan_batch}, deadline_of(o));
        check(r, "SCAN");
        if (!r.is_array() || r.elements.size() != 2 || !r.elements[1].is_array())
            throw protocol_error("SCAN: unexpected reply from redis");
        cursor = r.elements[0].str;
        for (const auto& k : r.elements[1].elements)
            keys.insert(k.str);
    } while (cursor != "0");
    return keys;
}

/// The part of `key` between `prefix` and `suffix` (the caller guarantees both are there).
std::string_view middle(std::string_view key, std::size_t prefix, std::size_t suffix) {
    return key.substr(prefix, key.size() - prefix - suffix);
}

/// Adds the at-least-once lists of one request list: the processing lists of the servers
/// registered as its consumers, and its dead-letter list.
void count_delivery_lists(detail::connection& conn, queue_depth& depth, const connection_options& o) {
    using detail::reliable_delivery;
    const detail::reply dead = conn.execute({"LLEN", reliable_delivery::dead_key(depth.key)}, deadline_of(o));
    if (dead.is_integer())
        depth.dead_letters = dead.integer;
    const detail::reply consumers =
        conn.execute({"ZRANGE", reliable_delivery::consumers_key(depth.key), "0", "-1"}, deadline_of(o));
    if (!consumers.is_array())
        return; // not used, or not a sorted set: not ours
    for (const auto& id : consumers.elements) {
        const detail::reply held =
            conn.execute({"LLEN", reliable_delivery::processing_key(depth.key, id.str)}, deadline_of(o));
        if (held.is_integer())
            depth.in_processing += held.integer;
    }
}

} // namespace

std::string heartbeat_pattern(std::string_view queue, dialect d) {
    if (d == dialect::codility)
        return glob_escape(queue) + ":*:*:alive";
    return glob_escape(queue) + ":server:*:alive";
}

std::vector<queue_depth> queue_depths(std::string_view url, std::string_view queue, dialect d) {
    const auto o = options_of(url);
    detail::connection conn(o);
    std::vector<queue_depth> out;
    if (d != dialect::codility) {
        const detail::reply r = conn.execute({"LLEN", queue}, deadline_of(o));
        check(r, "LLEN");
        out.push_back({.key = std::string(queue), .length = r.integer});
    } else {
        const std::string suffix = ":calls";
        for (const auto& key : scan(conn, glob_escape(queue) + ":*" + suffix, o)) {
            // {prefix}:{function}:calls: any list under the prefix ending in :calls.
            const detail::reply r = conn.execute({"LLEN", key}, deadline_of(o));
            if (r.is_error())
                continue; // not a list (WRONGTYPE): not ours
            out.push_back({.key = key, .length = r.integer});
        }
    }
    for (auto& depth : out)
        count_delivery_lists(conn, depth, o);
    return out;
}

std::vector<live_server> live_servers(std::string_view url, std::string_view queue, dialect d) {
    const auto o = options_of(url);
    detail::connection conn(o);
    std::vector<live_server> out;
    const std::string_view alive = ":alive";
    for (const auto& key : scan(conn, heartbeat_pattern(queue, d), o)) {
        live_server s{.id = {}, .kind = {}, .key = key, .ttl = std::chrono::milliseconds(0)};
        if (d == dialect::codility) {
            // {prefix}:{kind}:{id}:alive; the id is the last component (ids have no ':').
            const std::string_view rest = middle(key, queue.size() + 1, alive.size());
            const auto colon = rest.rfind(':');
            if (colon == std::string_view::npos)
                continue;
            s.kind = std::string(rest.substr(0, colon));
            s.id = std::string(rest.substr(colon + 1));
        } else {
            const std::string_view server_part = ":server:";
            s.id = std::string(middle(key, queue.size() + server_part.size(), alive.size()));
        }
        const detail::reply ttl = conn.execute({"PTTL", key}, deadline_of(o));
        if (ttl.is_integer() && ttl.integer == -2)
            continue; // expired since the SCAN
        if (ttl.is_integer() && ttl.integer > 0)
            s.ttl = std::chrono::milliseconds(ttl.integer);
        out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const live_server& a, const live_server& b) {
        return a.id != b.id ? a.id < b.id : a.key < b.key;
    });
    return out;
}

void notify(std::string_view url, std::string_view queue, std::string_view method, nlohmann::json args,
            nlohmann::json kwargs, dialect d, std::chrono::milliseconds timeout) {
    if (queue.empty())
        throw usage_error("notify: the queue (or prefix) name must not be empty");
    if (method.empty())
        throw usage_error("notify: the method name must not be empty");
    if (args.is_null())
        args = nlohmann::json::array();
    if (kwargs.is_null())
        kwargs = nlohmann::json::object();
    if (!args.is_array())
        throw usage_error("notify: positional arguments must be a JSON array");
    if (!kwargs.is_object())
        throw usage_error("notify: keyword arguments must be a JSON object");

    const std::string name(queue);
    const client_options copts{.dialect = d};
    const auto codec = detail::make_client_codec(d, name, copts);
    detail::call_request req;
    req.method = std::string(method);
    req.args = std::move(args);
    req.kwargs = std::move(kwargs);
    // JSON-RPC: no id makes it a notification. Classic: no extension fields at all. Codility
    // names the result list after the id, so every call needs one.
    req.wants_reply = d != dialect::jsonrpc;
    if (d == dialect::codility)
        req.id = detail::random_uuid4();
    const std::string reply_key = name + ":rpc:notify:" + detail::random_token(notify_suffix_length);
    const detail::outgoing_request out = codec->encode(req, reply_key, encoding::json);

    auto o = options_of(url);
    o.connect_timeout = std::min(o.connect_timeout, timeout);
    const auto deadline = clock::now() + timeout;
    detail::connection conn(o);
    detail::command_buffer cmds;
    detail::append_request(cmds, out);
    const auto results = conn.pipeline(cmds, deadline);
    detail::check_request_results(results, out);
}

} // namespace redisrpc::admin
