// The connection every layer uses, whatever the deployment: a plain node connection, the same
// found through Sentinel, or a cluster router. The standalone path only forwards.

#include "redis/connection.hpp"

#include "redis/cluster_router.hpp"
#include "redis/node_connection.hpp"
#include "redis/sentinel.hpp"

#include <redisrpc/error.hpp>

namespace redisrpc::detail {

struct connection::impl {
    std::unique_ptr<node_connection> node;  // standalone and sentinel
    std::unique_ptr<cluster_router> router; // cluster
    bool sentinel = false;
    bool role_lost = false; // sentinel: the node said it is no longer the master
    std::string address;

    void watch(const reply& r) noexcept {
        if (sentinel && !role_lost && is_role_change_error(r))
            role_lost = true;
    }
    // A demoted master still accepts the connection; nothing more may go to it.
    void ensure_master() const {
        if (role_lost)
            throw connection_error("redis at " + address +
                                   " is no longer the master; a new connection asks the sentinels");
    }
};

connection::connection(const connection_options& options) : impl_(std::make_unique<impl>()) {
    switch (options.mode) {
    case connection_options::topology::standalone:
        impl_->node = std::make_unique<node_connection>(options);
        impl_->address = impl_->node->address();
        break;
    case connection_options::topology::sentinel:
        impl_->sentinel = true;
        impl_->node = connect_to_sentinel_master(options);
        impl_->address = impl_->node->address() + " (master '" + options.sentinel_master + "')";
        break;
    case connection_options::topology::cluster:
        impl_->router = std::make_unique<cluster_router>(options);
        impl_->address = options.address();
        break;
    }
}

connection::~connection() = default;

std::vector<reply> connection::pipeline(const command_buffer& commands, clock::time_point deadline) {
    if (impl_->node) {
        impl_->ensure_master();
        auto replies = impl_->node->pipeline(commands, deadline);
        if (impl_->sentinel)
            for (const auto& r : replies)
                impl_->watch(r);
        return replies;
    }
    impl_->router->write(commands, deadline);
    std::vector<reply> replies;
    replies.reserve(commands.count());
    for (std::size_t i = 0; i < commands.count(); ++i)
        replies.push_back(impl_->router->read(deadline));
    return replies;
}

reply connection::execute(std::initializer_list<std::string_view> argv, clock::time_point deadline) {
    if (impl_->node) {
        impl_->ensure_master();
        reply r = impl_->node->execute(argv, deadline);
        impl_->watch(r);
        return r;
    }
    command_buffer one;
    one.add(argv);
    impl_->router->write(one, deadline);
    return impl_->router->read(deadline);
}

void connection::write(const command_buffer& commands, clock::time_point deadline) {
    if (impl_->node) {
        impl_->ensure_master();
        impl_->node->write(commands, deadline);
    } else {
        impl_->router->write(commands, deadline);
    }
}

reply connection::read(clock::time_point deadline) {
    if (impl_->node) {
        reply r = impl_->node->read(deadline);
        impl_->watch(r);
        return r;
    }
    return impl_->router->read(deadline);
}

bool connection::broken() const noexcept {
    if (impl_->node)
        return impl_->role_lost || impl_->node->broken();
    return impl_->router->broken();
}

long long connection::client_id() const noexcept {
    return impl_->node ? impl_->node->client_id() : 0;
}

const std::string& connection::address() const noexcept {
    return impl_->address;
}

} // namespace redisrpc::detail
