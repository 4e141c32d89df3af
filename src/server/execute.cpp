#include "server/execute.hpp"

#include <chrono>
#include <exception>
#include <string>

namespace redisrpc::detail {

call_outcome execute_call(const dispatcher& methods, const call_request& call, call_counters& totals,
                          method_stats& per_method) {
    method_counters& mine = per_method.of(call.method);
    if (call.deadline_ms && unix_now_ms() > *call.deadline_ms) {
        // The caller has given up already; running the call would only produce an unread reply
        // (and, for non-idempotent methods, an effect nobody asked for any more).
        totals.expired.fetch_add(1, std::memory_order_relaxed);
        mine.expired.fetch_add(1, std::memory_order_relaxed);
        return call_outcome::failure(error_code::expired,
                                     call.method + ": deadline passed before the call started");
    }
    totals.calls.fetch_add(1, std::memory_order_relaxed);
    mine.calls.fetch_add(1, std::memory_order_relaxed);
    const auto started = std::chrono::steady_clock::now();
    auto fail = [&](error_code code, std::string text) {
        totals.errors.fetch_add(1, std::memory_order_relaxed);
        mine.errors.fetch_add(1, std::memory_order_relaxed);
        mine.latency.record(std::chrono::steady_clock::now() - started);
        return call_outcome::failure(code, std::move(text));
    };
    try {
        auto result = call_outcome::success(methods.invoke(call.method, call.args, call.kwargs));
        mine.latency.record(std::chrono::steady_clock::now() - started);
        return result;
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
