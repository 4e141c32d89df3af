#pragma once
/// @file
/// The error hierarchy: every error the library throws derives from redisrpc::error.

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace redisrpc {

/// Root of every exception thrown by redisrpc.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Redis could not be reached, the connection broke, or Redis refused the handshake.
/// The message names the address that failed (never the password).
class connection_error : public error {
public:
    using error::error;
};

/// The client was asked to fail fast (client_options::fail_fast_without_server) and no server
/// of the service had a live heartbeat key: the request was not sent.
class no_live_server_error : public connection_error {
public:
    using connection_error::connection_error;
};

/// A call did not end within its deadline.
class timeout_error : public error {
public:
    /// @param what             the error message.
    /// @param executed_unknown false when the request was withdrawn before any server took it
    ///        (so it was certainly not executed); true when a server may have run it.
    timeout_error(const std::string& what, bool executed_unknown)
        : error(what), executed_unknown_(executed_unknown) {}
    /// True when a server took the request, so it may or may not have run.
    [[nodiscard]] bool outcome_unknown() const noexcept { return executed_unknown_; }

private:
    bool executed_unknown_;
};

/// Machine-readable error categories, shared by all dialects (JSON-RPC codes map onto them).
enum class error_code {
    none = 0,
    parse_error,       ///< the message was not valid JSON / MessagePack
    invalid_request,   ///< valid encoding, but not a request of the dialect
    method_not_found,  ///< no method bound under that exact name
    invalid_params,    ///< wrong arity or argument types
    internal_error,    ///< server-side failure outside the handler
    handler_error,     ///< the bound function threw
    expired,           ///< the request's deadline passed before it started
};

/// The peer answered with an error (the method threw, did not exist, or rejected its arguments).
class remote_error : public error {
public:
    /// @param text the peer's error message.
    /// @param code the category of the error.
    /// @param data extra data the peer attached, or null.
    remote_error(const std::string& text, error_code code = error_code::handler_error,
                 nlohmann::json data = nullptr)
        : error(text), code_(code), data_(std::move(data)) {}
    /// The peer's error text, exactly as it sent it.
    [[nodiscard]] const char* text() const noexcept { return what(); }
    /// The category of the error, as the peer reported it (mapped onto error_code).
    [[nodiscard]] error_code code() const noexcept { return code_; }
    /// Extra data the peer attached (JSON-RPC `error.data`), or null.
    [[nodiscard]] const nlohmann::json& data() const noexcept { return data_; }

private:
    error_code code_;
    nlohmann::json data_;
};

/// A message could not be understood (malformed response, unknown encoding, limits exceeded).
class protocol_error : public error {
public:
    using error::error;
};

/// Arguments did not fit the bound function, e.g. "add: argument 1: expected number, got string".
/// Thrown by the dispatcher; the server turns it into an invalid-params error response.
class argument_error : public error {
public:
    using error::error;
};

/// The library was used incorrectly (bad URL, bad option, binding the same name twice...).
class usage_error : public error {
public:
    using error::error;
};

} // namespace redisrpc
