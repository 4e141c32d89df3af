#pragma once
/// @file
/// Redis Cluster helpers: key slots and the sub-queues of a sharded service (docs/cluster.md).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace redisrpc {

/// The Redis Cluster hash slot (0..16383) of `key`: CRC16 of the key, or of its hash tag (the
/// text between the first `{` and the next `}`, when not empty), modulo 16384.
[[nodiscard]] std::uint16_t key_slot(std::string_view key) noexcept;

/// The sub-queues of a service spread over `shards` hash slots: `shards == 1` gives `{service}`
/// unchanged; otherwise `{service:i:n}` for i = 0..shards-1, where `n` is the smallest number
/// that puts the slot of sub-queue i into the middle half of the i-th of `shards` equal parts of
/// the slot space.
/// With the even slot split of `redis-cli --cluster create`, `shards` = number of masters puts
/// one sub-queue on every master. Clients and servers compute the same names.
/// @throws usage_error for an empty service or shards == 0 or shards > 16384.
[[nodiscard]] std::vector<std::string> shard_queues(std::string_view service, std::size_t shards);

} // namespace redisrpc
