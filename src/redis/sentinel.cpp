#include "redis/sentinel.hpp"

#include "redis/cluster_topology.hpp"

#include <redisrpc/error.hpp>

#include <algorithm>
#include <charconv>

namespace redisrpc::detail {

namespace {

connection_options sentinel_options(const connection_options& base,
                                    const connection_options::node_address& node,
                                    std::chrono::milliseconds left) {
    connection_options o = base;
    o.mode = connection_options::topology::standalone;
    o.nodes.clear();
    o.kind = connection_options::transport::tcp;
    o.host = node.host;
    o.port = node.port;
    o.user = base.sentinel_user;
    o.password = base.sentinel_password;
    o.db = 0; // sentinels have no databases
    o.client_name.clear();
    o.connect_timeout = std::clamp(left, std::chrono::milliseconds(1), base.connect_timeout);
    o.command_timeout = std::clamp(left, std::chrono::milliseconds(1), base.command_timeout);
    return o;
}

} // namespace

bool is_role_change_error(const reply& r) noexcept {
    const auto check = [](const reply& x) {
        if (!x.is_error())
            return false;
        for (const std::string_view p : {"READONLY", "UNBLOCKED", "MASTERDOWN", "LOADING"})
            if (x.str.compare(0, p.size(), p) == 0)
                return true;
        return false;
    };
    if (check(r))
        return true;
    if (r.is_array())
        for (const auto& e : r.elements)
            if (check(e))
                return true;
    return false;
}

std::unique_ptr<node_connection> connect_to_sentinel_master(const connection_options& options) {
    const auto deadline = clock::now() + options.connect_timeout;
    std::string last;
    {
        for (const auto& sentinel : options.nodes) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            if (left.count() <= 0 && !last.empty())
                break;
            const std::string where = "sentinel " + format_address(sentinel.host, sentinel.port);
            reply addr;
            try {
                const auto o = sentinel_options(options, sentinel, left);
                node_connection conn(o);
                addr = conn.execute({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options.sentinel_master},
                                    clock::now() + o.command_timeout);
            } catch (const error& e) {
                last = e.what();
                continue;
            }
            if (addr.is_error()) {
                last = where + " refused: " + addr.str;
                continue;
            }
            if (!addr.is_array() || addr.elements.size() != 2) {
                last = where + " does not know master '" + options.sentinel_master + "'";
                continue;
            }
            connection_options m = options;
            m.mode = connection_options::topology::standalone;
            m.nodes.clear();
            m.host = addr.elements[0].str;
            std::uint16_t port = 0;
            const std::string& p = addr.elements[1].str;
            std::from_chars(p.data(), p.data() + p.size(), port);
            m.port = port;
            const auto master_left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
            m.connect_timeout =
                std::clamp(master_left, std::chrono::milliseconds(1), options.connect_timeout);
            try {
                auto conn = std::make_unique<node_connection>(m);
                const reply role = conn->execute({"ROLE"}, clock::now() + options.command_timeout);
                if (role.is_array() && !role.elements.empty() && role.elements[0].str == "master")
                    return conn;
                // An ACL without +role: trust the sentinels.
                if (role.is_error() && role.str.compare(0, 6, "NOPERM") == 0)
                    return conn;
                last = where + " names " + m.address() + " as master '" + options.sentinel_master +
                       "', but it is not a master (yet)";
            } catch (const error& e) {
                last = where + " names " + m.address() + " as master '" + options.sentinel_master +
                       "': " + e.what();
            }
        }
    }
    throw connection_error("cannot find master '" + options.sentinel_master + "' through sentinels: " + last);
}

} // namespace redisrpc::detail
