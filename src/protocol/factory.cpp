#include "protocol/factory.hpp"

#include "protocol/classic.hpp"

namespace redisrpc::detail {

std::unique_ptr<server_codec> make_server_codec(dialect d, const std::string& name, const server_options& options) {
    switch (d) {
    case dialect::classic:
        return std::make_unique<classic_server_codec>(
            name, options.limits, options.reply_ttl,
            reply_policy{options.reply_policy.allow_any, options.reply_policy.prefix});
    case dialect::codility:
    case dialect::jsonrpc:
        break;
    }
    throw usage_error("this dialect is not available yet");
}

std::unique_ptr<client_codec> make_client_codec(dialect d, const std::string& name, const client_options& options) {
    switch (d) {
    case dialect::classic:
        return std::make_unique<classic_client_codec>(name, options.limits);
    case dialect::codility:
    case dialect::jsonrpc:
        break;
    }
    throw usage_error("this dialect is not available yet");
}

} // namespace redisrpc::detail
