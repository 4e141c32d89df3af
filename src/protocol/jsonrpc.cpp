#include "protocol/jsonrpc.hpp"

#include "protocol/body.hpp"
#include "protocol/wire_util.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

namespace redisrpc::detail {

namespace {

// The first byte of a body, never of a reply list name: `{`, `[`, JSON whitespace, or a
// MessagePack map/array marker (0x80-0x9f, 0xdc-0xdf; this covers pickle's 0x80 as well).
bool starts_like_body(char first) noexcept {
    const auto c = static_cast<unsigned char>(first);
    return c == '{' || c == '[' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || (c >= 0x80 && c <= 0x9F) ||
           (c >= 0xDC && c <= 0xDF);
}

std::string_view standard_message(error_code code) noexcept {
    switch (code) {
    case error_code::parse_error: return "Parse error";
    case error_code::invalid_request: return "Invalid Request";
    case error_code::method_not_found: return "Method not found";
    case error_code::invalid_params: return "Invalid params";
    case error_code::internal_error: return "Internal error";
    case error_code::expired: return "Deadline expired";
    case error_code::none:
    case error_code::handler_error: break;
    }
    return "Server error";
}

// One response object: {"jsonrpc":"2.0","result":V,"id":ID} or
// {"jsonrpc":"2.0","error":{"code":C,"message":M[,"data":D]},"id":ID}.
void write_response(std::string& out, const json& id, const call_outcome& o, encoding enc) {
    map_writer w(out, enc);
    w.begin(3);
    w.key("jsonrpc");
    w.text("2.0");
    if (o.ok) {
        w.key("result");
        w.value(o.value);
    } else {
        w.key("error");
        map_writer e(out, enc);
        const bool with_data = !o.data.is_null();
        e.begin(with_data ? 3U : 2U);
        e.key("code");
        e.value(json(jsonrpc_error_code(o.code)));
        e.key("message");
        e.value(json(o.message.empty() ? std::string(standard_message(o.code)) : wire_text(o.message)));
        if (with_data) {
            e.key("data");
            e.value(o.data);
        }
        e.end();
    }
    w.key("id");
    w.value(id);
    w.end();
}

// Never throws protocol_error: a result that cannot be encoded becomes an internal error.
std::string response_bytes(const json& id, const call_outcome& o, encoding enc) {
    return encode_or_internal_error(
        [&](const call_outcome& outcome) {
            std::string out;
            write_response(out, id, outcome, enc);
            return out;
        },
        o);
}

void append_array_header(std::string& out, std::size_t n) {
    if (n < 16) {
        out += static_cast<char>(0x90U | n);
    } else if (n <= 0xFFFF) {
        out += static_cast<char>(0xDC);
        out += static_cast<char>((n >> 8) & 0xFFU);
        out += static_cast<char>(n & 0xFFU);
    } else {
        out += static_cast<char>(0xDD);
        for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFFU);
    }
}

bool valid_id(const json& id) noexcept { return id.is_string() || id.is_number() || id.is_null(); }

// Validates one request object and fills `call`. On failure returns the error and its reason;
// `id` is set whenever the entry had a usable one (so the error can echo it).
struct entry_check {
    std::optional<error_code> code; // empty: valid
    std::string reason;
};

entry_check check_entry(json& entry, call_request& call, json& id) {
    auto bad = [](std::string reason) { return entry_check{error_code::invalid_request, std::move(reason)}; };
    if (!entry.is_object()) return bad(std::string("request is not an object but ") + entry.type_name());
    auto& object = *entry.get_ptr<json::object_t*>();
    const auto end = object.end();

    // The id first, so every later problem can echo it.
    const auto id_it = object.find("id");
    call.wants_reply = id_it != end;
    if (id_it != end) {
        if (!valid_id(id_it->second)) return bad("id must be a string, a number or null");
        id = id_it->second;
        call.id = std::move(id_it->second);
    }
    const auto version = object.find("jsonrpc");
    if (version == end) return bad("jsonrpc is missing");
    if (version->second != "2.0") return bad("jsonrpc must be \"2.0\", got " + printable(version->second.dump(), 32));

    const auto method = object.find("method");
    if (method == end) return bad("method is missing");
    if (!method->second.is_string()) return bad(std::string("method is not a string but ") + method->second.type_name());
    call.method = std::move(*method->second.get_ptr<json::string_t*>());

    if (const auto params = object.find("params"); params != end) {
        if (params->second.is_array()) {
            call.args = std::move(params->second);
        } else if (params->second.is_object()) {
            call.kwargs = std::move(params->second);
        } else {
            return bad(std::string("params must be an array or an object, got ") + params->second.type_name());
        }
    }
    if (const auto it = object.find("deadline_ms"); it != end && !it->second.is_null()) { // extension
        call.deadline_ms = deadline_ms_value(it->second);
        if (!call.deadline_ms) return bad(bad_deadline_ms);
    }
    // Reserved by the specification: never dispatched, whatever is bound.
    if (call.method.starts_with("rpc.")) {
        return entry_check{error_code::method_not_found,
                           "method \"" + printable(call.method, 100) + "\" is reserved (rpc. prefix)"};
    }
    return {};
}

} // namespace

