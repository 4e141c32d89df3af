#include "client/liveness.hpp"

#include <redisrpc/error.hpp>

#include <algorithm>

namespace redisrpc::detail {

liveness_check::liveness_check(connection_options options, std::string pattern,
                               std::chrono::milliseconds trust)
    : options_(std::move(options)), pattern_(std::move(pattern)), trust_(trust) {}

bool liveness_check::any_alive(clock::time_point deadline) {
    if (!conn_ || conn_->broken()) {
        conn_ = std::make_unique<connection>(options_within(options_, deadline));
    }
    std::string cursor = "0";
    do {
        const reply r = conn_->execute({"SCAN", cursor, "MATCH", pattern_, "COUNT", "1000"}, deadline);
        if (r.is_error())
            throw connection_error("checking for live servers failed: " + r.str);
        if (!r.is_array() || r.elements.size() != 2 || !r.elements[1].is_array())
            throw protocol_error("SCAN: unexpected reply from redis");
        if (!r.elements[1].elements.empty())
            return true;
        cursor = r.elements[0].str;
    } while (cursor != "0");
    return false;
}

void liveness_check::require_live_server(clock::time_point deadline) {
    std::lock_guard lock(mutex_);
    const auto now = clock::now();
    if (now < alive_until_)
        return;
    try {
        if (!any_alive(deadline))
            throw no_live_server_error("no live server for '" + pattern_ +
                                       "' (no heartbeat key): the request was not sent");
    } catch (const timeout_error&) {
        conn_.reset();
        throw timeout_error("call timed out checking for live servers (request not sent)", false);
    } catch (const connection_error&) {
        if (conn_ && conn_->broken())
            conn_.reset();
        throw;
    }
    alive_until_ = clock::now() + trust_;
}

} // namespace redisrpc::detail
