#include "protocol/classic.hpp"

#include "protocol/body.hpp"
#include "protocol/json_scanner.hpp"
#include "protocol/wire_util.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace redisrpc::detail {

namespace {

// PHP 8 named arguments: json_encode turns [0 => 1, 'b' => 2] into {"0":1,"b":2}. Numeric keys
// are positions (they must be 0..n-1), the others keyword arguments. Returns an error or "".
std::string split_php_args(json::object_t& object, json& args, json& named) {
    std::vector<std::pair<std::size_t, json*>> positional;
    for (auto& [key, value] : object) {
        std::size_t index = 0;
        if (parse_index(key, index)) {
            positional.emplace_back(index, &value);
        } else {
            named[key] = std::move(value);
        }
    }
    // std::map orders "10" before "2": sort by number.
    std::sort(positional.begin(), positional.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < positional.size(); ++i) {
        if (positional[i].first != i) return "function_call.args object: positional keys are not 0..n-1";
    }
    args = json::array();
    auto& array = *args.get_ptr<json::array_t*>();
    array.reserve(positional.size());
    for (auto& entry : positional) array.push_back(std::move(*entry.second));
    return {};
}

std::string type_name(const json& j) { return j.type_name(); }

std::size_t scan_depth(const message_limits& limits) {
    return limits.max_depth < 1 ? 1 : static_cast<std::size_t>(limits.max_depth);
}

// decode_canonical()'s "function_call" member: name (plain, non-empty, no control characters),
// args (array or null), kwargs (object or null), nothing else, each at most once.
bool scan_function_call(json_scanner& in, call_request& call) {
    if (!in.open_object(2)) return false;
    bool have_name = false, have_args = false, have_kwargs = false;
    std::string_view key;
    std::string_view name;
    bool ok = false;
    while (in.next_key(key, ok)) {
        if (key == "name") {
            if (have_name || !in.string(name)) return false;
            have_name = true;
        } else if (key == "args") {
            if (have_args) return false;
            have_args = true;
            if (in.null()) continue; // stays []
            if (in.peek() != '[' || !in.value(call.args, 2)) return false;
        } else if (key == "kwargs") {
            if (have_kwargs) return false;
            have_kwargs = true;
            if (in.null()) continue; // stays {}
            if (in.peek() != '{' || !in.value(call.kwargs, 2)) return false;
        } else {
            return false;
        }
    }
    if (!ok || !have_name || name.empty() || has_control_chars(name)) return false;
    call.method = std::string(name);
    return true;
}

} // namespace

// -------------------------------------------------------------------------------------------------
// server

classic_server_codec::classic_server_codec(std::string queue, message_limits limits,
                                           std::chrono::seconds reply_ttl, reply_policy policy)
    : queue_(std::move(queue)), limits_(limits), reply_ttl_(reply_ttl), policy_(std::move(policy)),
      prefix_(policy_.prefix.empty() ? queue_ + ":rpc:" : policy_.prefix) {}

std::vector<std::string> classic_server_codec::queues(std::span<const std::string> /*methods*/) const {
    return {queue_};
}

bool classic_server_codec::reply_key_allowed(std::string_view key) const noexcept {
    // Never the request queue: we would push a reply into it and put a TTL on it.
    if (key.empty() || key == queue_) return false;
    if (policy_.allow_any) return true;
    return key.size() > prefix_.size() && key.starts_with(prefix_);
}

decoded_job classic_server_codec::decode(std::string_view /*source_key*/, std::string_view bytes) const {
    if (auto job = decode_canonical(bytes)) return std::move(*job);
    return decode_general(bytes);
}