std::int64_t jsonrpc_error_code(error_code code) noexcept {
    switch (code) {
    case error_code::parse_error: return -32700;
    case error_code::invalid_request: return -32600;
    case error_code::method_not_found: return -32601;
    case error_code::invalid_params: return -32602;
    case error_code::internal_error: return -32603;
    case error_code::expired: return -32001;
    case error_code::none:
    case error_code::handler_error: break;
    }
    return -32000;
}

error_code error_code_from_jsonrpc(std::int64_t code) noexcept {
    switch (code) {
    case -32700: return error_code::parse_error;
    case -32600: return error_code::invalid_request;
    case -32601: return error_code::method_not_found;
    case -32602: return error_code::invalid_params;
    case -32603: return error_code::internal_error;
    case -32001: return error_code::expired;
    default: return error_code::handler_error;
    }
}

// -------------------------------------------------------------------------------------------------
// server

jsonrpc_server_codec::jsonrpc_server_codec(std::string queue, message_limits limits, std::chrono::seconds reply_ttl,
                                           reply_policy policy, std::size_t max_batch)
    : queue_(std::move(queue)), limits_(limits), reply_ttl_(reply_ttl), policy_(std::move(policy)),
      prefix_(policy_.prefix.empty() ? queue_ + ":rpc:" : policy_.prefix), max_batch_(max_batch) {}

std::string jsonrpc_server_codec::heartbeat_key(std::string_view /*server_kind*/, std::string_view server_id) const {
    // Outside the reply namespace "<queue>:rpc:", like the classic dialect's.
    return queue_ + ":server:" + std::string(server_id) + ":alive";
}

std::vector<std::string> jsonrpc_server_codec::queues(std::span<const std::string> /*methods*/) const {
    return {queue_};
}

bool jsonrpc_server_codec::reply_key_allowed(std::string_view key) const noexcept {
    // Never the request queue: we would push a reply into it and put a TTL on it.
    if (key.empty() || key == queue_ || key.size() > jsonrpc_max_reply_key) return false;
    if (!is_valid_utf8(key) || has_control_chars(key)) return false;
    if (policy_.allow_any) return true;
    return key.size() > prefix_.size() && key.starts_with(prefix_);
}

