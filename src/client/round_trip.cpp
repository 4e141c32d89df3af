#include "client/round_trip.hpp"

#include "util/log.hpp"

#include <cstdio>
#include <string>

namespace redisrpc::detail {
namespace {

// Redis ends the blocking pop at the call's deadline; the socket deadline waits this much longer
// so that a healthy Redis always answers first, while a frozen one still cannot hang the call.
constexpr auto read_margin = std::chrono::milliseconds(200);

std::string pop_timeout_text(clock::duration remaining) {
    // 0 would mean "block forever" to Redis; never send it.
    const double seconds = std::max(0.001, std::chrono::duration<double>(remaining).count());
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", seconds);
    return buf;
}

} // namespace

std::size_t append_request(command_buffer& out, const outgoing_request& request) {
    if (!request.queue_ttl) {
        out.add({"RPUSH", request.queue, request.payload});
        return 1;
    }
    const std::string ttl = std::to_string(request.queue_ttl->count());
    out.add({"MULTI"});
    out.add({"RPUSH", request.queue, request.payload});
    out.add({"EXPIRE", request.queue, ttl});
    out.add({"EXEC"});
    return 4;
}

void check_request_results(std::span<const reply> results, const outgoing_request& request) {
    for (const auto& r : results) {
        const reply* bad = r.is_error() ? &r : nullptr;
        if (r.is_array())
            for (const auto& e : r.elements)
                if (e.is_error()) bad = &e;
        if (bad) throw connection_error("redis refused the request on '" + request.queue + "': " + bad->str);
        if (r.is_nil()) throw connection_error("redis aborted the request transaction on '" + request.queue + "'");
    }
}

bool withdraw_request(connection& conn, const outgoing_request& request, clock::time_point deadline) noexcept {
    try {
        const reply r = conn.execute({"LREM", request.queue, "1", request.payload}, deadline);
        return r.is_integer() && r.integer == 1;
    } catch (const std::exception& e) {
        log(log_level::warning, "could not withdraw a timed-out request from ", request.queue, ": ", e.what());
        return false;
    }
}

decoded_response round_trip(connection& conn, const outgoing_request& request, clock::time_point deadline,
                            const client_codec& codec) {
    const auto now = clock::now();
    if (now >= deadline) throw timeout_error("call timed out before it was sent", false);

    command_buffer cmds;
    const std::size_t push_replies = append_request(cmds, request);
    cmds.add({"BLPOP", request.reply_key, pop_timeout_text(deadline - now)});
    std::vector<reply> results;
    try {
        results = conn.pipeline(cmds, deadline + read_margin);
    } catch (const timeout_error&) {
        // Redis did not answer at all (frozen or overloaded): whether the request got in is unknown.
        throw timeout_error("call timed out: redis at " + conn.address() + " did not answer", true);
    }
    check_request_results(std::span(results).first(push_replies), request);

    const reply& popped = results.back();
    if (popped.is_error()) throw connection_error("waiting for the reply failed: " + popped.str);
    if (popped.is_nil()) {
        // Bounded by the call's deadline, not by now: a slow Redis cannot make the call end late.
        const bool withdrawn = withdraw_request(conn, request, deadline + read_margin);
        throw timeout_error(withdrawn ? "call timed out; no server took the request, it was withdrawn"
                                      : "call timed out; a server took the request, its outcome is unknown",
                            !withdrawn);
    }
    if (!popped.is_array() || popped.elements.size() != 2 || !popped.elements[1].is_string())
        throw protocol_error("unexpected reply to BLPOP");
    return codec.decode(popped.elements[1].str);
}

} // namespace redisrpc::detail