std::optional<decoded_job> classic_server_codec::decode_canonical(std::string_view bytes) const {
    if (bytes.size() > limits_.max_bytes) return std::nullopt;
    try {
        json_scanner in(bytes, scan_depth(limits_));
        if (!in.open_object(1)) return std::nullopt;
        call_request call;
        std::string_view reply_key;
        bool have_queue = false, have_call = false, have_id = false, have_deadline = false;
        std::string_view key;
        bool ok = false;
        while (in.next_key(key, ok)) {
            if (key == "response_queue") {
                if (have_queue || !in.string(reply_key)) return std::nullopt;
                have_queue = true;
            } else if (key == "function_call") {
                if (have_call || !scan_function_call(in, call)) return std::nullopt;
                have_call = true;
            } else if (key == "id") {
                if (have_id) return std::nullopt;
                have_id = true;
                if (!in.null() && (!in.value(call.id, 1) || !(call.id.is_string() || call.id.is_number_integer()))) {
                    return std::nullopt;
                }
            } else if (key == "deadline_ms") {
                if (have_deadline) return std::nullopt;
                have_deadline = true;
                std::int64_t deadline = 0;
                if (in.null()) continue;
                if (!in.int64(deadline)) return std::nullopt;
                call.deadline_ms = deadline;
            } else {
                return std::nullopt; // other members: the general path (it ignores them)
            }
        }
        if (!ok || !in.at_end() || !have_queue || !have_call || !reply_key_allowed(reply_key)) return std::nullopt;
        decoded_job job;
        job.reply_key = std::string(reply_key);
        job.calls.push_back(std::move(call));
        return job;
    } catch (...) {
        return std::nullopt; // out of memory: the general path reports it
    }
}

decoded_job classic_server_codec::decode_general(std::string_view bytes) const {
    decoded_job job;
    call_request call;
    bool id_known = false; // call.id holds the request's id: a rejection echoes it
    // Records a rejection. The reply (if reply_key is set) carries `reason`; the log gets it too.
    auto reject = [&](error_code code, std::string reason) {
        mark_rejected(job, code, std::move(reason));
        if (id_known) {
            try {
                job.context = encode_body(call.id, encoding::json); // lets encode() echo the id
            } catch (...) {
                job.context.clear();
            }
        }
        return std::move(job); // the caller returns right away
    };

    try {
        json doc;
        if (auto problem = decode_request_body(bytes, limits_, doc, job.enc)) {
            return reject(error_code::parse_error, std::move(*problem));
        }
        if (!doc.is_object()) return reject(error_code::invalid_request, "request is not an object");
        auto& object = *doc.get_ptr<json::object_t*>();
        const auto end = object.end();

        // The reply address first, so that every later problem can be answered.
        const auto queue_it = object.find("response_queue");
        if (queue_it == end) return reject(error_code::invalid_request, "response_queue is missing");
        if (!queue_it->second.is_string()) {
            return reject(error_code::invalid_request, "response_queue is not a string");
        }
        const auto& reply_key = *queue_it->second.get_ptr<const json::string_t*>();
        if (!reply_key_allowed(reply_key)) {
            return reject(error_code::invalid_request,
                          "response_queue \"" + printable(reply_key, 100) + "\" is not allowed" +
                              (policy_.allow_any ? "" : " (must start with \"" + printable(prefix_, 100) + "\")"));
        }
        job.reply_key = reply_key;

        if (const auto it = object.find("id"); it != end && !it->second.is_null()) {
            if (!it->second.is_string() && !it->second.is_number_integer()) {
                return reject(error_code::invalid_request, "id must be a string or an integer");
            }
            call.id = std::move(it->second);
            id_known = true;
        }
        if (const auto it = object.find("deadline_ms"); it != end && !it->second.is_null()) {
            call.deadline_ms = deadline_ms_value(it->second);
            if (!call.deadline_ms) return reject(error_code::invalid_request, bad_deadline_ms);
        }

        const auto fc_it = object.find("function_call");
        if (fc_it == end) return reject(error_code::invalid_request, "function_call is missing");
        if (!fc_it->second.is_object()) return reject(error_code::invalid_request, "function_call is not an object");
        auto& fc = *fc_it->second.get_ptr<json::object_t*>();

        const auto name_it = fc.find("name");
        if (name_it == fc.end()) return reject(error_code::invalid_request, "function_call.name is missing");
        if (!name_it->second.is_string()) {
            return reject(error_code::invalid_request, "function_call.name is not a string");
        }
        auto& name = *name_it->second.get_ptr<json::string_t*>();
        if (name.empty()) return reject(error_code::invalid_request, "function_call.name is empty");
        if (has_control_chars(name)) {
            return reject(error_code::invalid_request,
                          "function_call.name contains control characters: \"" + printable(name, 100) + "\"");
        }
        call.method = std::move(name);

        json named = json::object(); // keyword arguments from a PHP args object
        if (const auto it = fc.find("args"); it != fc.end() && !it->second.is_null()) {
            if (it->second.is_array()) {
                call.args = std::move(it->second);
            } else if (it->second.is_object()) {
                auto problem = split_php_args(*it->second.get_ptr<json::object_t*>(), call.args, named);
                if (!problem.empty()) return reject(error_code::invalid_request, std::move(problem));
            } else {
                return reject(error_code::invalid_request,
                              "function_call.args must be an array, got " + type_name(it->second));
            }
        }
        if (const auto it = fc.find("kwargs"); it != fc.end() && !it->second.is_null()) {
            if (!it->second.is_object()) {
                return reject(error_code::invalid_request,
                              "function_call.kwargs must be an object, got " + type_name(it->second));
            }
            call.kwargs = std::move(it->second);
        }
        if (!named.empty()) {
            auto& kwargs = *call.kwargs.get_ptr<json::object_t*>();
            for (auto& [key, value] : *named.get_ptr<json::object_t*>()) {
                if (!kwargs.try_emplace(key, std::move(value)).second) {
                    return reject(error_code::invalid_request,
                                  "keyword argument \"" + printable(key, 100) + "\" given twice");
                }
            }
        }
        job.calls.push_back(std::move(call));
        return job;
    } catch (...) {
        // Out of memory or a bug: still never throw out of decode.
        return reject(error_code::internal_error, decode_failure_reason());
    }
}

