#include "redis/cluster_topology.hpp"

#include <redisrpc/error.hpp>

#include <algorithm>
#include <charconv>
#include <map>

namespace redisrpc::detail {

namespace {

constexpr std::size_t slot_count = 16384;
// Several connections hit by the same MOVED refresh once, not once each.
constexpr auto min_refresh_interval = std::chrono::milliseconds(50);

// The key under which equal options share one topology: the seeds plus everything that changes
// how nodes are reached (credentials are part of it, so different ACL users never share).
std::string topology_key(const connection_options& o) {
    std::string key = o.tls ? "tls|" : "tcp|";
    for (const auto& n : o.nodes)
        key += format_address(n.host, n.port) + ",";
    for (const std::string* part : {&o.user, &o.password, &o.tls_ca_file, &o.tls_ca_dir, &o.tls_cert_file,
                                    &o.tls_key_file, &o.tls_server_name, &o.client_name}) {
        key += std::to_string(part->size()) + ":" + *part + "|";
    }
    key += o.tls_verify ? "v" : "n";
    key += std::to_string(o.connect_timeout.count()) + "/" + std::to_string(o.command_timeout.count());
    return key;
}

} // namespace

std::string format_address(const std::string& host, std::uint16_t port) {
    if (host.find(':') != std::string::npos)
        return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

std::shared_ptr<cluster_topology> cluster_topology::shared(const connection_options& options) {
    static std::mutex mutex;
    static std::map<std::string, std::weak_ptr<cluster_topology>> cache;
    const std::string key = topology_key(options);
    const std::lock_guard lock(mutex);
    if (auto existing = cache[key].lock())
        return existing;
    auto created = std::make_shared<cluster_topology>(options);
    cache[key] = created;
    for (auto it = cache.begin(); it != cache.end();)
        it = it->second.expired() ? cache.erase(it) : std::next(it);
    return created;
}

cluster_topology::cluster_topology(connection_options options) : base_(std::move(options)) {
    for (const auto& n : base_.nodes)
        known_.push_back(format_address(n.host, n.port));
    if (known_.empty())
        known_.push_back(format_address(base_.host, base_.port));
}

connection_options cluster_topology::node_options(const std::string& address) const {
    connection_options o = base_;
    o.mode = connection_options::topology::standalone;
    o.nodes.clear();
    o.kind = connection_options::transport::tcp;
    o.db = 0; // a cluster has database 0 only
    const std::size_t colon = address.rfind(':');
    std::string host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[')
        host = host.substr(1, host.size() - 2);
    o.host = host.empty() ? base_.host : host;
    std::uint16_t port = 0;
    const char* first = address.data() + colon + 1;
    std::from_chars(first, address.data() + address.size(), port);
    o.port = port;
    return o;
}

std::string cluster_topology::owner(std::uint16_t slot) {
    const std::lock_guard lock(mutex_);
    if (slot_owner_.size() == slot_count && !slot_owner_[slot].empty())
        return slot_owner_[slot];
    return masters_.empty() ? std::string() : masters_.front();
}

std::string cluster_topology::any_master() {
    const std::lock_guard lock(mutex_);
    return masters_.empty() ? std::string() : masters_.front();
}

std::vector<std::string> cluster_topology::masters() {
    const std::lock_guard lock(mutex_);
    return masters_;
}

bool cluster_topology::loaded() {
    const std::lock_guard lock(mutex_);
    return !masters_.empty();
}

void cluster_topology::moved(std::uint16_t slot, const std::string& address) {
    const std::lock_guard lock(mutex_);
    if (slot_owner_.size() != slot_count)
        slot_owner_.assign(slot_count, {});
    slot_owner_[slot] = address;
    if (std::find(masters_.begin(), masters_.end(), address) == masters_.end())
        masters_.push_back(address);
    if (std::find(known_.begin(), known_.end(), address) == known_.end())
        known_.push_back(address);
}

void cluster_topology::refresh(clock::time_point deadline, bool force) {
    std::vector<std::string> candidates;
    std::size_t start = 0;
    {
        const std::lock_guard lock(mutex_);
        if (!force && !masters_.empty() && clock::now() - last_refresh_ < min_refresh_interval)
            return;
        candidates = known_;
        start = next_probe_++;
    }
    std::string failures;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const std::string& address = candidates[(start + i) % candidates.size()];
        const auto now = clock::now();
        if (now >= deadline && !failures.empty())
            break;
        try {
            connection_options o = node_options(address);
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
            o.connect_timeout = std::clamp(left, std::chrono::milliseconds(50), o.connect_timeout);
            o.command_timeout = std::clamp(left, std::chrono::milliseconds(50), o.command_timeout);
            o.client_name.clear();
            node_connection conn(o);
            const reply r = conn.execute({"CLUSTER", "SLOTS"}, clock::now() + o.command_timeout);
            if (!r.is_array() || r.elements.empty()) {
                failures += (failures.empty() ? "" : "; ") + address + ": " +
                            (r.is_error() ? r.str : std::string("no slots assigned"));
                continue;
            }
            std::vector<std::string> owners(slot_count);
            std::vector<std::string> masters, seen;
            for (const auto& range : r.elements) {
                // [start, end, [host, port, id, ...], replica...]
                if (!range.is_array() || range.elements.size() < 3 || !range.elements[2].is_array() ||
                    range.elements[2].elements.size() < 2)
                    continue;
                const auto first = range.elements[0].integer;
                const auto last = range.elements[1].integer;
                if (first < 0 || last >= static_cast<std::int64_t>(slot_count) || first > last)
                    continue;
                for (std::size_t n = 2; n < range.elements.size(); ++n) {
                    const auto& node = range.elements[n];
                    if (!node.is_array() || node.elements.size() < 2)
                        continue;
                    // An empty or "?" host means "the address you asked me on".
                    std::string host = node.elements[0].str;
                    if (host.empty() || host == "?")
                        host = node_options(address).host;
                    const auto port = static_cast<std::uint16_t>(node.elements[1].integer);
                    const std::string a = format_address(host, port);
                    seen.push_back(a);
                    if (n == 2) {
                        if (std::find(masters.begin(), masters.end(), a) == masters.end())
                            masters.push_back(a);
                        for (auto s = first; s <= last; ++s)
                            owners[static_cast<std::size_t>(s)] = a;
                    }
                }
            }
            if (masters.empty()) {
                failures += (failures.empty() ? "" : "; ") + address + ": unreadable CLUSTER SLOTS reply";
                continue;
            }
            const std::lock_guard lock(mutex_);
            slot_owner_ = std::move(owners);
            masters_ = std::move(masters);
            for (auto& a : seen)
                if (std::find(known_.begin(), known_.end(), a) == known_.end())
                    known_.push_back(std::move(a));
            last_refresh_ = clock::now();
            return;
        } catch (const error& e) {
            failures += (failures.empty() ? "" : "; ") + std::string(e.what());
        }
    }
    throw connection_error("cannot load the redis cluster slot map: " + failures);
}

} // namespace redisrpc::detail
