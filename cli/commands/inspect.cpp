// redisrpc servers <queue> and redisrpc stats <queue>: what is running and what is waiting.

#include "args.hpp"
#include "common.hpp"

#include <redisrpc/admin.hpp>
#include <redisrpc/client.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

namespace redisrpc::cli {

namespace {

constexpr const char* servers_help =
    R"(Servers announce themselves with heartbeat keys, refreshed every 2 s and expiring
after 4 s:
  codility          <prefix>:<server_kind>:<server_id>:alive
  classic, jsonrpc  <queue>:server:<server_id>:alive
Servers that write no heartbeat (such as the original Python/Ruby/PHP ones) are not listed.
Output: one server id per line (with kind and time left), or a JSON array with --json.)";

constexpr const char* stats_help = R"(Shows the requests waiting on the request list(s) (for codility: every
<prefix>:<function>:calls list), the requests held by at-least-once servers (their processing
lists) and dead-lettered after too many deliveries (<list>:dead), the live servers (see
'servers --help') and the counters a
server returns from its 'rpc.stats' method; "not available" when no server answers it within
--timeout or the server does not provide it.)";

nlohmann::ordered_json to_json(const admin::live_server& s) {
    return {{"id", s.id}, {"kind", s.kind}, {"key", s.key}, {"ttl_ms", s.ttl.count()}};
}

std::string seconds_text(std::chrono::milliseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

struct queue_settings {
    std::string queue;
};

int run_servers(const queue_settings& s, const global_options& global) {
    const auto servers = admin::live_servers(global.url, s.queue, global.wire);
    if (global.json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& srv : servers)
            out.push_back(to_json(srv));
        std::cout << to_text(out) << std::endl;
        return exit_ok;
    }
    for (const auto& srv : servers) {
        std::cout << srv.id;
        if (!srv.kind.empty())
            std::cout << "  kind=" << srv.kind;
        std::cout << "  ttl=" << seconds_text(srv.ttl) << '\n';
    }
    std::cout << std::flush;
    if (servers.empty())
        std::cerr << "no live servers (no key matches " << admin::heartbeat_pattern(s.queue, global.wire)
                  << ")" << std::endl;
    return exit_ok;
}

int run_stats(const queue_settings& s, const global_options& global) {
    const auto depths = admin::queue_depths(global.url, s.queue, global.wire);
    const auto servers = admin::live_servers(global.url, s.queue, global.wire);

    nlohmann::json stats; // null: not available
    std::string why_not;
    try {
        client c{global.url, s.queue, make_client_options(global)};
        stats = c.call_json("rpc.stats");
    } catch (const remote_error& e) {
        why_not = e.code() == error_code::method_not_found ? "the server has no rpc.stats method" : e.what();
    } catch (const timeout_error&) {
        why_not = "no server answered within " + format_duration(global.timeout);
    }

    if (global.json) {
        nlohmann::ordered_json queues = nlohmann::ordered_json::array();
        for (const auto& d : depths)
            queues.push_back({{"key", d.key},
                              {"length", d.length},
                              {"in_processing", d.in_processing},
                              {"dead_letters", d.dead_letters}});
        nlohmann::ordered_json live = nlohmann::ordered_json::array();
        for (const auto& srv : servers)
            live.push_back(to_json(srv));
        nlohmann::ordered_json out = {{"ok", true},
                                      {"queues", queues},
                                      {"servers", live},
                                      {"stats", nlohmann::ordered_json::parse(to_text(stats))}};
        if (stats.is_null())
            out["stats_unavailable"] = why_not;
        std::cout << to_text(out) << std::endl;
        return exit_ok;
    }
    std::int64_t pending = 0, in_processing = 0, dead = 0;
    for (const auto& d : depths) {
        pending += d.length;
        in_processing += d.in_processing;
        dead += d.dead_letters;
    }
    std::cout << "pending requests  " << pending << '\n';
    std::cout << "in processing     " << in_processing << "  (at-least-once servers, not yet answered)\n";
    std::cout << "dead letters      " << dead << '\n';
    if (global.wire == dialect::codility)
        for (const auto& d : depths)
            std::cout << "  " << d.key << "  " << d.length << '\n';
    std::cout << "live servers      " << servers.size();
    for (std::size_t i = 0; i < servers.size(); ++i)
        std::cout << (i == 0 ? "  (" : ", ") << servers[i].id;
    std::cout << (servers.empty() ? "" : ")") << '\n';
    if (stats.is_null()) {
        std::cout << "rpc.stats         not available (" << why_not << ")\n";
    } else if (stats.is_object()) {
        std::cout << "rpc.stats\n";
        for (const auto& [k, v] : stats.items()) {
            if (!v.is_object() || v.empty()) {
                std::cout << "  " << k << "  " << to_text(v) << '\n';
                continue;
            }
            std::cout << "  " << k << '\n'; // e.g. per-method counters: one line each
            for (const auto& [k2, v2] : v.items())
                std::cout << "    " << k2 << "  " << to_text(v2) << '\n';
        }
    } else {
        std::cout << "rpc.stats         " << to_text(stats) << '\n';
    }
    std::cout << std::flush;
    return exit_ok;
}

} // namespace

void register_servers(CLI::App& app, const global_options& global, command_runner& selected) {
    auto s = std::make_shared<queue_settings>();
    CLI::App* sub =
        app.add_subcommand("servers", "list the live servers of a queue (from their heartbeat keys)");
    sub->footer(servers_help);
    add_queue_argument(*sub, s->queue);
    sub->callback([s, &global, &selected] { selected = [s, &global] { return run_servers(*s, global); }; });
}

void register_stats(CLI::App& app, const global_options& global, command_runner& selected) {
    auto s = std::make_shared<queue_settings>();
    CLI::App* sub =
        app.add_subcommand("stats", "pending requests, live servers and server counters (rpc.stats)");
    sub->footer(stats_help);
    add_queue_argument(*sub, s->queue);
    sub->callback([s, &global, &selected] { selected = [s, &global] { return run_stats(*s, global); }; });
}

} // namespace redisrpc::cli
