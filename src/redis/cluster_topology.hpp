#pragma once
// The slot map of one Redis Cluster, shared by every connection made from the same options
// (one CLUSTER SLOTS per refresh for the whole process, not one per connection). Thread-safe.

#include "redis/node_connection.hpp"

#include <redisrpc/options.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace redisrpc::detail {

class cluster_topology {
public:
    /// The topology of the cluster these options name, shared while someone holds it.
    static std::shared_ptr<cluster_topology> shared(const connection_options& options);

    explicit cluster_topology(connection_options options);

    /// "host:port" of the master serving `slot`; any known master while the slot is unassigned;
    /// empty before the first successful refresh().
    [[nodiscard]] std::string owner(std::uint16_t slot);
    /// Some master (for commands without keys).
    [[nodiscard]] std::string any_master();
    /// Every master of the last map.
    [[nodiscard]] std::vector<std::string> masters();
    /// True once a slot map has been loaded.
    [[nodiscard]] bool loaded();

    /// Loads the slot map from the first known node that answers. Skipped when the last load is
    /// younger than a few milliseconds, unless `force`.
    /// @throws connection_error naming every node tried when none answers.
    void refresh(clock::time_point deadline, bool force = false);
    /// Records a MOVED redirection at once (a full refresh follows separately).
    void moved(std::uint16_t slot, const std::string& address);

    /// Options for a connection to one node ("host:port").
    [[nodiscard]] connection_options node_options(const std::string& address) const;

private:
    connection_options base_;
    std::mutex mutex_;
    std::vector<std::string> slot_owner_; // 16384 entries once loaded
    std::vector<std::string> masters_;
    std::vector<std::string> known_; // seeds and every node seen, tried in turn on refresh
    clock::time_point last_refresh_{};
    std::size_t next_probe_ = 0;
};

/// "host:port" (IPv6 in brackets) of an address.
std::string format_address(const std::string& host, std::uint16_t port);

} // namespace redisrpc::detail
