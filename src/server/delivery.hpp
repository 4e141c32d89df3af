#pragma once
// At-least-once delivery (server_options::delivery = at_least_once), kept out of the serve loop:
//  - a request is moved atomically (BLMOVE/LMOVE) from its queue into this server's processing
//    list `<queue>:processing:<server-id>`, and removed from there (LREM) only after its reply
//    was pushed, in the same pipeline, after the reply transaction;
//  - a delivery counter per request (hash `<queue>:deliveries`, field = hash of the request
//    bytes) sends a request delivered more than max_deliveries times to `<queue>:dead`;
//  - every server taking work from a queue is registered in the sorted set `<queue>:consumers`
//    (score: its last heartbeat, Unix ms), refreshed with its heartbeat;
//  - a reaper returns the processing lists of registered servers whose heartbeat key expired to
//    the head of their queue; any live server may reap, one at a time per queue (SET NX lock).
// Every key written has a TTL or is consumed: processing lists drain on acknowledgement or
// reaping, counters are deleted on acknowledgement and expire, the dead-letter list expires.

#include "redis/command.hpp"
#include "redis/connection.hpp"
#include "redis/reply.hpp"

#include <redisrpc/options.hpp>

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace redisrpc::detail {

/// A request held in a processing list until acknowledged.
struct taken_request {
    std::string source;  ///< the queue it came from
    std::string payload; ///< its exact bytes (LREM matches them)
};

class reliable_delivery {
public:
    /// Maps (queue, server id) to that server's heartbeat key for the queue's endpoint.
    using heartbeat_lookup = std::function<std::string(const std::string& queue, std::string_view server_id)>;

    reliable_delivery(const server_options& options, std::string server_id, std::vector<std::string> queues,
                      heartbeat_lookup heartbeat_of);

    /// `<queue>:processing:<server-id>` etc., exposed for tests and docs.
    [[nodiscard]] std::string processing_key(const std::string& queue) const;
    /// The processing list of any server: `<queue>:processing:<server-id>`.
    [[nodiscard]] static std::string processing_key(const std::string& queue, std::string_view server_id) {
        return queue + ":processing:" + std::string(server_id);
    }
    [[nodiscard]] static std::string deliveries_key(const std::string& queue) {
        return queue + ":deliveries";
    }
    [[nodiscard]] static std::string dead_key(const std::string& queue) { return queue + ":dead"; }
    [[nodiscard]] static std::string consumers_key(const std::string& queue) { return queue + ":consumers"; }
    /// The counter field of a request: 16 hex digits of a 64-bit FNV-1a hash of its bytes.
    [[nodiscard]] static std::string delivery_field(std::string_view payload);

    /// Appends the registration refresh (ZADD to `<queue>:consumers`, EXPIRE) that travels with
    /// every heartbeat. Returns the commands added.
    std::size_t append_heartbeat(command_buffer& cmds) const;
    /// Removes this server from the registries (graceful stop, its lists being empty). Never throws.
    void deregister(connection& conn, clock::time_point deadline) noexcept;

    /// Registers this server, then puts back what this server id left in its processing lists
    /// (a restart with a fixed id).
    /// @throws error (connection_error, timeout_error) when Redis fails.
    void recover_own(connection& conn, clock::time_point deadline);

    /// Appends the commands that take at most one request, starting with queue `rotation`:
    /// LMOVE on every queue but one, then BLMOVE blocking up to `block` on the last. Returns
    /// how many commands were added.
    std::size_t append_pop(command_buffer& cmds, std::size_t rotation, std::chrono::milliseconds block);

    /// Reads the replies of append_pop()'s commands, takes up to batch-1 more requests from the
    /// queues that had one, counts the deliveries and moves over-delivered requests to the
    /// dead-letter list. Returns the requests to run.
    /// @throws error when Redis fails; protocol_error when it refuses the pop (e.g. no BLMOVE).
    std::vector<taken_request> collect(connection& conn, std::span<const reply> pop_results,
                                       clock::time_point deadline);

    /// Appends the acknowledgements (LREM from the processing list, HDEL of the counter) of
    /// requests whose replies precede them in the same pipeline. Returns the commands added.
    std::size_t append_acks(command_buffer& cmds, std::span<const taken_request> done) const;

    /// Returns the work of servers whose heartbeat expired to the queues. Never throws for a
    /// refused command (logged); @throws error when the connection fails.
    void reap(connection& conn, clock::time_point deadline);

private:
    std::size_t count_and_dead_letter(connection& conn, std::vector<taken_request>& taken,
                                      clock::time_point deadline);

    std::string server_id_;
    std::vector<std::string> queues_;
    heartbeat_lookup heartbeat_of_;
    std::size_t extra_per_pop_;
    std::uint32_t max_deliveries_;
    std::string ttl_text_;
    std::vector<std::string> last_pop_queues_;
    bool missing_heartbeat_logged_ = false;
};

} // namespace redisrpc::detail