std::vector<outgoing_reply> classic_server_codec::encode(const decoded_job& job,
                                                         std::span<const call_outcome> outcomes) const {
    std::vector<outgoing_reply> replies;
    if (job.reply_key.empty()) return replies;
    const call_outcome* outcome = single_outcome(job, outcomes);
    if (outcome == nullptr) return replies;

    static const json no_id;
    json parsed_id;
    const json* id = &no_id;
    if (!job.calls.empty()) {
        id = &job.calls.front().id;
    } else if (!job.context.empty()) {
        parsed_id = json::parse(job.context, nullptr, false);
        if (!parsed_id.is_discarded()) id = &parsed_id;
    }

    auto write = [&](const call_outcome& o) {
        std::string out;
        out.reserve(64); // {"return_value":<number>,"id":"<16 characters>"} without regrowing
        map_writer w(out, job.enc);
        const bool with_code = !o.ok && o.code != error_code::handler_error && o.code != error_code::none;
        w.begin(1U + (with_code ? 1U : 0U) + (id->is_null() ? 0U : 1U));
        if (o.ok) {
            w.key("return_value");
            w.value(o.value);
        } else {
            w.key("exception");
            w.text(wire_text(o.message));
            if (with_code) {
                w.key("error_code");
                w.text(error_code_name(o.code));
            }
        }
        if (!id->is_null()) {
            w.key("id");
            w.value(*id);
        }
        w.end();
        return out;
    };

    // A result with invalid UTF-8 (or binary) becomes an internal_error reply.
    replies.push_back(outgoing_reply{job.reply_key, encode_or_internal_error(write, *outcome), reply_ttl_});
    return replies;
}

// -------------------------------------------------------------------------------------------------
// client

classic_client_codec::classic_client_codec(message_limits limits) : limits_(limits) {}

classic_client_codec::classic_client_codec(std::string queue, message_limits limits)
    : queue_(std::move(queue)), limits_(limits) {}

