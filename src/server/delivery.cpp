#include "server/delivery.hpp"

#include "util/clock.hpp"
#include "util/log.hpp"

#include <redisrpc/error.hpp>

#include <algorithm>
#include <cstdio>

namespace redisrpc::detail {
namespace {

// More requests taken one by one after a blocking move found work: bounded so that one busy
// queue cannot hold the loop (and its heartbeat) for long.
constexpr std::size_t max_extra_moves = 15;
// A reaper holds its lock for less than the heartbeat period, so the next period can reap again.
constexpr const char* reaper_lock_ms = "1500";
// A dead server whose list is drained is forgotten once its last heartbeat is this old.
constexpr std::int64_t forget_after_ms = 60'000;
// Most requests returned from one dead server's list per reaper pass.
constexpr int max_returned_per_pass = 10000;

std::string seconds_text(std::chrono::milliseconds ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(std::max<long long>(ms.count(), 10)) / 1000.0);
    return buf;
}

void throw_if_error(const reply& r, std::string_view what) {
    if (r.is_error())
        throw protocol_error(std::string(what) + ": " + r.str);
}

} // namespace

reliable_delivery::reliable_delivery(const server_options& options, std::string server_id,
                                     std::vector<std::string> queues, heartbeat_lookup heartbeat_of)
    : server_id_(std::move(server_id)), queues_(std::move(queues)), heartbeat_of_(std::move(heartbeat_of)),
      extra_per_pop_(std::min(options.batch > 0 ? options.batch - 1 : 0, max_extra_moves)),
      max_deliveries_(std::max<std::uint32_t>(options.max_deliveries, 1)),
      ttl_text_(std::to_string(std::max<long long>(options.dead_letter_ttl.count(), 1))) {}

std::string reliable_delivery::processing_key(const std::string& queue) const {
    return processing_key(queue, server_id_);
}

std::string reliable_delivery::delivery_field(std::string_view payload) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const unsigned char c : payload) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

void reliable_delivery::recover_own(connection& conn, clock::time_point deadline) {
    // Registered before taking anything, so that a reaper can always find this server's lists.
    command_buffer registration;
    append_heartbeat(registration);
    for (const auto& r : conn.pipeline(registration, deadline))
        throw_if_error(r, "registering the server");
    for (const auto& q : queues_) {
        const std::string mine = processing_key(q);
        int returned = 0;
        // RIGHT -> LEFT: the oldest ends up first in the queue again, in its original order.
        while (returned < max_returned_per_pass) {
            const reply r = conn.execute({"LMOVE", mine, q, "RIGHT", "LEFT"}, deadline);
            throw_if_error(r, "LMOVE");
            if (r.is_nil())
                break;
            ++returned;
        }
        if (returned > 0)
            log(log_level::warning, "returned ", std::to_string(returned),
                " unfinished requests of an earlier run to ", q);
    }
}

std::size_t reliable_delivery::append_pop(command_buffer& cmds, std::size_t rotation,
                                          std::chrono::milliseconds block) {
    // BLMOVE waits on one list only; with several queues the others are polled with LMOVE and
    // the wait is shortened, so no queue waits longer than one poll interval.
    const std::size_t n = queues_.size();
    last_pop_queues_.clear();
    for (std::size_t i = 0; i < n; ++i) {
        const std::string& q = queues_[(rotation + i) % n];
        const std::string dest = processing_key(q);
        last_pop_queues_.push_back(q);
        if (i + 1 < n) {
            cmds.add({"LMOVE", q, dest, "LEFT", "RIGHT"});
        } else {
            const std::chrono::milliseconds wait = n == 1 ? block : block / static_cast<std::int64_t>(n);
            const std::string timeout = seconds_text(wait);
            cmds.add({"BLMOVE", q, dest, "LEFT", "RIGHT", timeout});
        }
    }
    return n;
}

std::vector<taken_request> reliable_delivery::collect(connection& conn, std::span<const reply> pop_results,
                                                      clock::time_point deadline) {
    std::vector<taken_request> taken;
    std::vector<std::string> busy; // queues that had work: worth taking more from
    for (std::size_t i = 0; i < pop_results.size() && i < last_pop_queues_.size(); ++i) {
        const reply& r = pop_results[i];
        throw_if_error(r, "taking a request (LMOVE/BLMOVE, Redis >= 6.2)");
        if (!r.is_string())
            continue;
        taken.push_back({last_pop_queues_[i], r.str});
        busy.push_back(last_pop_queues_[i]);
    }
    if (!busy.empty() && extra_per_pop_ > 0) {
        command_buffer more;
        std::vector<const std::string*> from;
        for (const auto& q : busy) {
            const std::string dest = processing_key(q);
            for (std::size_t k = 0; k < extra_per_pop_; ++k) {
                more.add({"LMOVE", q, dest, "LEFT", "RIGHT"});
                from.push_back(&q);
            }
        }
        const auto results = conn.pipeline(more, deadline);
        for (std::size_t i = 0; i < results.size(); ++i) {
            throw_if_error(results[i], "LMOVE");
            if (results[i].is_string())
                taken.push_back({*from[i], results[i].str});
        }
    }
    if (!taken.empty())
        count_and_dead_letter(conn, taken, deadline);
    return taken;
}

