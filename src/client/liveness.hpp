#pragma once
// client_options::fail_fast_without_server: before a call is sent, make sure some server of the
// service has a live heartbeat key, so that a call to a service nobody serves fails at once
// (no_live_server_error) instead of at its deadline. A positive answer is cached briefly; a
// negative one is never cached, so a server that comes back is seen by the next call.

#include "redis/connection.hpp"

#include <redisrpc/options.hpp>

#include <memory>
#include <mutex>
#include <string>

namespace redisrpc::detail {

class liveness_check {
public:
    liveness_check(connection_options options, std::string pattern, std::chrono::milliseconds trust);

    /// @throws no_live_server_error when no heartbeat key matches; connection_error or
    ///         timeout_error when Redis cannot be asked before `deadline`.
    void require_live_server(clock::time_point deadline);

private:
    bool any_alive(clock::time_point deadline);

    connection_options options_;
    std::string pattern_;
    std::chrono::milliseconds trust_;
    std::mutex mutex_;
    std::unique_ptr<connection> conn_;
    clock::time_point alive_until_{};
};

} // namespace redisrpc::detail
