#pragma once
/// @file
/// The client: call remote methods as if they were local.

#include <redisrpc/convert.hpp>
#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace redisrpc {

/// Keyword arguments of a call: `calc.call<double>("div", kw{{"a", 1}, {"b", 4}})`.
class kw {
public:
    kw() = default;
    /// Name/value pairs: `kw{{"a", 1}, {"b", 4}}`; a repeated name keeps the last value.
    kw(std::initializer_list<std::pair<const std::string, nlohmann::json>> items) {
        for (const auto& [k, v] : items) object_[k] = v;
    }
    /// Takes the arguments from a JSON object. @throws usage_error if `object` is not an object.
    explicit kw(nlohmann::json object) : object_(std::move(object)) {
        if (!object_.is_object()) throw usage_error("kw: keyword arguments must be a JSON object");
    }
    /// The arguments as a JSON object (name -> value).
    [[nodiscard]] const nlohmann::json& object() const noexcept { return object_; }

private:
    nlohmann::json object_ = nlohmann::json::object();
};

/// Settings of one call that override the client's defaults.
struct call_options {
    std::optional<std::chrono::milliseconds> timeout; ///< deadline of this call
};

/// What an async call delivers to its callback: a value, or the error it ended with.
struct call_result {
    nlohmann::json value;     ///< the result on success (null for void methods and on error)
    std::exception_ptr error; ///< null on success; else remote_error, timeout_error, ...

    /// True when the call succeeded (no error).
    [[nodiscard]] bool ok() const noexcept { return !error; }
    /// The value, or rethrows the error.
    const nlohmann::json& get() const {
        if (error) std::rethrow_exception(error);
        return value;
    }
};

template <class Signature>
class method_proxy;

/// A client of one service (a request queue, or a prefix for the codility dialect).
/// Thread-safe: one client may be shared by many threads; calls travel over a small fixed
/// number of connections.
class client {
public:
    /// Connections are opened on first use, not here.
    /// @param url   see parse_url(); an empty string means default_url() (REDIS_URL).
    /// @param queue the service's request list (classic, JSON-RPC) or key prefix (codility).
    /// @param options dialect, encoding, default timeout and other client settings.
    /// @throws usage_error for a malformed URL or an empty `queue`.
    client(std::string_view url, std::string queue, client_options options = {});
    /// As the URL form, with the connection settings given directly.
    /// @throws usage_error for an empty `queue`.
    client(connection_options connection, std::string queue, client_options options = {});
    ~client();
    /// Moves the client; the moved-from object may only be destroyed or assigned to.
    client(client&&) noexcept;
    /// Move assignment; the moved-from object may only be destroyed or assigned to.
    client& operator=(client&&) noexcept;
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// Calls `method` with positional arguments (and at most one redisrpc::kw) and converts the
    /// result to R. @throws remote_error, timeout_error, connection_error, argument_error (when
    /// the result does not convert to R).
    template <class R = nlohmann::json, class... Args>
    R call(std::string_view method, Args&&... args) {
        auto [a, k] = pack(std::forward<Args>(args)...);
        return convert_result<R>(method, call_json(method, std::move(a), std::move(k)));
    }

    /// The dynamic form: arguments and result as JSON.
    nlohmann::json call_json(std::string_view method, nlohmann::json args = nlohmann::json::array(),
                             nlohmann::json kwargs = nlohmann::json::object(), call_options options = {});

    /// Starts a call and returns at once; the future holds the converted result or the error.
    template <class R = nlohmann::json, class... Args>
    std::future<R> async_call(std::string_view method, Args&&... args) {
        auto promise = std::make_shared<std::promise<R>>();
        auto future = promise->get_future();
        auto [a, k] = pack(std::forward<Args>(args)...);
        std::string name{method};
        async_call_json(method, std::move(a), std::move(k), [promise, name](call_result r) {
            try {
                if constexpr (std::is_void_v<R>) {
                    r.get();
                    promise->set_value();
                } else {
                    promise->set_value(convert_result<R>(name, r.get()));
                }
            } catch (...) {
                promise->set_exception(std::current_exception());
            }
        });
        return future;
    }

    /// Starts a call; `callback` runs exactly once, on a client thread, with the outcome.
    /// Keep callbacks short: they run on the thread that receives replies. A callback may start
    /// new calls: that thread sends them ahead of its next pop, and they never wait for a free
    /// in-flight slot (waiting there would stall the thread that frees the slots).
    void async_call_json(std::string_view method, nlohmann::json args, nlohmann::json kwargs,
                         std::function<void(call_result)> callback, call_options options = {});

    /// A typed callable for one remote method: `auto add = calc.method<double(double)>("add");`
    template <class Signature>
    [[nodiscard]] method_proxy<Signature> method(std::string name) {
        return method_proxy<Signature>(*this, std::move(name));
    }

    /// The request queue (or prefix) this client calls.
    [[nodiscard]] const std::string& queue() const noexcept;
    /// The options this client was constructed with.
    [[nodiscard]] const client_options& options() const noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;

    template <class R>
    static R convert_result(std::string_view method, const nlohmann::json& j) {
        if constexpr (std::is_void_v<R>) {
            (void)method;
            (void)j;
        } else if constexpr (std::is_same_v<R, nlohmann::json>) {
            (void)method;
            return j;
        } else {
            try {
                return from_json_checked<R>(j);
            } catch (const argument_error& e) {
                throw argument_error(std::string(method) + ": result: " + e.what());
            }
        }
    }

    template <class... Args>
    static std::pair<nlohmann::json, nlohmann::json> pack(Args&&... args) {
        std::pair<nlohmann::json, nlohmann::json> out{nlohmann::json::array(), nlohmann::json::object()};
        (add_argument(out, std::forward<Args>(args)), ...);
        return out;
    }
    template <class T>
    static void add_argument(std::pair<nlohmann::json, nlohmann::json>& out, T&& v) {
        if constexpr (std::is_same_v<std::remove_cvref_t<T>, kw>) {
            for (const auto& [k, val] : v.object().items()) out.second[k] = val;
        } else {
            out.first.push_back(to_json_value(std::forward<T>(v)));
        }
    }
};

/// A typed stand-in for one remote method, made by client::method().
template <class R, class... A>
class method_proxy<R(A...)> {
public:
    /// Refers to method `name` of `c`, which must outlive the proxy.
    method_proxy(client& c, std::string name) : client_(&c), name_(std::move(name)) {}
    /// Calls the method, as client::call<R>().
    R operator()(A... args) const { return client_->call<R>(name_, std::forward<A>(args)...); }
    /// Starts a call, as client::async_call<R>().
    std::future<R> async(A... args) const { return client_->async_call<R>(name_, std::forward<A>(args)...); }
    /// The remote method's name.
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    client* client_;
    std::string name_;
};

} // namespace redisrpc
