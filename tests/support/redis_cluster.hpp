#pragma once
// Real scale-out deployments for tests, on loopback ports: a Redis Cluster (masters + replicas,
// built with `redis-cli --cluster create`) and a Sentinel group (1 master, 1 replica,
// 3 sentinels). Both use short failure-detection times so failover tests stay short, and both
// are torn down (every process killed, every directory removed) on destruction.

#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace redisrpc::test {

/// How to build a redis_cluster.
struct redis_cluster_config {
    std::size_t masters = 3;
    std::size_t replicas_per_master = 1;
    int node_timeout_ms = 1000; ///< cluster-node-timeout: how fast a dead master is failed over
};

/// A Redis Cluster of private redis-server processes. The constructor returns once every node
/// reports cluster_state:ok and agrees on the slot map.
class redis_cluster {
public:
    using config = redis_cluster_config;
    /// @throws std::runtime_error with redis-cli's output if the cluster does not form.
    explicit redis_cluster(config cfg = {});
    redis_cluster(const redis_cluster&) = delete;
    redis_cluster& operator=(const redis_cluster&) = delete;

    /// `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...` naming every node.
    [[nodiscard]] std::string url() const;
    [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
    redis_server& node(std::size_t i) { return *nodes_.at(i); }
    /// The index of the node listening on `port`.
    [[nodiscard]] std::optional<std::size_t> index_of_port(std::uint16_t port) const;

    /// Indexes of the running nodes whose ROLE is master.
    std::vector<std::size_t> masters();
    /// The running master that serves `slot`, as the cluster says.
    std::size_t master_of_slot(std::uint16_t slot);
    /// A running replica of master `i`.
    std::optional<std::size_t> replica_of(std::size_t master);
    /// The node id (CLUSTER MYID) of node `i`.
    std::string node_id(std::size_t i);

    /// CLUSTER FAILOVER on a replica of `master`; returns the new master once every running node
    /// agrees. @throws std::runtime_error if that does not happen within `limit`.
    std::size_t manual_failover(std::size_t master,
                                std::chrono::milliseconds limit = std::chrono::seconds(15));
    /// True when every running node says cluster_state:ok and every slot has a running master.
    bool healthy();
    /// Waits for healthy(). @throws std::runtime_error after `limit`.
    void wait_healthy(std::chrono::milliseconds limit = std::chrono::seconds(20));

private:
    config config_;
    std::vector<std::unique_ptr<redis_server>> nodes_;
};

/// One master, one replica and three sentinels (quorum 2) monitoring it as `mymaster`.
class redis_sentinel_group {
public:
    /// `down_after_ms`: sentinel down-after-milliseconds (how fast a dead master is noticed).
    explicit redis_sentinel_group(int down_after_ms = 1000);
    ~redis_sentinel_group();
    redis_sentinel_group(const redis_sentinel_group&) = delete;
    redis_sentinel_group& operator=(const redis_sentinel_group&) = delete;

    /// `redis+sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/mymaster`.
    [[nodiscard]] std::string url() const;
    [[nodiscard]] static std::string master_name() { return "mymaster"; }
    /// The two data nodes (0 started as master, 1 as its replica).
    redis_server& data_node(std::size_t i) { return *data_.at(i); }
    /// Port of the master every sentinel names, if they all name the same one.
    std::optional<std::uint16_t> agreed_master_port();
    /// SENTINEL FAILOVER; returns the new master's port once every sentinel names it and it
    /// says ROLE master. @throws std::runtime_error after `limit`.
    std::uint16_t failover(std::chrono::milliseconds limit = std::chrono::seconds(20));
    /// Waits until every sentinel names a master other than `old_port` and that node is master.
    std::uint16_t wait_new_master(std::uint16_t old_port, std::chrono::milliseconds limit);

private:
    struct sentinel {
        std::uint16_t port = 0;
        std::unique_ptr<child_process> process;
    };
    temp_dir dir_;
    std::vector<std::unique_ptr<redis_server>> data_;
    std::vector<sentinel> sentinels_;
};

} // namespace redisrpc::test
