#include "redis/pop_lanes.hpp"

#include <redisrpc/cluster.hpp>

#include <map>

namespace redisrpc::detail {

std::vector<std::vector<std::string>> pop_lanes(const connection_options& options,
                                                const std::vector<std::string>& keys) {
    if (options.mode != connection_options::topology::cluster || keys.size() < 2)
        return {keys};
    std::vector<std::vector<std::string>> lanes;
    std::map<std::uint16_t, std::size_t> lane_of_slot;
    for (const auto& key : keys) {
        const auto [it, added] = lane_of_slot.try_emplace(key_slot(key), lanes.size());
        if (added)
            lanes.emplace_back();
        lanes[it->second].push_back(key);
    }
    return lanes;
}

} // namespace redisrpc::detail