std::size_t reliable_delivery::count_and_dead_letter(connection& conn, std::vector<taken_request>& taken,
                                                     clock::time_point deadline) {
    command_buffer counts;
    for (const auto& t : taken) {
        counts.add({"HINCRBY", deliveries_key(t.source), delivery_field(t.payload), "1"});
        counts.add({"EXPIRE", deliveries_key(t.source), ttl_text_});
    }
    const auto results = conn.pipeline(counts, deadline);
    command_buffer dead;
    std::vector<taken_request> keep;
    keep.reserve(taken.size());
    for (std::size_t i = 0; i < taken.size(); ++i) {
        const reply& r = results[2 * i];
        throw_if_error(r, "HINCRBY");
        if (!r.is_integer() || r.integer <= static_cast<std::int64_t>(max_deliveries_)) {
            keep.push_back(std::move(taken[i]));
            continue;
        }
        const auto& t = taken[i];
        log(log_level::error, "request on ", t.source, " delivered ", std::to_string(r.integer),
            " times without completing; moved to ", dead_key(t.source));
        // Dead-letter list first: a failure in between leaves a copy, never a loss.
        dead.add({"RPUSH", dead_key(t.source), t.payload});
        dead.add({"EXPIRE", dead_key(t.source), ttl_text_});
        dead.add({"LREM", processing_key(t.source), "1", t.payload});
        dead.add({"HDEL", deliveries_key(t.source), delivery_field(t.payload)});
    }
    const std::size_t dead_count = taken.size() - keep.size();
    if (!dead.empty()) {
        for (const auto& r : conn.pipeline(dead, deadline))
            if (r.is_error())
                log(log_level::error, "dead-lettering failed: ", r.str);
    }
    taken.swap(keep);
    return dead_count;
}

std::size_t reliable_delivery::append_acks(command_buffer& cmds, std::span<const taken_request> done) const {
    for (const auto& t : done) {
        cmds.add({"LREM", processing_key(t.source), "1", t.payload});
        cmds.add({"HDEL", deliveries_key(t.source), delivery_field(t.payload)});
    }
    return 2 * done.size();
}

std::size_t reliable_delivery::append_heartbeat(command_buffer& cmds) const {
    const std::string now = std::to_string(unix_now_ms());
    for (const auto& q : queues_) {
        cmds.add({"ZADD", consumers_key(q), now, server_id_});
        cmds.add({"EXPIRE", consumers_key(q), ttl_text_});
    }
    return 2 * queues_.size();
}

void reliable_delivery::deregister(connection& conn, clock::time_point deadline) noexcept {
    try {
        for (const auto& q : queues_)
            (void)conn.execute({"ZREM", consumers_key(q), server_id_}, deadline);
    } catch (const std::exception&) {
        // The entry is dropped by a reaper once it is old and its (empty) list drained.
    }
}

void reliable_delivery::reap(connection& conn, clock::time_point deadline) {
    const std::int64_t forget_before = unix_now_ms() - forget_after_ms;
    for (const auto& q : queues_) {
        const reply lock =
            conn.execute({"SET", q + ":reaper", server_id_, "NX", "PX", reaper_lock_ms}, deadline);
        if (lock.is_error()) {
            log(log_level::warning, "reaper lock on ", q, " refused: ", lock.str);
            continue;
        }
        if (lock.is_nil())
            continue; // another server is reaping this queue now
        // The servers that ever took work from q (not a SCAN: the cost follows the servers, not the
        // keyspace).
        const reply members = conn.execute({"ZRANGE", consumers_key(q), "0", "-1", "WITHSCORES"}, deadline);
        if (members.is_error() || !members.is_array()) {
            log(log_level::warning, "reaper: ZRANGE failed",
                members.is_error() ? ": " + members.str : std::string());
            continue;
        }
        for (std::size_t m = 0; m + 1 < members.elements.size(); m += 2) {
            const std::string& owner = members.elements[m].str;
            if (owner == server_id_)
                continue;
            const std::string heartbeat = heartbeat_of_(q, owner);
            if (heartbeat.empty()) {
                if (!missing_heartbeat_logged_)
                    log(log_level::warning, "reaper: the dialect of ", q,
                        " has no heartbeat key; not reaping");
                missing_heartbeat_logged_ = true;
                continue;
            }
            const reply alive = conn.execute({"EXISTS", heartbeat}, deadline);
            if (alive.is_error() || alive.integer != 0)
                continue;
            const std::string list = processing_key(q, owner);
            int returned = 0;
            bool drained = false;
            while (returned < max_returned_per_pass) {
                // One atomic move per request: a reaper dying midway loses nothing.
                const reply r = conn.execute({"LMOVE", list, q, "RIGHT", "LEFT"}, deadline);
                if (r.is_error()) {
                    log(log_level::warning, "reaper: LMOVE failed: ", r.str);
                    break;
                }
                if (r.is_nil()) {
                    drained = true;
                    break;
                }
                ++returned;
            }
            if (returned > 0)
                log(log_level::warning, "server ", owner, " stopped heartbeating; returned ",
                    std::to_string(returned), " of its requests to ", q);
            // Long silent and nothing left: forget it. A server that wakes up after this adds itself
            // again with its next heartbeat, before it takes any request.
            std::int64_t last_seen = 0;
            try {
                last_seen = std::stoll(members.elements[m + 1].str);
            } catch (const std::exception&) {
            }
            if (drained && last_seen < forget_before)
                (void)conn.execute({"ZREM", consumers_key(q), owner}, deadline);
        }
    }
}

} // namespace redisrpc::detail
