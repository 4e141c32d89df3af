#include "redis/cluster_router.hpp"

#include <redisrpc/error.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <thread>

namespace redisrpc::detail {

namespace {

// A slot rarely moves more than once during one call; more means the map is in flux.
constexpr int max_redirects = 8;
// Waits between attempts when the cluster says TRYAGAIN / CLUSTERDOWN.
constexpr auto first_backoff = std::chrono::milliseconds(20);
constexpr auto max_backoff = std::chrono::milliseconds(200);

struct redirect {
    enum class kind { moved, ask, retry } what;
    std::uint16_t slot = 0;
    std::string address;
};

bool starts_with(const std::string& text, std::string_view prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381" (an empty host: the node asked).
std::optional<redirect> parse_redirect(const std::string& text, const std::string& asked) {
    if (starts_with(text, "TRYAGAIN") || starts_with(text, "CLUSTERDOWN") || starts_with(text, "UNBLOCKED"))
        return redirect{redirect::kind::retry, 0, {}};
    const bool moved = starts_with(text, "MOVED ");
    if (!moved && !starts_with(text, "ASK "))
        return std::nullopt;
    const std::size_t first = text.find(' ');
    const std::size_t second = text.find(' ', first + 1);
    if (second == std::string::npos)
        return std::nullopt;
    unsigned slot = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + first + 1, text.data() + second, slot);
    if (ec != std::errc{} || slot >= 16384)
        return std::nullopt;
    std::string address = text.substr(second + 1);
    if (!address.empty() && address.front() == ':')
        address = asked.substr(0, asked.rfind(':')) + address;
    return redirect{moved ? redirect::kind::moved : redirect::kind::ask, static_cast<std::uint16_t>(slot),
                    std::move(address)};
}

std::optional<redirect> find_redirect(const std::vector<reply>& replies, const std::string& asked) {
    for (const auto& r : replies)
        if (r.is_error())
            if (auto found = parse_redirect(r.str, asked))
                return found;
    return std::nullopt;
}

} // namespace

cluster_router::cluster_router(const connection_options& options)
    : options_(options), topology_(cluster_topology::shared(options)) {
    if (!topology_->loaded())
        topology_->refresh(clock::now() + options_.connect_timeout, true);
}

std::string cluster_router::route(const unit_state& u, const std::string& fallback) {
    if (u.unit.slot)
        return topology_->owner(*u.unit.slot);
    return fallback.empty() ? topology_->any_master() : fallback;
}

cluster_router::node_link& cluster_router::link(const std::string& address, clock::time_point deadline) {
    node_link& l = nodes_[address];
    if (l.conn && !l.conn->broken())
        return l;
    if (!l.outstanding.empty()) {
        broken_ = true;
        throw connection_error("connection to redis at " + address + " was lost with replies pending");
    }
    connection_options o = topology_->node_options(address);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    o.connect_timeout = std::clamp(left, std::chrono::milliseconds(1), o.connect_timeout);
    l.conn.reset();
    l.conn = std::make_unique<node_connection>(o);
    return l;
}

// Opens every connection a pipeline needs before writing any of it: a node that cannot be
// reached (a master that just died) is waited for, with the map reloaded in between, until the
// connect timeout; nothing has been sent yet, so trying again is safe.
void cluster_router::connect_all(const std::vector<std::string>& addresses, clock::time_point deadline) {
    for (const auto& address : addresses) {
        if (address.empty())
            throw connection_error("redis cluster: no master is known for a slot");
        link(address, deadline);
    }
}

void cluster_router::send(std::size_t index, const std::string& address, bool asking, std::string_view bytes,
                          clock::time_point deadline) {
    node_link& l = link(address, deadline);
    unit_state& u = units_[index];
    try {
        if (asking) {
            command_buffer ask;
            ask.add({"ASKING"});
            l.conn->write_raw(ask.bytes() + std::string(bytes), deadline);
        } else {
            l.conn->write_raw(bytes, deadline);
        }
    } catch (...) {
        broken_ = true;
        throw;
    }
    u.node = address;
    u.asking = asking;
    u.received = false;
    u.replies.clear();
    l.outstanding.push_back(index);
}

void cluster_router::write(const command_buffer& commands, clock::time_point deadline) {
    if (broken_)
        throw connection_error("connection to the redis cluster is broken by an earlier error");
    ready_.clear();
    units_.clear();
    next_unit_ = 0;
    for (auto& [address, l] : nodes_) {
        if (!l.outstanding.empty()) { // replies of an earlier pipeline were never read
            broken_ = true;
            throw connection_error("redis cluster: a pipeline was written before the last one was read");
        }
    }
    if (commands.empty())
        return;
    source_ = commands.bytes();
    written_at_ = clock::now();
    for (auto& unit : split_units(source_, commands.count()))
        units_.push_back({std::move(unit), {}, false, false, 0, {}});

    const auto connect_deadline = std::min(deadline, written_at_ + options_.connect_timeout);
    std::vector<std::string> targets(units_.size());
    const auto compute_targets = [&] {
        std::string fallback;
        for (const auto& u : units_)
            if (u.unit.slot) {
                fallback = topology_->owner(*u.unit.slot);
                break;
            }
        std::set<std::string> needed;
        for (std::size_t i = 0; i < units_.size(); ++i) {
            targets[i] = route(units_[i], fallback);
            needed.insert(targets[i]);
        }
        return std::vector<std::string>(needed.begin(), needed.end());
    };
    auto needed = compute_targets();
    try {
        connect_all(needed, connect_deadline);
    } catch (const connection_error&) {
        // A node that cannot be reached may have been replaced: reload the map once and go to
        // the new owner if there is one. Otherwise fail now (nothing was sent, the caller decides
        // whether to try again): waiting here would hold up callers with short deadlines.
        try {
            topology_->refresh(connect_deadline, true);
        } catch (const connection_error&) {
        }
        const auto again = compute_targets();
        if (again == needed) {
            broken_ = true;
            throw;
        }
        try {
            connect_all(again, connect_deadline);
        } catch (...) {
            broken_ = true;
            throw;
        }
    }
    // Time spent connecting comes out of every blocking pop's own timeout.
    const double spent = std::chrono::duration<double>(clock::now() - written_at_).count();
    // One write per node, units in pipeline order.
    std::map<std::string, std::string> per_node;
    for (std::size_t i = 0; i < units_.size(); ++i) {
        unit_state& u = units_[i];
        if (u.unit.blocking && spent > 0.005) {
            per_node[targets[i]] +=
                with_block_timeout(std::string_view(source_).substr(u.unit.begin, u.unit.end - u.unit.begin),
                                   u.unit.commands, spent);
        } else {
            per_node[targets[i]].append(source_, u.unit.begin, u.unit.end - u.unit.begin);
        }
        u.node = targets[i];
        nodes_[targets[i]].outstanding.push_back(i);
    }
    for (const auto& [address, bytes] : per_node) {
        try {
            nodes_[address].conn->write_raw(bytes, deadline);
        } catch (...) {
            broken_ = true;
            throw;
        }
    }
}

void cluster_router::receive(std::size_t index, clock::time_point deadline) {
    node_link& l = nodes_[units_[index].node];
    try {
        while (!units_[index].received) {
            if (l.outstanding.empty() || !l.conn)
                throw connection_error("redis cluster: a reply went missing");
            unit_state& u = units_[l.outstanding.front()];
            if (u.asking)
                (void)l.conn->read(deadline); // +OK of ASKING
            for (std::size_t k = 0; k < u.unit.commands; ++k)
                u.replies.push_back(l.conn->read(deadline));
            u.received = true;
            l.outstanding.pop_front();
        }
    } catch (...) {
        broken_ = true;
        throw;
    }
}

void cluster_router::resolve(std::size_t index, clock::time_point deadline) {
    auto backoff = first_backoff;
    for (;;) {
        receive(index, deadline);
        unit_state& u = units_[index];
        auto found = find_redirect(u.replies, u.node);
        if (!found || u.attempts >= max_redirects || clock::now() >= deadline)
            return;
        ++u.attempts;
        std::string target;
        bool asking = false;
        switch (found->what) {
        case redirect::kind::moved:
            topology_->moved(found->slot, found->address);
            target = found->address;
            try {
                topology_->refresh(deadline);
            } catch (const connection_error&) {
                // the redirection itself says where to go
            }
            break;
        case redirect::kind::ask:
            target = found->address;
            asking = true;
            break;
        case redirect::kind::retry: {
            const auto left = deadline - clock::now();
            if (left <= backoff)
                return; // no time for another attempt: the caller sees the error
            std::this_thread::sleep_for(backoff);
            backoff = std::min(backoff * 2, max_backoff);
            try {
                topology_->refresh(deadline, true);
            } catch (const connection_error&) {
            }
            target = route(u, u.node);
            break;
        }
        }
        std::string_view bytes(source_.data() + u.unit.begin, u.unit.end - u.unit.begin);
        std::string shortened;
        if (u.unit.blocking) {
            // A re-sent pop must still end before the caller's deadline.
            shortened = with_block_timeout(bytes, u.unit.commands,
                                           std::chrono::duration<double>(clock::now() - written_at_).count());
            bytes = shortened;
        }
        send(index, target, asking, bytes, deadline);
    }
}

reply cluster_router::read(clock::time_point deadline) {
    if (broken_)
        throw connection_error("connection to the redis cluster is broken by an earlier error");
    if (ready_.empty()) {
        if (next_unit_ >= units_.size())
            throw connection_error("redis cluster: read without a pending command");
        const std::size_t index = next_unit_++;
        resolve(index, deadline);
        for (auto& r : units_[index].replies)
            ready_.push_back(std::move(r));
        units_[index].replies.clear();
    }
    reply out = std::move(ready_.front());
    ready_.pop_front();
    return out;
}

} // namespace redisrpc::detail
