#include "common.hpp"

#include "args.hpp"

#include <redisrpc/error.hpp>

#include <iostream>

namespace redisrpc::cli {

std::string_view dialect_name(dialect d) noexcept {
    switch (d) {
    case dialect::classic:
        return "classic";
    case dialect::codility:
        return "codility";
    case dialect::jsonrpc:
        return "jsonrpc";
    }
    return "unknown";
}

std::string_view error_code_name(error_code c) noexcept {
    switch (c) {
    case error_code::none:
        return "none";
    case error_code::parse_error:
        return "parse_error";
    case error_code::invalid_request:
        return "invalid_request";
    case error_code::method_not_found:
        return "method_not_found";
    case error_code::invalid_params:
        return "invalid_params";
    case error_code::internal_error:
        return "internal_error";
    case error_code::handler_error:
        return "handler_error";
    case error_code::expired:
        return "expired";
    }
    return "unknown";
}

failure classify(std::exception_ptr error) {
    failure f;
    try {
        std::rethrow_exception(std::move(error));
    } catch (const remote_error& e) {
        f = {.exit = exit_remote_error,
             .code = std::string(error_code_name(e.code())),
             .message = e.what(),
             .extra = nlohmann::ordered_json::object()};
        if (!e.data().is_null())
            f.extra["data"] = e.data();
    } catch (const timeout_error& e) {
        f = {.exit = exit_timeout,
             .code = "timeout",
             .message = e.what(),
             .extra = nlohmann::ordered_json::object()};
        f.extra["outcome_unknown"] = e.outcome_unknown();
    } catch (const connection_error& e) {
        f = {.exit = exit_connection,
             .code = "connection_error",
             .message = e.what(),
             .extra = nlohmann::ordered_json::object()};
    } catch (const protocol_error& e) {
        f = {.exit = exit_protocol,
             .code = "protocol_error",
             .message = e.what(),
             .extra = nlohmann::ordered_json::object()};
    } catch (const usage_error& e) {
        f = {.exit = exit_usage,
             .code = "usage_error",
             .message = e.what(),
             .extra = nlohmann::ordered_json::object()};
    } catch (const argument_error& e) {
        f = {.exit = exit_protocol,
             .code = "argument_error",
             .message = e.what(),
             .extra = nlohmann::ordered_json::object()};
    } catch (const std::exception& e) {
        f = {.exit = exit_remote_error,
             .code = "error",
             .message = e.what(),
             .extra = nlohmann::ordered_json::object()};
    } catch (...) {
        f = {.exit = exit_remote_error,
             .code = "error",
             .message = "unknown failure",
             .extra = nlohmann::ordered_json::object()};
    }
    return f;
}

int report_failure(const global_options& global, const failure& f) {
    if (global.json) {
        nlohmann::ordered_json out = {
            {"ok", false}, {"error", f.message}, {"code", f.code}, {"exit_code", f.exit}};
        for (const auto& [k, v] : f.extra.items())
            out[k] = v;
        std::cout << to_text(out) << std::endl;
    } else {
        std::cerr << "(error) " << f.message;
        if (f.exit == exit_remote_error && f.code != "handler_error" && f.code != "error")
            std::cerr << " [" << f.code << "]";
        std::cerr << std::endl;
    }
    return f.exit;
}

std::string to_text(const nlohmann::json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string to_text(const nlohmann::ordered_json& j, int indent) {
    return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

CLI::Option* add_queue_argument(CLI::App& sub, std::string& queue) {
    return sub.add_option("queue", queue, "request list (classic, jsonrpc) or key prefix (codility)")
        ->required();
}

CLI::Validator duration_validator() {
    return CLI::Validator(
        [](std::string& text) -> std::string {
            if (parse_duration(text))
                return {};
            return "'" + text + "' is not a duration (e.g. 500ms, 2s, 1.5s, 1m; a bare number is seconds)";
        },
        "DURATION");
}

client_options make_client_options(const global_options& global) {
    client_options o;
    o.dialect = global.wire;
    o.timeout = global.timeout;
    o.shards = global.shards;
    return o;
}

} // namespace redisrpc::cli
