#include "client/round_trip.hpp"

#include "util/log.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace redisrpc::detail {
namespace {

// Redis ends the blocking pop at the call's deadline; the socket deadline waits this much longer
// so that a healthy Redis always answers first, while a frozen one still cannot hang the call.
constexpr auto read_margin = std::chrono::milliseconds(200);

// Redis takes fractional seconds: "<s>.<mmm>", rounded up to whole milliseconds.
std::string pop_timeout_text(clock::duration remaining) {
    // 0 would mean "block forever" to Redis; never send it.
    const auto ms = std::max<long long>(1, std::chrono::ceil<std::chrono::milliseconds>(remaining).count());
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + 24, ms / 1000);
    (void)ec; // 24 bytes hold any 64-bit number
    const auto frac = ms % 1000;
    end[0] = '.';
    end[1] = static_cast<char>('0' + frac / 100);
    end[2] = static_cast<char>('0' + frac / 10 % 10);
    end[3] = static_cast<char>('0' + frac % 10);
    return std::string(buf, static_cast<std::size_t>(end + 4 - buf));
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
        const bool withdrawn = withdraw_request(conn, request, clock::now() + withdraw_budget);
        throw timeout_error(withdrawn ? "call timed out; no server took the request, it was withdrawn"
                                      : "call timed out; a server took the request, its outcome is unknown",
                            !withdrawn);
    }
    if (!popped.is_array() || popped.elements.size() != 2 || !popped.elements[1].is_string())
        throw protocol_error("unexpected reply to BLPOP");
    return codec.decode(popped.elements[1].str);
}

} // namespace redisrpc::detail
