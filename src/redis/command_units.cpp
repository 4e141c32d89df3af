#include "redis/command_units.hpp"

#include "redis/command.hpp"

#include <redisrpc/cluster.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace redisrpc::detail {

namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'a' && x <= 'z' ? x - 32 : x) == (y >= 'a' && y <= 'z' ? y - 32 : y);
           });
}

// Commands without keys: sent to any node (the node of the pipeline's keyed units if any).
constexpr std::array<std::string_view, 24> keyless = {
    "PING",     "ECHO",     "INFO",      "CLIENT", "CLUSTER", "SCAN",    "KEYS",  "DBSIZE",
    "FLUSHALL", "FLUSHDB",  "TIME",      "ROLE",   "CONFIG",  "COMMAND", "HELLO", "AUTH",
    "SELECT",   "READONLY", "READWRITE", "ASKING", "WAIT",    "SCRIPT",  "ACL",   "PUBLISH"};

std::size_t parse_number(std::string_view resp, std::size_t& pos, char marker) {
    if (pos >= resp.size() || resp[pos] != marker)
        throw std::logic_error("command_units: unexpected RESP");
    const std::size_t eol = resp.find("\r\n", pos);
    if (eol == std::string_view::npos)
        throw std::logic_error("command_units: truncated RESP");
    std::size_t value = 0;
    const auto [ptr, ec] = std::from_chars(resp.data() + pos + 1, resp.data() + eol, value);
    if (ec != std::errc{} || ptr != resp.data() + eol)
        throw std::logic_error("command_units: bad RESP length");
    pos = eol + 2;
    return value;
}

argv_view parse_one(std::string_view resp, std::size_t& pos) {
    const std::size_t args = parse_number(resp, pos, '*');
    argv_view argv;
    argv.reserve(args);
    for (std::size_t i = 0; i < args; ++i) {
        const std::size_t len = parse_number(resp, pos, '$');
        if (pos + len + 2 > resp.size())
            throw std::logic_error("command_units: truncated RESP");
        argv.push_back(resp.substr(pos, len));
        pos += len + 2;
    }
    return argv;
}

bool is_blocking(const argv_view& argv) {
    return !argv.empty() &&
           (iequals(argv[0], "BLPOP") || iequals(argv[0], "BRPOP") || iequals(argv[0], "BLMPOP"));
}

} // namespace

std::vector<argv_view> parse_commands(std::string_view resp, std::size_t count) {
    std::vector<argv_view> out;
    out.reserve(count);
    std::size_t pos = 0;
    for (std::size_t i = 0; i < count; ++i)
        out.push_back(parse_one(resp, pos));
    return out;
}

std::optional<std::string_view> first_key(const argv_view& argv) {
    if (argv.size() < 2)
        return std::nullopt;
    const std::string_view name = argv[0];
    for (const auto k : keyless)
        if (iequals(name, k))
            return std::nullopt;
    if (iequals(name, "BLMPOP"))
        return argv.size() > 3 ? std::optional(argv[3]) : std::nullopt;
    if (iequals(name, "LMPOP"))
        return argv.size() > 2 ? std::optional(argv[2]) : std::nullopt;
    return argv[1];
}

std::vector<command_unit> split_units(std::string_view resp, std::size_t count) {
    std::vector<command_unit> units;
    std::size_t pos = 0;
    bool in_multi = false;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t start = pos;
        const argv_view argv = parse_one(resp, pos);
        const bool multi = !argv.empty() && iequals(argv[0], "MULTI");
        if (!in_multi) {
            units.push_back({start, start, 0, std::nullopt, false});
            in_multi = multi;
        } else if (!argv.empty() && (iequals(argv[0], "EXEC") || iequals(argv[0], "DISCARD"))) {
            in_multi = false;
        }
        command_unit& unit = units.back();
        unit.end = pos;
        ++unit.commands;
        unit.blocking = unit.blocking || is_blocking(argv);
        if (!unit.slot) {
            if (const auto key = first_key(argv))
                unit.slot = key_slot(*key);
        }
    }
    return units;
}

std::string with_block_timeout(std::string_view unit_bytes, std::size_t commands, double elapsed_seconds) {
    char text[32];
    command_buffer out;
    for (auto argv : parse_commands(unit_bytes, commands)) {
        if (is_blocking(argv) && argv.size() > 2) {
            std::string_view& timeout = iequals(argv[0], "BLMPOP") ? argv[1] : argv.back();
            double old = 0;
            const auto [ptr, ec] = std::from_chars(timeout.data(), timeout.data() + timeout.size(), old);
            // 0 blocks forever and stays so; unreadable timeouts are left to Redis to refuse.
            if (ec == std::errc{} && ptr == timeout.data() + timeout.size() && old > 0) {
                std::snprintf(text, sizeof text, "%.3f", std::max(0.001, old - elapsed_seconds));
                timeout = text;
            }
        }
        out.add(std::span<const std::string_view>(argv));
    }
    return out.bytes();
}

} // namespace redisrpc::detail