outgoing_request classic_client_codec::encode(const call_request& call, std::string_view reply_key,
                                              encoding enc) const {
    outgoing_request request;
    if (!queue_.empty()) {
        request.queue = queue_;
    } else {
        const auto pos = reply_key.rfind(":rpc:");
        if (pos == std::string_view::npos || pos == 0) {
            throw usage_error("classic dialect: cannot tell the request queue from reply key \"" +
                              printable(reply_key, 100) + "\"");
        }
        request.queue = std::string(reply_key.substr(0, pos));
    }
    check_call_arguments(call);
    const bool with_args = call.args.is_array() && !call.args.empty();
    const bool with_kwargs = call.kwargs.is_object() && !call.kwargs.empty();

    std::string& out = request.payload;
    // Room for the members' names, the id, the deadline and a few small arguments: one allocation.
    out.reserve(160 + call.method.size() + reply_key.size());
    map_writer w(out, enc);
    w.begin(2U + (call.id.is_null() ? 0U : 1U) + (call.deadline_ms ? 1U : 0U));
    w.key("function_call");
    {
        map_writer inner(out, enc);
        inner.begin(1U + (with_args ? 1U : 0U) + (with_kwargs ? 1U : 0U));
        inner.key("name");
        inner.text(call.method);
        if (with_args) {
            inner.key("args");
            inner.value(call.args);
        }
        if (with_kwargs) {
            inner.key("kwargs");
            inner.value(call.kwargs);
        }
        inner.end();
    }
    w.key("response_queue");
    w.text(reply_key);
    if (!call.id.is_null()) {
        w.key("id");
        w.value(call.id);
    }
    if (call.deadline_ms) {
        w.key("deadline_ms");
        w.integer(*call.deadline_ms);
    }
    w.end();
    request.reply_key = std::string(reply_key);
    return request;
}

decoded_response classic_client_codec::decode(std::string_view bytes) const {
    if (auto response = decode_canonical(bytes)) return std::move(*response);
    return decode_general(bytes);
}

decoded_response classic_client_codec::decode_general(std::string_view bytes) const {
    json doc = decode_reply_body(bytes, limits_, "bad response");
    if (!doc.is_object()) throw protocol_error("bad response: not an object but " + type_name(doc));
    auto& object = *doc.get_ptr<json::object_t*>();

    decoded_response response;
    if (const auto it = object.find("id"); it != object.end()) {
        if (it->second.is_string() || it->second.is_number_integer()) response.id = std::move(it->second);
    }
    // Like the Python and PHP clients: "exception": null means success.
    if (const auto it = object.find("exception"); it != object.end() && !it->second.is_null()) {
        std::string text = take_text(it->second);
        const error_code code = error_code_member(object);
        json data;
        if (const auto b = object.find("backtrace"); b != object.end()) data = std::move(b->second); // Ruby
        response.outcome = call_outcome::failure(code, std::move(text), std::move(data));
        return response;
    }
    const auto value = object.find("return_value");
    if (value == object.end()) throw protocol_error("bad response: neither return_value nor exception");
    response.outcome = call_outcome::success(std::move(value->second));
    return response;
}

std::optional<decoded_response> classic_client_codec::decode_canonical(std::string_view bytes) const {
    if (bytes.size() > limits_.max_bytes) return std::nullopt;
    try {
        json_scanner in(bytes, scan_depth(limits_));
        if (!in.open_object(1)) return std::nullopt;
        json value;
        json id;
        std::string_view exception;
        bool have_value = false, have_exception = false, have_id = false, exception_null = true;
        std::string_view key;
        bool ok = false;
        while (in.next_key(key, ok)) {
            if (key == "return_value") {
                if (have_value || !in.value(value, 1)) return std::nullopt;
                have_value = true;
            } else if (key == "exception") {
                if (have_exception) return std::nullopt;
                have_exception = true;
                if (in.null()) continue;
                if (!in.string(exception)) return std::nullopt;
                exception_null = false;
            } else if (key == "id") {
                if (have_id || !in.value(id, 1)) return std::nullopt;
                have_id = true;
            } else {
                return std::nullopt; // error_code, backtrace, ...: the general path
            }
        }
        if (!ok || !in.at_end()) return std::nullopt;
        decoded_response response;
        if (id.is_string() || id.is_number_integer()) response.id = std::move(id);
        if (!exception_null) {
            response.outcome = call_outcome::failure(error_code::handler_error, std::string(exception));
        } else if (have_value) {
            response.outcome = call_outcome::success(std::move(value));
        } else {
            return std::nullopt;
        }
        return response;
    } catch (...) {
        return std::nullopt;
    }
}

std::string classic_server_codec::heartbeat_key(std::string_view /*server_kind*/, std::string_view server_id) const {
    // Outside the reply namespace "<queue>:rpc:", so no client can be made to receive it.
    return queue_ + ":server:" + std::string(server_id) + ":alive";
}

} // namespace redisrpc::detail
