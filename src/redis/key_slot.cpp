// Hash slots as Redis Cluster computes them (CRC16/XMODEM of the key or its hash tag, mod 16384),
// and the sub-queue names of sharded services.

#include <redisrpc/cluster.hpp>
#include <redisrpc/error.hpp>

#include <algorithm>
#include <array>

namespace redisrpc {

namespace {

constexpr std::size_t slot_count = 16384;

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as in the Redis Cluster spec.
constexpr std::array<std::uint16_t, 256> make_crc_table() {
    std::array<std::uint16_t, 256> table{};
    for (unsigned i = 0; i < 256; ++i) {
        auto crc = static_cast<std::uint16_t>(i << 8);
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x8000U) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021U)
                                       : static_cast<std::uint16_t>(crc << 1);
        }
        table[i] = crc;
    }
    return table;
}

constexpr auto crc_table = make_crc_table();

std::uint16_t crc16(std::string_view data) noexcept {
    std::uint16_t crc = 0;
    for (const char c : data) {
        const auto index = static_cast<std::uint8_t>((crc >> 8) ^ static_cast<std::uint8_t>(c));
        crc = static_cast<std::uint16_t>((crc << 8) ^ crc_table[index]);
    }
    return crc;
}

} // namespace

std::uint16_t key_slot(std::string_view key) noexcept {
    const std::size_t open = key.find('{');
    if (open != std::string_view::npos) {
        const std::size_t close = key.find('}', open + 1);
        if (close != std::string_view::npos && close > open + 1) {
            key = key.substr(open + 1, close - open - 1);
        }
    }
    return static_cast<std::uint16_t>(crc16(key) % slot_count);
}

std::vector<std::string> shard_queues(std::string_view service, std::size_t shards) {
    if (service.empty())
        throw usage_error("shard_queues: the service name must not be empty");
    if (shards == 0 || shards > slot_count)
        throw usage_error("shard_queues: shards must be between 1 and 16384");
    std::vector<std::string> out;
    if (shards == 1) {
        out.emplace_back(service);
        return out;
    }
    out.reserve(shards);
    for (std::size_t i = 0; i < shards; ++i) {
        // The middle half of the i-th part: whatever rounding a tool used to split the slots
        // evenly, this stays on the i-th master.
        const std::size_t part_first = i * slot_count / shards;
        const std::size_t part_end = (i + 1) * slot_count / shards;
        const std::size_t quarter = (part_end - part_first) / 4;
        const std::size_t first = part_first + quarter;
        const std::size_t end = std::max(first + 1, part_end - quarter);
        // CRC16 spreads consecutive suffixes evenly, so a match comes after ~shards tries; the
        // bound only guards against an impossible loop.
        for (std::size_t n = 0; n < 64 * slot_count; ++n) {
            std::string name =
                "{" + std::string(service) + ":" + std::to_string(i) + ":" + std::to_string(n) + "}";
            const std::size_t slot = key_slot(name);
            if (slot >= first && slot < end) {
                out.push_back(std::move(name));
                break;
            }
        }
        if (out.size() != i + 1)
            throw usage_error("shard_queues: no name found for shard " + std::to_string(i));
    }
    return out;
}

} // namespace redisrpc
