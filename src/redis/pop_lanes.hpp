#pragma once
// How a server splits its request queues into blocking pops. One BLMPOP may name several keys
// only if they share a hash slot in Redis Cluster, so there every slot is a lane of its own;
// elsewhere all keys go into one pop.

#include <redisrpc/options.hpp>

#include <string>
#include <vector>

namespace redisrpc::detail {

/// The keys grouped into lanes, in first-seen order; one lane unless `options` name a cluster.
std::vector<std::vector<std::string>> pop_lanes(const connection_options& options,
                                                const std::vector<std::string>& keys);

} // namespace redisrpc::detail
