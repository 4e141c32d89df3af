#pragma once
// Redis Cluster behind the connection interface: a pipeline is split into units (one command,
// or one MULTI ... EXEC block), each sent to the master owning its slot, and the replies are
// handed back in the pipeline's order. Redirections are followed as the cluster specification
// describes: MOVED updates the slot map and re-sends, ASK re-sends once behind ASKING,
// TRYAGAIN / CLUSTERDOWN / UNBLOCKED wait a little and re-send, all within the caller's
// deadline. Only replies that prove the command did not run are re-sent; an I/O failure breaks
// the router like any connection, and the caller opens a new one.

#include "redis/cluster_topology.hpp"
#include "redis/command_units.hpp"
#include "redis/node_connection.hpp"

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace redisrpc::detail {

class cluster_router {
public:
    /// Loads (or reuses) the slot map. @throws connection_error when no node answers.
    explicit cluster_router(const connection_options& options);

    void write(const command_buffer& commands, clock::time_point deadline);
    reply read(clock::time_point deadline);
    [[nodiscard]] bool broken() const noexcept { return broken_; }

private:
    struct unit_state {
        command_unit unit;
        std::string node; // where it was last sent
        bool asking = false;
        bool received = false;
        int attempts = 0;
        std::vector<reply> replies;
    };
    struct node_link {
        std::unique_ptr<node_connection> conn;
        std::deque<std::size_t> outstanding; // units sent to this node, in order
    };

    std::string route(const unit_state& u, const std::string& fallback);
    node_link& link(const std::string& address, clock::time_point deadline);
    void connect_all(const std::vector<std::string>& addresses, clock::time_point deadline);
    void send(std::size_t index, const std::string& address, bool asking, std::string_view bytes,
              clock::time_point deadline);
    void receive(std::size_t index, clock::time_point deadline);
    void resolve(std::size_t index, clock::time_point deadline);

    connection_options options_;
    std::shared_ptr<cluster_topology> topology_;
    std::map<std::string, node_link> nodes_;
    std::string source_;
    std::vector<unit_state> units_;
    std::size_t next_unit_ = 0;
    std::deque<reply> ready_;
    clock::time_point written_at_{};
    bool broken_ = false;
};

} // namespace redisrpc::detail
