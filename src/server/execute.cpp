#include "server/execute.hpp"

#include <chrono>
#include <exception>
#include <string>

namespace redisrpc::detail {

call_outcome execute_call(const dispatcher& methods, const call_request& call, call_counters& counters) {
    if (call.deadline_ms && unix_now_ms() > *call.deadline_ms) {
        // The caller has given up already; running the call would only produce an unread reply
        // (and, for non-idempotent methods, an effect nobody asked for any more).
        counters.expired.fetch_add(1, std::memory_order_relaxed);
        return call_outcome::failure(error_code::expired,
                                     call.method + ": deadline passed before the call started");
    }
    counters.calls.fetch_add(1, std::memory_order_relaxed);
    auto fail = [&](error_code code, std::string text) {
        counters.errors.fetch_add(1, std::memory_order_relaxed);
        return call_outcome::failure(code, std::move(text));
    };
    try {
        return call_outcome::success(methods.invoke(call.method, call.args, call.kwargs));
    } catch (const unknown_method_error& e) {
        return fail(error_code::method_not_found, e.what());
    } catch (const argument_error& e) {
        return fail(error_code::invalid_params, e.what());
    } catch (const std::exception& e) {
        return fail(error_code::handler_error, describe_exception(e));
    } catch (...) {
        return fail(error_code::handler_error, describe_current_exception());
    }
}

} // namespace redisrpc::detail
