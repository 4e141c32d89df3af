#pragma once
// Picks the codec of a dialect. The only place that knows every dialect.

#include "protocol/codec.hpp"

#include <redisrpc/options.hpp>

#include <memory>
#include <string>

namespace redisrpc::detail {

/// @param name the request queue (classic, JSON-RPC) or key prefix (codility).
std::unique_ptr<server_codec> make_server_codec(dialect d, const std::string& name, const server_options& options);
std::unique_ptr<client_codec> make_client_codec(dialect d, const std::string& name, const client_options& options);

} // namespace redisrpc::detail
