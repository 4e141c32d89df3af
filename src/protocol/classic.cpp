#include "protocol/classic.hpp"

#include "protocol/body.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>

namespace redisrpc::detail {

namespace {

// Writes a body as a sequence of maps with literal ASCII keys, in JSON or MessagePack. Lets the
// codecs emit members in the peers' order (function_call first, return_value first) without
// copying argument or result values into a temporary json object.
class map_writer {
public:
    map_writer(std::string& out, encoding enc) : out_(out), enc_(enc) {}

    // `members` is needed up front by MessagePack; our maps never have more than 15.
    void begin(unsigned members) {
        if (enc_ == encoding::msgpack) {
            out_ += static_cast<char>(0x80U | (members & 0x0FU)); // fixmap
        } else {
            out_ += '{';
        }
        first_ = true;
    }
    void key(std::string_view k) {
        if (enc_ == encoding::msgpack) {
            out_ += static_cast<char>(0xA0U | (k.size() & 0x1FU)); // fixstr, keys are < 32 bytes
            out_ += k;
        } else {
            if (!first_) out_ += ',';
            out_ += '"';
            out_ += k;
            out_ += "\":";
        }
        first_ = false;
    }
    void value(const json& v) { append_body(out_, v, enc_); }
    // A nested map is written by its own map_writer on the same string.
    void end() {
        if (enc_ == encoding::json) out_ += '}';
        first_ = false;
    }

private:
    std::string& out_;
    encoding enc_;
    bool first_ = true;
};

// Names must be plain text: no C0 controls, DEL or C1 controls (U+0080..U+009F, C2 80..C2 9F).
bool has_control_chars(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) return true;
        if (c == 0xC2 && i + 1 < s.size()) {
            const auto d = static_cast<unsigned char>(s[i + 1]);
            if (d >= 0x80 && d <= 0x9F) return true;
        }
    }
    return false;
}

// "0", "1", "17"... (no sign, no leading zero): a positional key of PHP's args object.
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

// A handler's message may hold any bytes; the wire needs valid UTF-8.
std::string wire_text(const std::string& text) {
    return is_valid_utf8(text) ? text : printable(text, std::numeric_limits<std::size_t>::max());
}

} // namespace

