#include "protocol/factory.hpp"

#include "protocol/classic.hpp"
#include "protocol/codility.hpp"
#include "protocol/jsonrpc.hpp"

namespace redisrpc::detail {

std::unique_ptr<server_codec> make_server_codec(dialect d, const std::string& name, const server_options& options) {
    switch (d) {
    case dialect::classic:
        return std::make_unique<classic_server_codec>(
            name, options.limits, options.reply_ttl,
            reply_policy{options.reply_policy.allow_any, options.reply_policy.prefix});
    case dialect::codility:
        // Result lists always expire after 120 s (the protocol's value, not reply_ttl); the
        // heartbeat key takes server_kind / server_id from the server at run().
        return std::make_unique<codility_server_codec>(name, options.limits);
    case dialect::jsonrpc:
        return std::make_unique<jsonrpc_server_codec>(
            name, options.limits, options.reply_ttl,
            reply_policy{options.reply_policy.allow_any, options.reply_policy.prefix});
    }
    throw usage_error("unknown dialect");
}

std::unique_ptr<client_codec> make_client_codec(dialect d, const std::string& name, const client_options& options) {
    switch (d) {
    case dialect::classic:
        return std::make_unique<classic_client_codec>(name, options.limits);
    case dialect::codility:
        return std::make_unique<codility_client_codec>(name, options.limits);
    case dialect::jsonrpc:
        return std::make_unique<jsonrpc_client_codec>(name, options.limits);
    }
    throw usage_error("unknown dialect");
}

} // namespace redisrpc::detail
