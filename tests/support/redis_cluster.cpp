// Redis Cluster and Sentinel fixtures (see redis_cluster.hpp).

#include "support/redis_cluster.hpp"

#include "redis/connection.hpp"
#include "support/helpers.hpp"

#include <redisrpc/error.hpp>

#include <signal.h>

#include <fstream>
#include <set>
#include <stdexcept>

namespace redisrpc::test {

namespace {

using namespace std::chrono_literals;

// One command on a fresh connection with short deadlines; an error reply is returned, a node
// that does not answer throws redisrpc::error.
detail::reply ask(std::uint16_t port, std::initializer_list<std::string_view> argv) {
    connection_options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.connect_timeout = 500ms;
    o.command_timeout = 2s;
    detail::connection conn(o);
    return conn.execute(argv, detail::clock::now() + 2s);
}

std::string role_of(std::uint16_t port) {
    try {
        const auto r = ask(port, {"ROLE"});
        return r.is_array() && !r.elements.empty() ? r.elements[0].str : std::string();
    } catch (const error&) {
        return {};
    }
}

bool running(redis_server& s) {
    return s.pid() > 0 && ::kill(s.pid(), 0) == 0 && !role_of(s.port()).empty();
}

std::string redis_cli_binary() {
    const char* env = std::getenv("REDISRPC_REDIS_CLI");
    return env != nullptr && *env != '\0' ? env : "redis-cli";
}

} // namespace

// ---- cluster -------------------------------------------------------------------------------

redis_cluster::redis_cluster(config cfg) : config_(cfg) {
    const std::size_t total = cfg.masters * (1 + cfg.replicas_per_master);
    for (std::size_t i = 0; i < total; ++i) {
        redis_server::config c;
        c.unix_socket = false;
        // The bus port is explicit: the default (port + 10000) may be taken or above 65535.
        c.extra_args = {"--cluster-enabled", "yes", "--cluster-port", std::to_string(pick_free_port()),
                        "--cluster-node-timeout", std::to_string(cfg.node_timeout_ms),
                        // A dead master's slots stop, the others keep serving meanwhile.
                        "--cluster-require-full-coverage", "no",
                        // Any replica may take over, however long it was disconnected.
                        "--cluster-replica-validity-factor", "0"};
        nodes_.push_back(std::make_unique<redis_server>(c));
    }
    std::vector<std::string> argv{redis_cli_binary(), "--cluster", "create"};
    for (const auto& n : nodes_)
        argv.push_back("127.0.0.1:" + std::to_string(n->port()));
    argv.insert(argv.end(), {"--cluster-replicas", std::to_string(cfg.replicas_per_master), "--cluster-yes"});
    child_process cli(argv);
    const auto code = cli.wait_for(60s);
    if (!code || *code != 0)
        throw std::runtime_error("redis-cli --cluster create failed:\n" + cli.output());
    wait_healthy();
}

std::string redis_cluster::url() const {
    std::string out = "redis+cluster://";
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        out += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(nodes_[i]->port());
    return out;
}

std::optional<std::size_t> redis_cluster::index_of_port(std::uint16_t port) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i]->port() == port)
            return i;
    return std::nullopt;
}

std::vector<std::size_t> redis_cluster::masters() {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (role_of(nodes_[i]->port()) == "master")
            out.push_back(i);
    return out;
}

std::size_t redis_cluster::master_of_slot(std::uint16_t slot) {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!running(*nodes_[i]))
            continue;
        const auto r = ask(nodes_[i]->port(), {"CLUSTER", "SLOTS"});
        for (const auto& range : r.elements) {
            if (range.elements.size() < 3 || range.elements[0].integer > slot ||
                range.elements[1].integer < slot)
                continue;
            const auto port = static_cast<std::uint16_t>(range.elements[2].elements.at(1).integer);
            if (auto index = index_of_port(port))
                return *index;
        }
    }
    throw std::runtime_error("no node serves slot " + std::to_string(slot));
}

std::optional<std::size_t> redis_cluster::replica_of(std::size_t master) {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (i == master)
            continue;
        try {
            const auto r = ask(nodes_[i]->port(), {"ROLE"});
            if (r.elements.size() >= 3 && r.elements[0].str == "slave" &&
                r.elements[2].integer == nodes_[master]->port())
                return i;
        } catch (const error&) {
        }
    }
    return std::nullopt;
}

std::string redis_cluster::node_id(std::size_t i) {
    return ask(nodes_.at(i)->port(), {"CLUSTER", "MYID"}).str;
}

bool redis_cluster::healthy() {
    std::vector<std::size_t> live;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (running(*nodes_[i]))
            live.push_back(i);
    try {
        std::set<std::uint16_t> live_ports;
        for (const auto i : live)
            live_ports.insert(nodes_[i]->port());
        for (const auto i : live) {
            const auto info = ask(nodes_[i]->port(), {"CLUSTER", "INFO"});
            if (info.str.find("cluster_state:ok") == std::string::npos)
                return false;
            // Every slot served by a running node that says it is a master.
            const auto slots = ask(nodes_[i]->port(), {"CLUSTER", "SLOTS"});
            std::int64_t covered = 0;
            for (const auto& range : slots.elements) {
                const auto port = static_cast<std::uint16_t>(range.elements.at(2).elements.at(1).integer);
                if (!live_ports.count(port) || role_of(port) != "master")
                    return false;
                covered += range.elements[1].integer - range.elements[0].integer + 1;
            }
            if (covered != 16384)
                return false;
        }
    } catch (const std::exception&) {
        return false;
    }
    return true;
}