// -------------------------------------------------------------------------------------------------
// error_code names

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
    decoded_job job;
    // Records a rejection. The reply (if reply_key is set) carries `reason`; the log gets it too.
    auto reject = [&job](error_code code, std::string reason) {
        job.calls.clear();
        job.problem = reason; // the caller adds whether it was answered (reply_key set) or dropped
        job.rejected = call_outcome::failure(code, std::move(reason));
        return std::move(job); // the caller returns right away
    };

    try {
        json doc;
        try {
            encoding enc = encoding::json;
            doc = decode_body(bytes, limits_, enc);
            job.enc = enc;
        } catch (const protocol_error& ex) {
            return reject(error_code::parse_error, ex.what());
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

        call_request call;
        if (const auto it = object.find("id"); it != end && !it->second.is_null()) {
            if (!it->second.is_string() && !it->second.is_number_integer()) {
                return reject(error_code::invalid_request, "id must be a string or an integer");
            }
            call.id = std::move(it->second);
            job.context = call.id.dump(); // lets encode() echo the id in a rejection too
        }
        if (const auto it = object.find("deadline_ms"); it != end && !it->second.is_null()) {
            const json& d = it->second;
            if (!d.is_number_integer() ||
                (d.is_number_unsigned() &&
                 d.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
                return reject(error_code::invalid_request, "deadline_ms must be an integer (Unix epoch ms)");
            }
            call.deadline_ms = d.get<std::int64_t>();
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
    } catch (const std::exception& ex) {
        // Out of memory or a bug: still never throw out of decode.
        return reject(error_code::internal_error, std::string("internal error while decoding: ") + ex.what());
    } catch (...) {
        return reject(error_code::internal_error, "internal error while decoding");
    }
}

std::vector<outgoing_reply> classic_server_codec::encode(const decoded_job& job,
                                                         std::span<const call_outcome> outcomes) const {
    std::vector<outgoing_reply> replies;
    if (job.reply_key.empty()) return replies;
    const call_outcome* outcome = !outcomes.empty() ? &outcomes.front()
                                  : job.rejected    ? &*job.rejected
                                                    : nullptr;
    if (outcome == nullptr) return replies;

    json id;
    if (!job.calls.empty()) {
        id = job.calls.front().id;
    } else if (!job.context.empty()) {
        id = json::parse(job.context, nullptr, false);
        if (id.is_discarded()) id = nullptr;
    }

    auto write = [&](const call_outcome& o) {
        std::string out;
        map_writer w(out, job.enc);
        const bool with_code = !o.ok && o.code != error_code::handler_error && o.code != error_code::none;
        w.begin(1U + (with_code ? 1U : 0U) + (id.is_null() ? 0U : 1U));
        if (o.ok) {
            w.key("return_value");
            w.value(o.value);
        } else {
            w.key("exception");
            w.value(json(wire_text(o.message)));
            if (with_code) {
                w.key("error_code");
                w.value(json(error_code_name(o.code)));
            }
        }
        if (!id.is_null()) {
            w.key("id");
            w.value(id);
        }
        w.end();
        return out;
    };

    std::string payload;
    try {
        payload = write(*outcome);
    } catch (const protocol_error& ex) {
        // The result held invalid UTF-8 (or binary): tell the caller instead of sending garbage.
        payload = write(call_outcome::failure(error_code::internal_error,
                                              std::string("result could not be encoded: ") + ex.what()));
    }
    replies.push_back(outgoing_reply{job.reply_key, std::move(payload), reply_ttl_});
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
    if (!call.args.is_null() && !call.args.is_array()) throw usage_error("call arguments must be a JSON array");
    if (!call.kwargs.is_null() && !call.kwargs.is_object()) {
        throw usage_error("keyword arguments must be a JSON object");
    }
    const bool with_args = call.args.is_array() && !call.args.empty();
    const bool with_kwargs = call.kwargs.is_object() && !call.kwargs.empty();

    std::string& out = request.payload;
    out.reserve(96 + call.method.size() + reply_key.size());
    map_writer w(out, enc);
    w.begin(2U + (call.id.is_null() ? 0U : 1U) + (call.deadline_ms ? 1U : 0U));
    w.key("function_call");
    {
        map_writer inner(out, enc);
        inner.begin(1U + (with_args ? 1U : 0U) + (with_kwargs ? 1U : 0U));
        inner.key("name");
        inner.value(json(call.method));
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
    w.value(json(reply_key));
    if (!call.id.is_null()) {
        w.key("id");
        w.value(call.id);
    }
    if (call.deadline_ms) {
        w.key("deadline_ms");
        w.value(json(*call.deadline_ms));
    }
    w.end();
    request.reply_key = std::string(reply_key);
    return request;
}

decoded_response classic_client_codec::decode(std::string_view bytes) const {
    encoding enc = encoding::json;
    json doc;
    try {
        doc = decode_body_lenient_nan(bytes, limits_, enc);
    } catch (const protocol_error& ex) {
        throw protocol_error(std::string("bad response: ") + ex.what());
    }
    if (!doc.is_object()) throw protocol_error("bad response: not an object but " + type_name(doc));
    auto& object = *doc.get_ptr<json::object_t*>();

    decoded_response response;
    if (const auto it = object.find("id"); it != object.end()) {
        if (it->second.is_string() || it->second.is_number_integer()) response.id = std::move(it->second);
    }
    // Like the Python and PHP clients: "exception": null means success.
    if (const auto it = object.find("exception"); it != object.end() && !it->second.is_null()) {
        std::string text = it->second.is_string() ? std::move(*it->second.get_ptr<json::string_t*>())
                                                  : it->second.dump();
        error_code code = error_code::handler_error;
        if (const auto c = object.find("error_code"); c != object.end() && c->second.is_string()) {
            const auto known = error_code_from_name(*c->second.get_ptr<const json::string_t*>());
            if (known && *known != error_code::none) code = *known;
        }
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

std::string classic_server_codec::heartbeat_key(std::string_view /*server_kind*/, std::string_view server_id) const {
    // Outside the reply namespace "<queue>:rpc:", so no client can be made to receive it.
    return queue_ + ":server:" + std::string(server_id) + ":alive";
}

} // namespace redisrpc::detail
