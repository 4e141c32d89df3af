#pragma once
// redisrpc itself, through its public API only: a redisrpc::server in the peer process serving
// add(x) = x + 1, and a redisrpc::client here.

#include "common.hpp"

#include <redisrpc/client.hpp>

#include <functional>
#include <string>

namespace bench {

/// call<double>("add", 5) in a loop.
result rpc_sequential(const settings& s, redisrpc::client& c);
/// async_call<double>: a window of K outstanding futures, refilled as the oldest completes.
result rpc_futures(const settings& s, redisrpc::client& c, std::size_t k);
/// async_call_json with callbacks: K calls kept in flight, the main thread refills the window.
result rpc_callbacks(const settings& s, redisrpc::client& c, std::size_t k);
/// async_call_json with callbacks: K chains, each callback starts its chain's next call.
result rpc_chained(const settings& s, redisrpc::client& c, std::size_t k);
/// `calls` calls over K chains (fixed-count mode). Returns the number of failed calls.
std::uint64_t rpc_fixed_chained(redisrpc::client& c, std::uint64_t calls, std::size_t k);

/// Runs `calls` calls with a window of `k` callbacks; `progress(done)` is called from the main
/// thread about every calls/10 completions. Returns the number of failed calls.
std::uint64_t rpc_fixed_calls(redisrpc::client& c, std::uint64_t calls, std::size_t k,
                              std::chrono::seconds max_time, const std::function<void(std::uint64_t)>& progress);

/// Peer role: a redisrpc::server until SIGTERM.
int rpc_server(const settings& s, const std::string& queue);

} // namespace bench