decoded_job jsonrpc_server_codec::decode(std::string_view /*source_key*/, std::string_view bytes) const {
    decoded_job job;
    // A rejection of the whole message: one error response (id null unless given).
    auto reject = [&job](error_code code, std::string reason, json id = nullptr) {
        job.entry_errors.clear();
        job.batch = false;
        mark_rejected(job, code, std::move(reason));
        job.entry_errors.push_back(entry_error{0, std::move(id), *job.rejected});
        return std::move(job);
    };
    std::string unanswered; // appended to `problem` when there is no reply address

    try {
        // <reply list> "\n" <body>, unless the message starts like a body.
        std::string_view body = bytes;
        if (!bytes.empty() && !starts_like_body(bytes.front())) {
            const auto newline = bytes.substr(0, jsonrpc_max_reply_key + 1).find('\n');
            if (newline != std::string_view::npos) {
                const std::string_view name = bytes.substr(0, newline);
                body = bytes.substr(newline + 1);
                if (!reply_key_allowed(name)) {
                    // Never answered (we push to allowed lists only) and not run either: a
                    // message with a foreign reply address is not one of our callers'.
                    auto dropped = reject(error_code::invalid_request,
                                          "reply list \"" + printable(name, 100) + "\" is not allowed" +
                                              (policy_.allow_any ? std::string()
                                                                 : " (must start with \"" + printable(prefix_, 100) + "\")"));
                    dropped.reply_key.clear();
                    return dropped;
                }
                job.reply_key = std::string(name);
            }
        }
        if (job.reply_key.empty()) unanswered = "no reply address (expected \"<reply list>\\n\" before the body)";

        json doc;
        if (auto problem = decode_request_body(body, limits_, doc, job.enc)) {
            return reject(error_code::parse_error, std::move(*problem));
        }

        if (doc.is_array()) {
            auto& entries = *doc.get_ptr<json::array_t*>();
            if (entries.empty()) return reject(error_code::invalid_request, "empty batch");
            if (entries.size() > max_batch_) {
                return reject(error_code::invalid_request, "batch of " + std::to_string(entries.size()) +
                                                               " entries exceeds the limit of " +
                                                               std::to_string(max_batch_));
            }
            job.batch = true;
            std::size_t ignored = 0;
            std::string first_reason;
            for (auto& entry : entries) {
                call_request call;
                json id;
                auto check = check_entry(entry, call, id);
                if (!check.code) {
                    job.calls.push_back(std::move(call));
                } else if (*check.code == error_code::method_not_found && !call.wants_reply) {
                    ++ignored; // a notification of a reserved name: not run, not answered
                    if (first_reason.empty()) first_reason = check.reason;
                } else {
                    if (first_reason.empty()) first_reason = check.reason;
                    // index = position among the answered/run entries, so encode can interleave.
                    const std::size_t index = job.calls.size() + job.entry_errors.size();
                    job.entry_errors.push_back(
                        entry_error{index, std::move(id), call_outcome::failure(*check.code, std::move(check.reason))});
                }
            }
            const std::size_t bad = job.entry_errors.size() + ignored;
            if (bad > 0) {
                job.problem = "batch: " + std::to_string(bad) + " of " + std::to_string(entries.size()) +
                              " entries refused, first: " + first_reason;
            }
            if (job.calls.empty() && !job.entry_errors.empty()) {
                job.rejected = call_outcome::failure(error_code::invalid_request, job.problem);
            }
        } else {
            call_request call;
            json id;
            auto check = check_entry(doc, call, id);
            if (!check.code) {
                job.calls.push_back(std::move(call));
            } else if (*check.code == error_code::method_not_found && !call.wants_reply) {
                job.problem = "notification ignored: " + check.reason; // no reply, nothing run
            } else {
                return reject(*check.code, std::move(check.reason), std::move(id));
            }
        }
        if (!unanswered.empty()) job.problem = job.problem.empty() ? unanswered : job.problem + "; " + unanswered;
        return job;
    } catch (...) {
        return reject(error_code::internal_error, decode_failure_reason());
    }
}

std::vector<outgoing_reply> jsonrpc_server_codec::encode(const decoded_job& job,
                                                         std::span<const call_outcome> outcomes) const {
    std::vector<outgoing_reply> replies;
    if (job.reply_key.empty()) return replies;

    std::vector<std::string> parts;
    const call_outcome missing = call_outcome::failure(error_code::internal_error, "no outcome for this call");
    auto add_call = [&](std::size_t i) {
        const auto& call = job.calls[i];
        if (!call.wants_reply) return; // notification
        parts.push_back(response_bytes(call.id, i < outcomes.size() ? outcomes[i] : missing, job.enc));
    };
    auto add_error = [&](const entry_error& e) { parts.push_back(response_bytes(e.id, e.error, job.enc)); };

    if (!job.batch) {
        if (!job.calls.empty()) {
            add_call(0);
        } else if (!job.entry_errors.empty()) {
            add_error(job.entry_errors.front());
        } else if (job.rejected) {
            parts.push_back(response_bytes(nullptr, *job.rejected, job.enc));
        }
        if (parts.empty()) return replies;
        replies.push_back(outgoing_reply{job.reply_key, std::move(parts.front()), reply_ttl_});
        return replies;
    }

    // Batch: responses in request order, entry errors interleaved at their positions.
    std::size_t c = 0;
    std::size_t e = 0;
    const std::size_t total = job.calls.size() + job.entry_errors.size();
    for (std::size_t slot = 0; slot < total; ++slot) {
        if (e < job.entry_errors.size() && (job.entry_errors[e].index == slot || c >= job.calls.size())) {
            add_error(job.entry_errors[e++]);
        } else if (c < job.calls.size()) {
            add_call(c++);
        }
    }
    if (parts.empty()) return replies; // all notifications: no reply at all

    std::string payload;
    std::size_t size = 2;
    for (const auto& p : parts) size += p.size() + 1;
    payload.reserve(size);
    if (job.enc == encoding::msgpack) {
        append_array_header(payload, parts.size());
        for (const auto& p : parts) payload += p;
    } else {
        payload += '[';
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (i > 0) payload += ',';
            payload += parts[i];
        }
        payload += ']';
    }
    replies.push_back(outgoing_reply{job.reply_key, std::move(payload), reply_ttl_});
    return replies;
}

