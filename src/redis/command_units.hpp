#pragma once
// Splits an encoded pipeline (command_buffer bytes) back into routable units for Cluster mode:
// a unit is one command, or a whole MULTI ... EXEC block, and is routed by the slot of its first
// key. The bytes were produced by command_buffer, so the parser only needs RESP arrays of bulk
// strings; anything else is reported as a logic error.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redisrpc::detail {

using argv_view = std::vector<std::string_view>;

struct command_unit {
    std::size_t begin = 0; // byte range in the pipeline
    std::size_t end = 0;
    std::size_t commands = 0;          // replies this unit produces
    std::optional<std::uint16_t> slot; // empty: no key (PING, CLIENT, SCAN, ...)
    bool blocking = false;             // holds BLPOP/BRPOP/BLMPOP, whose timeout may be shortened
};

/// Parses `count` commands from `resp`. @throws std::logic_error on bytes command_buffer cannot make.
std::vector<argv_view> parse_commands(std::string_view resp, std::size_t count);

/// The units of a pipeline of `count` commands.
std::vector<command_unit> split_units(std::string_view resp, std::size_t count);

/// The first key of a command, if it has one.
std::optional<std::string_view> first_key(const argv_view& argv);

/// Re-encodes a unit with every blocking timeout shortened by `elapsed_seconds` (to at least
/// 1 ms), for a blocking pop re-sent after part of its time was spent being redirected.
std::string with_block_timeout(std::string_view unit_bytes, std::size_t commands, double elapsed_seconds);

} // namespace redisrpc::detail
