#pragma once
// One synchronous connection to one Redis node, used by one thread at a time. The public face
// of connections is `connection` (connection.hpp), which adds Sentinel discovery and Cluster
// routing on top of these.
// Every operation takes a deadline; a blocking pop's read deadline must exceed the pop's own
// timeout (callers add a margin). Any I/O failure or deadline expiry leaves the connection
// broken(): the caller drops it and opens a new one, since a reply may still be in flight.

#include "redis/command.hpp"
#include "redis/reply.hpp"

#include <redisrpc/options.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace redisrpc::detail {

using clock = std::chrono::steady_clock;

class node_connection {
public:
    /// Connects and performs the handshake (AUTH [user] password, SELECT db, CLIENT SETNAME).
    /// @throws connection_error naming the address (never the password), also when AUTH fails.
    explicit node_connection(const connection_options& options);
    ~node_connection();
    node_connection(const node_connection&) = delete;
    node_connection& operator=(const node_connection&) = delete;

    /// Writes all commands of `commands` in one write and reads exactly one reply per command.
    /// Redis error replies are returned as replies of type error (not thrown).
    /// @throws connection_error on I/O failure, timeout_error (outcome unknown) on deadline.
    std::vector<reply> pipeline(const command_buffer& commands, clock::time_point deadline);

    /// One command, one reply; same error rules as pipeline().
    reply execute(std::initializer_list<std::string_view> argv, clock::time_point deadline);

    /// Lower-level halves of pipeline(), for callers that interleave writes and reads.
    void write(const command_buffer& commands, clock::time_point deadline);
    /// Writes already RESP-encoded commands (a slice of a command_buffer's bytes).
    void write_raw(std::string_view encoded, clock::time_point deadline);
    reply read(clock::time_point deadline);

    /// True after any failure: the stream position is unknown, the connection must be dropped.
    [[nodiscard]] bool broken() const noexcept;
    /// The CLIENT ID Redis gave this connection (0 if it was not asked for).
    [[nodiscard]] long long client_id() const noexcept;
    [[nodiscard]] const std::string& address() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace redisrpc::detail
