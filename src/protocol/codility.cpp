#include "protocol/codility.hpp"

#include "protocol/body.hpp"
#include "protocol/wire_util.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

namespace redisrpc::detail {

namespace {

wall_clock_fn or_system_clock(wall_clock_fn clock) {
    if (clock) return clock;
    return [] { return std::chrono::system_clock::now(); };
}

// Our extension: positional arguments travel as kw keys "0".."n-1" (the protocol itself has
// keyword arguments only). Moves them out of `kw` into `args`. Returns an error or "".
std::string split_positional(json::object_t& kw, json& args) {
    std::vector<std::pair<std::size_t, json::object_t::iterator>> positional;
    for (auto it = kw.begin(); it != kw.end(); ++it) {
        std::size_t index = 0;
        if (parse_index(it->first, index)) positional.emplace_back(index, it);
    }
    if (positional.empty()) return {};
    // std::map orders "10" before "2": sort by number.
    std::sort(positional.begin(), positional.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < positional.size(); ++i) {
        if (positional[i].first != i) return "kw: positional keys are not 0..n-1";
    }
    auto& array = *args.get_ptr<json::array_t*>();
    array.reserve(positional.size());
    for (auto& entry : positional) {
        array.push_back(std::move(entry.second->second));
        kw.erase(entry.second);
    }
    return {};
}

// The "<Type>" of "<Type: message>" for errors raised outside the handler. A handler's error
// text already reads "std::domain_error: division by zero" and goes out unchanged.
std::string_view kind_name(error_code code) noexcept {
    switch (code) {
    case error_code::parse_error: return "ParseError";
    case error_code::invalid_request: return "InvalidRequest";
    case error_code::method_not_found: return "MethodNotFound";
    case error_code::invalid_params: return "InvalidParams";
    case error_code::internal_error: return "InternalError";
    case error_code::expired: return "Expired";
    case error_code::none:
    case error_code::handler_error: break;
    }
    return {};
}

bool digits(std::string_view s, std::size_t pos, std::size_t n) noexcept {
    if (pos + n > s.size()) return false;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
    }
    return true;
}

} // namespace

bool codility_id_ok(std::string_view id) noexcept {
    if (id.empty() || id.size() > codility_max_id_length) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_' || c == '.' || c == ':';
    });
}

bool codility_timestamp_ok(std::string_view ts) noexcept {
    // 2024-05-01T12:00:00
    // 0123456789012345678
    if (ts.size() < 19 || !digits(ts, 0, 4) || ts[4] != '-' || !digits(ts, 5, 2) || ts[7] != '-' ||
        !digits(ts, 8, 2) || (ts[10] != 'T' && ts[10] != 't' && ts[10] != ' ') || !digits(ts, 11, 2) ||
        ts[13] != ':' || !digits(ts, 14, 2) || ts[16] != ':' || !digits(ts, 17, 2)) {
        return false;
    }
    std::size_t pos = 19;
    if (pos < ts.size() && ts[pos] == '.') {
        std::size_t n = 0;
        while (pos + 1 + n < ts.size() && digits(ts, pos + 1 + n, 1)) ++n;
        if (n == 0 || n > 9) return false;
        pos += 1 + n;
    }
    const std::string_view zone = ts.substr(pos);
    if (zone.empty() || zone == "Z" || zone == "z") return true;
    if (zone[0] != '+' && zone[0] != '-') return false;
    return (zone.size() == 6 && digits(zone, 1, 2) && zone[3] == ':' && digits(zone, 4, 2)) ||
           (zone.size() == 5 && digits(zone, 1, 4));
}

