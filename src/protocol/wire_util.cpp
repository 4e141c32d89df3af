#include "protocol/wire_util.hpp"

#include <exception>
#include <limits>
#include <utility>

namespace redisrpc::detail {

std::string_view error_code_name(error_code code) noexcept {
    switch (code) {
    case error_code::none: return "none";
    case error_code::parse_error: return "parse_error";
    case error_code::invalid_request: return "invalid_request";
    case error_code::method_not_found: return "method_not_found";
    case error_code::invalid_params: return "invalid_params";
    case error_code::internal_error: return "internal_error";
    case error_code::handler_error: return "handler_error";
    case error_code::expired: return "expired";
    }
    return "internal_error";
}

std::optional<error_code> error_code_from_name(std::string_view name) noexcept {
    for (const auto code : {error_code::none, error_code::parse_error, error_code::invalid_request,
                            error_code::method_not_found, error_code::invalid_params,
                            error_code::internal_error, error_code::handler_error, error_code::expired}) {
        if (error_code_name(code) == name) return code;
    }
    return std::nullopt;
}

error_code error_code_member(const json::object_t& reply) {
    if (const auto c = reply.find("error_code"); c != reply.end() && c->second.is_string()) {
        const auto known = error_code_from_name(*c->second.get_ptr<const json::string_t*>());
        if (known && *known != error_code::none) return *known;
    }
    return error_code::handler_error;
}

bool has_control_chars(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) return true;
        if (c == 0xC2 && i + 1 < s.size()) { // C1 controls U+0080..U+009F
            const auto d = static_cast<unsigned char>(s[i + 1]);
            if (d >= 0x80 && d <= 0x9F) return true;
        }
    }
    return false;
}

bool parse_index(std::string_view key, std::size_t& index) noexcept {
    if (key.empty() || key.size() > 9 || (key.size() > 1 && key[0] == '0')) return false;
    std::size_t v = 0;
    for (const char c : key) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    index = v;
    return true;
}

std::string wire_text(const std::string& text) {
    return is_valid_utf8(text) ? text : printable(text, std::numeric_limits<std::size_t>::max());
}

std::string take_text(json& value) {
    return value.is_string() ? std::move(*value.get_ptr<json::string_t*>()) : value.dump();
}

std::optional<std::int64_t> deadline_ms_value(const json& member) {
    if (!member.is_number_integer() ||
        (member.is_number_unsigned() &&
         member.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
        return std::nullopt;
    }
    return member.get<std::int64_t>();
}

std::optional<std::string> decode_request_body(std::string_view bytes, const message_limits& limits, json& doc,
                                               encoding& enc) {
    try {
        encoding detected = encoding::json;
        doc = decode_body(bytes, limits, detected);
        enc = detected;
    } catch (const protocol_error& ex) {
        return std::string(ex.what());
    }
    return std::nullopt;
}

json decode_reply_body(std::string_view bytes, const message_limits& limits, std::string_view what) {
    encoding enc = encoding::json;
    try {
        return decode_body_lenient_nan(bytes, limits, enc);
    } catch (const protocol_error& ex) {
        throw protocol_error(std::string(what) + ": " + ex.what());
    }
}

void check_call_arguments(const call_request& call) {
    if (!call.args.is_null() && !call.args.is_array()) throw usage_error("call arguments must be a JSON array");
    if (!call.kwargs.is_null() && !call.kwargs.is_object()) {
        throw usage_error("keyword arguments must be a JSON object");
    }
}

void mark_rejected(decoded_job& job, error_code code, std::string reason) {
    job.calls.clear();
    job.problem = reason; // the caller adds whether it was answered (reply_key set) or dropped
    job.rejected = call_outcome::failure(code, std::move(reason));
}

std::string decode_failure_reason() {
    // Out of memory or a bug: the codec still answers (or drops) instead of throwing.
    try {
        throw;
    } catch (const std::exception& ex) {
        return std::string("internal error while decoding: ") + ex.what();
    } catch (...) {
        return "internal error while decoding";
    }
}

const call_outcome* single_outcome(const decoded_job& job, std::span<const call_outcome> outcomes) noexcept {
    return !outcomes.empty() ? &outcomes.front() : job.rejected ? &*job.rejected : nullptr;
}

} // namespace redisrpc::detail