// -------------------------------------------------------------------------------------------------
// client

jsonrpc_client_codec::jsonrpc_client_codec(std::string queue, message_limits limits)
    : queue_(std::move(queue)), limits_(limits) {}

outgoing_request jsonrpc_client_codec::encode(const call_request& call, std::string_view reply_key,
                                              encoding enc) const {
    if (call.method.empty()) throw usage_error("JSON-RPC: the method name must not be empty");
    if (reply_key.empty() || reply_key.size() > jsonrpc_max_reply_key || starts_like_body(reply_key.front()) ||
        reply_key.find('\n') != std::string_view::npos) {
        throw usage_error("JSON-RPC: \"" + printable(reply_key, 100) + "\" cannot be a reply list name");
    }
    check_call_arguments(call);
    const bool with_args = call.args.is_array() && !call.args.empty();
    const bool with_kwargs = call.kwargs.is_object() && !call.kwargs.empty();
    if (with_args && with_kwargs) {
        throw usage_error("JSON-RPC: " + printable(call.method, 100) +
                          ": params are either positional or named, not both");
    }

    outgoing_request request;
    request.queue = queue_;
    request.reply_key = std::string(reply_key);
    std::string& out = request.payload;
    out.reserve(64 + reply_key.size() + call.method.size());
    out += reply_key;
    out += '\n';
    map_writer w(out, enc);
    w.begin(2U + (with_args || with_kwargs ? 1U : 0U) + (call.wants_reply ? 1U : 0U) + (call.deadline_ms ? 1U : 0U));
    w.key("jsonrpc");
    w.text("2.0");
    w.key("method");
    w.text(call.method);
    if (with_args || with_kwargs) {
        w.key("params");
        w.value(with_args ? call.args : call.kwargs);
    }
    if (call.wants_reply) {
        w.key("id");
        w.value(call.id);
    }
    if (call.deadline_ms) {
        w.key("deadline_ms");
        w.integer(*call.deadline_ms);
    }
    w.end();
    return request;
}

decoded_response jsonrpc_client_codec::decode(std::string_view bytes) const {
    json doc = decode_reply_body(bytes, limits_, "bad response");
    if (doc.is_array()) throw protocol_error("bad response: a batch answer, but only single calls are sent");
    if (!doc.is_object()) throw protocol_error(std::string("bad response: not an object but ") + doc.type_name());
    auto& object = *doc.get_ptr<json::object_t*>();

    if (const auto v = object.find("jsonrpc"); v == object.end() || v->second != "2.0") {
        throw protocol_error("bad response: jsonrpc is not \"2.0\"");
    }
    decoded_response response;
    if (const auto it = object.find("id"); it != object.end()) {
        if (!valid_id(it->second)) throw protocol_error("bad response: id is not a string, number or null");
        response.id = std::move(it->second);
    }
    if (const auto it = object.find("error"); it != object.end() && !it->second.is_null()) {
        if (!it->second.is_object()) throw protocol_error("bad response: error is not an object");
        auto& error = *it->second.get_ptr<json::object_t*>();
        const auto code = error.find("code");
        if (code == error.end() || !code->second.is_number_integer()) {
            throw protocol_error("bad response: error.code is not an integer");
        }
        const auto message = error.find("message");
        if (message == error.end() || !message->second.is_string()) {
            throw protocol_error("bad response: error.message is not a string");
        }
        // Positive codes parse as unsigned; none of them is one we define, so clamping is harmless.
        const std::int64_t number =
            code->second.is_number_unsigned()
                ? static_cast<std::int64_t>(std::min<std::uint64_t>(code->second.get<std::uint64_t>(),
                                                                    std::numeric_limits<std::int64_t>::max()))
                : code->second.get<std::int64_t>();
        json data;
        if (const auto d = error.find("data"); d != error.end()) data = std::move(d->second);
        response.outcome = call_outcome::failure(error_code_from_jsonrpc(number),
                                                 std::move(*message->second.get_ptr<json::string_t*>()),
                                                 std::move(data));
        return response;
    }
    const auto result = object.find("result");
    if (result == object.end()) throw protocol_error("bad response: neither result nor error");
    response.outcome = call_outcome::success(std::move(result->second));
    return response;
}

} // namespace redisrpc::detail