std::string codility_timestamp(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
    auto secs = static_cast<std::time_t>(us / 1000000);
    auto frac = us % 1000000;
    if (frac < 0) { // before 1970: floor, not truncate
        frac += 1000000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
    return buf;
}

// -------------------------------------------------------------------------------------------------
// server

codility_server_codec::codility_server_codec(std::string prefix, message_limits limits, wall_clock_fn clock)
    : prefix_(std::move(prefix)), limits_(limits), clock_(or_system_clock(std::move(clock))) {}

std::vector<std::string> codility_server_codec::queues(std::span<const std::string> methods) const {
    std::vector<std::string> out;
    out.reserve(methods.size());
    for (const auto& m : methods) out.push_back(prefix_ + ":" + m + ":calls");
    return out;
}

std::string codility_server_codec::heartbeat_key(std::string_view server_kind, std::string_view server_id) const {
    return prefix_ + ":" + std::string(server_kind) + ":" + std::string(server_id) + ":alive";
}

decoded_job codility_server_codec::decode(std::string_view source_key, std::string_view bytes) const {
    decoded_job job;
    auto reject = [&job](error_code code, std::string reason) {
        mark_rejected(job, code, std::move(reason));
        return std::move(job);
    };

    try {
        // The function name is the key's middle part: {prefix}:{func}:calls.
        constexpr std::string_view suffix = ":calls";
        const std::size_t head = prefix_.size() + 1;
        if (source_key.size() <= head + suffix.size() || !source_key.starts_with(prefix_) ||
            source_key[prefix_.size()] != ':' || !source_key.ends_with(suffix)) {
            return reject(error_code::internal_error,
                          "\"" + printable(source_key, 100) + "\" is not a call queue of prefix \"" +
                              printable(prefix_, 100) + "\"");
        }
        std::string function(source_key.substr(head, source_key.size() - head - suffix.size()));

        json doc;
        if (auto problem = decode_request_body(bytes, limits_, doc, job.enc)) {
            return reject(error_code::parse_error, std::move(*problem));
        }
        if (!doc.is_object()) return reject(error_code::invalid_request, "call is not an object");
        auto& object = *doc.get_ptr<json::object_t*>();
        const auto end = object.end();

        // The id names the result list: without a usable one nobody can be answered.
        const auto id_it = object.find("id");
        if (id_it == end) return reject(error_code::invalid_request, "id is missing");
        if (!id_it->second.is_string()) return reject(error_code::invalid_request, "id is not a string");
        const auto& id = *id_it->second.get_ptr<const json::string_t*>();
        if (!codility_id_ok(id)) {
            return reject(error_code::invalid_request,
                          "id \"" + printable(id, 100) + "\" is not 1.." + std::to_string(codility_max_id_length) +
                              " characters of [A-Za-z0-9._:-]");
        }
        job.reply_key = prefix_ + ":" + function + ":result:" + id;

        call_request call;
        call.method = std::move(function);
        call.id = std::move(id_it->second);

        if (const auto it = object.find("ts"); it != end && !it->second.is_null()) {
            if (!it->second.is_string() || !codility_timestamp_ok(*it->second.get_ptr<const json::string_t*>())) {
                return reject(error_code::invalid_request,
                              "ts is not an ISO-8601 date-time: " + printable(it->second.dump(), 64));
            }
        }
        if (const auto it = object.find("deadline_ms"); it != end && !it->second.is_null()) {
            call.deadline_ms = deadline_ms_value(it->second);
            if (!call.deadline_ms) return reject(error_code::invalid_request, bad_deadline_ms);
        }
        // Like the Python server: a missing kw means no arguments.
        if (const auto it = object.find("kw"); it != end && !it->second.is_null()) {
            if (!it->second.is_object()) {
                return reject(error_code::invalid_request,
                              std::string("kw must be an object, got ") + it->second.type_name());
            }
            call.kwargs = std::move(it->second);
            auto problem = split_positional(*call.kwargs.get_ptr<json::object_t*>(), call.args);
            if (!problem.empty()) return reject(error_code::invalid_request, std::move(problem));
        }
        job.calls.push_back(std::move(call));
        return job;
    } catch (...) {
        return reject(error_code::internal_error, decode_failure_reason());
    }
}

std::vector<outgoing_reply> codility_server_codec::encode(const decoded_job& job,
                                                          std::span<const call_outcome> outcomes) const {
    std::vector<outgoing_reply> replies;
    if (job.reply_key.empty()) return replies;
    const call_outcome* outcome = single_outcome(job, outcomes);
    if (outcome == nullptr) return replies;
    const std::string ts = codility_timestamp(clock_());

    auto write = [&](const call_outcome& o) {
        std::string out;
        map_writer w(out, job.enc);
        const auto kind = o.ok ? std::string_view() : kind_name(o.code);
        w.begin(kind.empty() ? 2U : 3U);
        w.key("ts");
        w.value(json(ts));
        if (o.ok) {
            w.key("res");
            w.value(o.value);
        } else if (kind.empty()) {
            w.key("err");
            w.value(json(wire_text(o.message)));
        } else {
            w.key("err");
            w.value(json(std::string(kind) + ": " + wire_text(o.message)));
            w.key("error_code");
            w.value(json(error_code_name(o.code)));
        }
        w.end();
        return out;
    };

    replies.push_back(
        outgoing_reply{job.reply_key, encode_or_internal_error(write, *outcome), codility_expire, true});
    return replies;
}

// -------------------------------------------------------------------------------------------------
// client

codility_client_codec::codility_client_codec(std::string prefix, message_limits limits, wall_clock_fn clock)
    : prefix_(std::move(prefix)), limits_(limits), clock_(or_system_clock(std::move(clock))) {}

outgoing_request codility_client_codec::encode(const call_request& call, std::string_view /*reply_key*/,
                                               encoding enc) const {
    if (call.method.empty()) throw usage_error("codility dialect: the method name must not be empty");
    if (!call.id.is_string() || !codility_id_ok(*call.id.get_ptr<const json::string_t*>())) {
        throw usage_error("codility dialect: the call id must be a string of 1.." +
                          std::to_string(codility_max_id_length) + " characters of [A-Za-z0-9._:-]");
    }
    check_call_arguments(call);
    const auto& id = *call.id.get_ptr<const json::string_t*>();

    // Positions become kw keys "0".."n-1"; a keyword spelled like a position would be ambiguous.
    json kw = call.kwargs.is_object() ? call.kwargs : json::object();
    if (call.args.is_array()) {
        for (const auto& [key, value] : kw.items()) {
            std::size_t index = 0;
            if (parse_index(key, index)) {
                throw usage_error("codility dialect: keyword argument \"" + printable(key, 32) +
                                  "\" is reserved for positional arguments");
            }
        }
        std::size_t i = 0;
        for (const auto& value : call.args) kw[std::to_string(i++)] = value;
    }

    outgoing_request request;
    request.queue = prefix_ + ":" + call.method + ":calls";
    request.reply_key = prefix_ + ":" + call.method + ":result:" + id;
    request.queue_ttl = codility_expire;
    request.reply_ttl_hint = codility_expire;

    map_writer w(request.payload, enc);
    w.begin(call.deadline_ms ? 4U : 3U);
    w.key("id");
    w.value(call.id);
    w.key("ts");
    w.value(json(codility_timestamp(clock_())));
    w.key("kw");
    w.value(kw);
    if (call.deadline_ms) {
        w.key("deadline_ms");
        w.integer(*call.deadline_ms);
    }
    w.end();
    return request;
}

decoded_response codility_client_codec::decode(std::string_view bytes) const {
    json doc = decode_reply_body(bytes, limits_, "bad result");
    if (!doc.is_object()) throw protocol_error(std::string("bad result: not an object but ") + doc.type_name());
    auto& object = *doc.get_ptr<json::object_t*>();

    decoded_response response;
    // Like the Python client: an empty or false "err" is no error.
    if (const auto it = object.find("err");
        it != object.end() && !it->second.is_null() && it->second != false && it->second != "") {
        std::string text = take_text(it->second);
        const error_code code = error_code_member(object);
        // Our server wrote "<Kind>: text"; the caller gets the same text as in other dialects.
        if (const auto kind = kind_name(code); !kind.empty() && text.size() > kind.size() + 2 &&
                                               text.starts_with(kind) && text.compare(kind.size(), 2, ": ") == 0) {
            text.erase(0, kind.size() + 2);
        }
        json data;
        if (const auto tb = object.find("err_traceback"); tb != object.end()) data = std::move(tb->second); // Python
        response.outcome = call_outcome::failure(code, std::move(text), std::move(data));
        return response;
    }
    const auto value = object.find("res");
    if (value == object.end()) throw protocol_error("bad result: neither res nor err");
    response.outcome = call_outcome::success(std::move(value->second));
    return response;
}

} // namespace redisrpc::detail
