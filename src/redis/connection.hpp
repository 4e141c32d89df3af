#pragma once
// One synchronous connection to Redis, used by one thread at a time: to one server, to the
// master a set of sentinels names (sentinel.hpp), or to a whole Redis Cluster whose commands are
// routed by key slot (cluster_router.hpp), as connection_options::mode says. Callers see the
// same pipeline interface in every mode. Every operation takes a deadline; a blocking pop's read deadline
// must exceed the pop's own timeout (callers add a margin). Any I/O failure or deadline expiry leaves the
// connection broken(): the caller drops it and opens a new one, since a reply may still be in flight.

#include "redis/command.hpp"
#include "redis/reply.hpp"

#include <redisrpc/options.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace redisrpc::detail {

using clock = std::chrono::steady_clock;

class connection {
public:
    /// Connects and performs the handshake (AUTH [user] password, SELECT db, CLIENT SETNAME).
    /// @throws connection_error naming the address (never the password), also when AUTH fails.
    explicit connection(const connection_options& options);
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Writes all commands of `commands` in one write and reads exactly one reply per command.
    /// Redis error replies are returned as replies of type error (not thrown).
    /// @throws connection_error on I/O failure, timeout_error (outcome unknown) on deadline.
    std::vector<reply> pipeline(const command_buffer& commands, clock::time_point deadline);

    /// One command, one reply; same error rules as pipeline().
    reply execute(std::initializer_list<std::string_view> argv, clock::time_point deadline);

    /// Lower-level halves of pipeline(), for callers that interleave writes and reads.
    void write(const command_buffer& commands, clock::time_point deadline);
    reply read(clock::time_point deadline);

    /// True after any failure: the stream position is unknown, the connection must be dropped.
    /// With Sentinel also after a reply saying the node stopped being the master (READONLY,
    /// UNBLOCKED, ...): the next connection asks the sentinels again.
    [[nodiscard]] bool broken() const noexcept;
    /// The CLIENT ID Redis gave this connection (0 if it was not asked for, or in Cluster mode).
    [[nodiscard]] long long client_id() const noexcept;
    [[nodiscard]] const std::string& address() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// `options` with connect and command timeouts cut to what is left until `deadline` (at least
/// 1 ms): a connection opened for one call must not outlive the call, since a paused Redis
/// accepts the TCP connection and then says nothing.
inline connection_options options_within(const connection_options& options, clock::time_point deadline) {
    const auto left = std::max(std::chrono::milliseconds(1),
                               std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()));
    connection_options bounded = options;
    bounded.connect_timeout = std::min(left, options.connect_timeout);
    bounded.command_timeout = std::min(left, options.command_timeout);
    return bounded;
}

} // namespace redisrpc::detail