void redis_cluster::wait_healthy(std::chrono::milliseconds limit) {
    if (!wait_until([this] { return healthy(); }, limit))
        throw std::runtime_error("the redis cluster did not become healthy in time");
}

std::size_t redis_cluster::manual_failover(std::size_t master, std::chrono::milliseconds limit) {
    const auto replica = replica_of(master);
    if (!replica)
        throw std::runtime_error("master has no replica");
    const auto r = ask(nodes_[*replica]->port(), {"CLUSTER", "FAILOVER"});
    if (r.is_error())
        throw std::runtime_error("CLUSTER FAILOVER: " + r.str);
    const bool done =
        wait_until([&] { return role_of(nodes_[*replica]->port()) == "master" && healthy(); }, limit);
    if (!done)
        throw std::runtime_error("manual failover did not complete in time");
    return *replica;
}

// ---- sentinel ------------------------------------------------------------------------------

redis_sentinel_group::redis_sentinel_group(int down_after_ms) : dir_("redisrpc-sentinel-") {
    redis_server::config master_cfg;
    master_cfg.unix_socket = false;
    data_.push_back(std::make_unique<redis_server>(master_cfg));
    const auto master_port = data_[0]->port();
    redis_server::config replica_cfg = master_cfg;
    replica_cfg.extra_args = {"--replicaof", "127.0.0.1", std::to_string(master_port)};
    data_.push_back(std::make_unique<redis_server>(replica_cfg));
    if (!wait_until(
            [&] {
                try {
                    return ask(data_[1]->port(), {"INFO", "replication"}).str.find("master_link_status:up") !=
                           std::string::npos;
                } catch (const error&) {
                    return false;
                }
            },
            20s))
        throw std::runtime_error("the replica did not sync with the master");

    for (int i = 0; i < 3; ++i) {
        sentinel s;
        s.port = pick_free_port();
        const auto conf = dir_.path() / ("sentinel-" + std::to_string(i) + ".conf");
        std::ofstream out(conf);
        out << "port " << s.port << "\nbind 127.0.0.1\ndaemonize no\nloglevel warning\n"
            << "dir " << dir_.path().string() << "\n"
            << "sentinel monitor mymaster 127.0.0.1 " << master_port << " 2\n"
            << "sentinel down-after-milliseconds mymaster " << down_after_ms << "\n"
            << "sentinel failover-timeout mymaster 10000\n"
            << "sentinel parallel-syncs mymaster 1\n";
        out.close();
        const char* env = std::getenv("REDISRPC_REDIS_SERVER");
        s.process = std::make_unique<child_process>(
            std::vector<std::string>{env && *env ? env : "redis-server", conf.string(), "--sentinel"});
        sentinels_.push_back(std::move(s));
    }
    // Ready when every sentinel knows the master, its replica and both other sentinels.
    const bool ready = wait_until(
        [&] {
            for (const auto& s : sentinels_) {
                try {
                    const auto r = ask(s.port, {"SENTINEL", "MASTER", "mymaster"});
                    if (!r.is_array())
                        return false;
                    std::string replicas, others;
                    for (std::size_t k = 0; k + 1 < r.elements.size(); k += 2) {
                        if (r.elements[k].str == "num-slaves")
                            replicas = r.elements[k + 1].str;
                        if (r.elements[k].str == "num-other-sentinels")
                            others = r.elements[k + 1].str;
                    }
                    if (replicas != "1" || others != "2")
                        return false;
                } catch (const error&) {
                    return false;
                }
            }
            return true;
        },
        30s);
    if (!ready) {
        std::string log;
        for (const auto& s : sentinels_)
            log += s.process->output();
        throw std::runtime_error("the sentinels did not agree in time:\n" + log);
    }
}

redis_sentinel_group::~redis_sentinel_group() {
    for (auto& s : sentinels_) {
        s.process->signal(SIGKILL);
        s.process->wait_for(5s);
    }
}

std::string redis_sentinel_group::url() const {
    std::string out = "redis+sentinel://";
    for (std::size_t i = 0; i < sentinels_.size(); ++i)
        out += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(sentinels_[i].port);
    return out + "/mymaster";
}

std::optional<std::uint16_t> redis_sentinel_group::agreed_master_port() {
    std::optional<std::uint16_t> agreed;
    for (const auto& s : sentinels_) {
        try {
            const auto r = ask(s.port, {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"});
            if (!r.is_array() || r.elements.size() != 2)
                return std::nullopt;
            const auto port = static_cast<std::uint16_t>(std::stoi(r.elements[1].str));
            if (agreed && *agreed != port)
                return std::nullopt;
            agreed = port;
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }
    return agreed;
}

std::uint16_t redis_sentinel_group::wait_new_master(std::uint16_t old_port, std::chrono::milliseconds limit) {
    std::uint16_t found = 0;
    const bool done = wait_until(
        [&] {
            const auto port = agreed_master_port();
            if (!port || *port == old_port || role_of(*port) != "master")
                return false;
            found = *port;
            return true;
        },
        limit);
    if (!done)
        throw std::runtime_error("the sentinels did not agree on a new master in time");
    return found;
}

std::uint16_t redis_sentinel_group::failover(std::chrono::milliseconds limit) {
    const auto old_port = agreed_master_port();
    if (!old_port)
        throw std::runtime_error("the sentinels do not agree on the master");
    const auto r = ask(sentinels_.front().port, {"SENTINEL", "FAILOVER", "mymaster"});
    if (r.is_error())
        throw std::runtime_error("SENTINEL FAILOVER: " + r.str);
    return wait_new_master(*old_port, limit);
}

} // namespace redisrpc::test
