#pragma once
// Fuzz target bodies, shared by the libFuzzer harnesses (fuzz/fuzz_main.cpp, clang) and by the
// regression replay test (tests/unit/fuzz_regressions_test.cpp, any compiler). Header-only so the
// unit test can include it without a build-system change.
//
// Every target feeds arbitrary bytes to one decoder and checks its contract:
// - decoders documented as never throwing (server codecs) must not throw;
// - decoders documented to throw protocol_error / usage_error / argument_error throw nothing else
//   (a leaking nlohmann::json exception or std::out_of_range is a finding);
// - whatever was accepted can be encoded again, and re-decoding our own output works;
// - secrets never appear in URL error messages.
// A broken invariant throws fuzz_violation; any other escaping exception is a finding too.
// Sanitizers (ASan/UBSan in the fuzz build) catch memory errors and UB.

#include "protocol/body.hpp"
#include "protocol/classic.hpp"
#include "protocol/codec.hpp"
#include "protocol/message.hpp"

#if __has_include("protocol/codility.hpp")
#include "protocol/codility.hpp"
#define REDISRPC_FUZZ_HAVE_CODILITY 1
#endif
#if __has_include("protocol/jsonrpc.hpp")
#include "protocol/jsonrpc.hpp"
#define REDISRPC_FUZZ_HAVE_JSONRPC 1
#endif

#include <redisrpc/dispatcher.hpp>
#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace redisrpc::fuzz {

/// A broken invariant: the fuzzer main turns it into a crash, the replay test into a failure.
class fuzz_violation : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

inline void require(bool condition, const char* what) {
    if (!condition)
        throw fuzz_violation(what);
}

using json = nlohmann::json;

inline message_limits fuzz_limits() {
    message_limits limits;
    limits.max_bytes = 64 * 1024;
    limits.max_depth = 64;
    return limits;
}

// ---- server side: decode never throws; encode of any outcome never throws ----------------------

inline void check_server_codec(const detail::server_codec& codec, std::string_view source_key,
                               std::string_view bytes) {
    const detail::decoded_job job = codec.decode(source_key, bytes); // must not throw
    if (job.rejected) {
        require(job.calls.empty() || job.batch, "a rejected single message carries calls");
        (void)codec.encode(job, {});
        return;
    }
    // Answer every call twice over: once echoing its arguments (arbitrary JSON going back out),
    // once with an error.
    std::vector<detail::call_outcome> ok;
    std::vector<detail::call_outcome> failed;
    for (const auto& call : job.calls) {
        require(!call.method.empty(), "an accepted call has an empty method name");
        require(call.args.is_array(), "args is not an array");
        require(call.kwargs.is_object(), "kwargs is not an object");
        ok.push_back(detail::call_outcome::success(json::array({call.args, call.kwargs})));
        failed.push_back(detail::call_outcome::failure(error_code::handler_error, call.method));
    }
    for (const auto& outcomes : {ok, failed}) {
        const auto replies = codec.encode(job, outcomes);
        for (const auto& r : replies) {
            require(!r.key.empty(), "a reply without a key");
            require(r.key == job.reply_key, "a reply to another key than the job's");
        }
    }
}

inline void same_call(const detail::call_request& a, const detail::call_request& b) {
    require(a.method == b.method && a.args == b.args && a.kwargs == b.kwargs && a.id == b.id &&
                a.id.type() == b.id.type() && a.deadline_ms == b.deadline_ms,
            "the fast and the general decode disagree on a call");
}

inline void classic_server(std::string_view bytes) {
    static const detail::classic_server_codec codec("calc", fuzz_limits());
    check_server_codec(codec, "calc", bytes);
    // What the DOM-free fast path accepts, the general path accepts the same way.
    if (const auto fast = codec.decode_canonical(bytes)) {
        const auto general = codec.decode_general(bytes);
        require(!fast->rejected && !general.rejected, "the fast path accepted a request the general path rejects");
        require(fast->reply_key == general.reply_key && fast->enc == general.enc,
                "the fast and the general decode disagree on the reply");
        require(fast->calls.size() == 1 && general.calls.size() == 1, "not one call");
        same_call(fast->calls[0], general.calls[0]);
    }
    const auto job = codec.decode("calc", bytes);
    // The default reply policy: only "<queue>:rpc:<something>".
    if (!job.reply_key.empty()) {
        require(job.reply_key.size() > 9 && job.reply_key.compare(0, 9, "calc:rpc:") == 0,
                "reply_key outside calc:rpc:");
    }
}

// ---- client side: decode throws protocol_error only -------------------------------------------

inline void check_client_codec(const detail::client_codec& codec, std::string_view bytes) {
    try {
        const auto response = codec.decode(bytes);
        (void)response;
    } catch (const protocol_error&) {
        // the documented way to refuse
    }
}

inline void classic_client(std::string_view bytes) {
    static const detail::classic_client_codec codec("calc", fuzz_limits());
    check_client_codec(codec, bytes);
    if (const auto fast = codec.decode_canonical(bytes)) {
        detail::decoded_response general;
        try {
            general = codec.decode_general(bytes);
        } catch (const protocol_error&) {
            require(false, "the fast path accepted a reply the general path rejects");
        }
        require(fast->id == general.id && fast->id.type() == general.id.type() &&
                    fast->outcome.ok == general.outcome.ok && fast->outcome.value == general.outcome.value &&
                    fast->outcome.code == general.outcome.code && fast->outcome.message == general.outcome.message &&
                    fast->outcome.data == general.outcome.data,
                "the fast and the general reply decode disagree");
    }
}

// ---- bodies: decode throws protocol_error only; re-encoding is stable --------------------------

inline void body(std::string_view bytes) {
    const auto limits = fuzz_limits();
    for (const bool lenient : {false, true}) {
        json value;
        encoding enc = encoding::json;
        try {
            value = lenient ? detail::decode_body_lenient_nan(bytes, limits, enc)
                            : detail::decode_body(bytes, limits, enc);
        } catch (const protocol_error&) {
            continue;
        }
        // What we accepted we can send on (strings were checked to be UTF-8), in both encodings,
        // and what we send we accept again, unchanged. (MessagePack is only recognised by a map
        // or array marker, so a scalar goes round trip through JSON only.)
        const bool container = value.is_object() || value.is_array();
        for (const encoding out : {encoding::json, encoding::msgpack}) {
            if (out == encoding::msgpack && !container)
                continue;
            const std::string once = detail::encode_body(value, out);
            encoding again_enc = encoding::json;
            json again;
            try {
                again = detail::decode_body_lenient_nan(once, limits, again_enc);
            } catch (const protocol_error&) {
                // Our own output can exceed max_bytes (escapes grow) but must parse otherwise.
                require(once.size() > limits.max_bytes, "our own encoding is refused");
                continue;
            }
            require(again_enc == out, "our own encoding is detected as the other one");
            require(detail::encode_body(again, out) == once, "encode(decode(encode(v))) != encode(v)");
        }
    }
}

// ---- URLs: usage_error only; no secret in any message -----------------------------------------

inline void url(std::string_view bytes) {
    const std::string text(bytes);
    try {
        const auto options = parse_url(text);
        (void)options.address();
        require(!options.tls || options.kind == connection_options::transport::tcp, "TLS on a unix socket");
        require(options.tls_cert_file.empty() == options.tls_key_file.empty(), "certificate without key");
    } catch (const usage_error&) {
    }
    // The same bytes after credentials with a recognisable password: no message may quote it.
    constexpr std::string_view secret = "Zq9xSECRETx7";
    if (text.find("Zq9x") != std::string::npos)
        return;
    for (const char* prefix :
         {"redis://u:Zq9xSECRETx7@", "rediss://Zq9xSECRETx7@", "unix://u:Zq9xSECRETx7@"}) {
        try {
            (void)parse_url(prefix + text);
        } catch (const usage_error& e) {
            require(std::string_view(e.what()).find(secret) == std::string_view::npos,
                    "a URL error message quotes the password");
        }
    }
    try {
        (void)parse_url("redis://h/?password=Zq9xSECRETx7&" + text);
    } catch (const usage_error& e) {
        require(std::string_view(e.what()).find(secret) == std::string_view::npos,
                "a URL error message quotes the password option");
    }
}

// ---- dispatch: invoke with hostile JSON; only argument_error / unknown_method_error ----------

struct point {
    double x = 0;
    double y = 0;
};
inline void from_json(const json& j, point& p) {
    j.at("x").get_to(p.x);
    j.at("y").get_to(p.y);
}
inline void to_json(json& j, const point& p) {
    j = {{"x", p.x}, {"y", p.y}};
}

inline const dispatcher& fuzz_dispatcher() {
    static const dispatcher d = [] {
        dispatcher out;
        out.bind("add", [](double a, double b) { return a + b; }, {"a", "b"});
        out.bind("concat", [](const std::string& s, int n) { return s + std::to_string(n); }, {"s", "n"});
        out.bind("opt",
                 [](std::int64_t a, std::optional<std::string> b) { return b ? *b : std::to_string(a); },
                 {"a", "b"});
        out.bind("sum", [](const std::vector<std::int64_t>& v) {
            std::int64_t s = 0;
            for (const auto x : v)
                s = static_cast<std::int64_t>(static_cast<std::uint64_t>(s) + static_cast<std::uint64_t>(x));
            return s;
        });
        out.bind("scale",
                 [](const std::map<std::string, double>& m, float f) {
                     std::map<std::string, double> r;
                     for (const auto& [k, v] : m)
                         r[k] = v * f;
                     return r;
                 },
                 {"m", "f"});
        out.bind("pair", [](std::pair<bool, std::uint8_t> p, std::tuple<std::string, unsigned> t) {
            return std::get<0>(t) + (p.first ? "y" : "n") + std::to_string(p.second + std::get<1>(t));
        });
        out.bind("norm", [](point p) { return std::hypot(p.x, p.y); }, {"p"});
        out.bind("json", [](const json& j) { return j; });
        out.bind("void", [] {});
        out.bind("throws", [](int) -> int { throw std::domain_error("handler threw"); });
        return out;
    }();
    return d;
}

inline void dispatch(std::string_view bytes) {
    // Input: a body (JSON or MessagePack) [name, args, kwargs] or {"name","args","kwargs"};
    // invoke() gets whatever shapes the fuzzer makes, exactly as a codec would pass them on.
    json call;
    encoding enc = encoding::json;
    try {
        call = detail::decode_body(bytes, fuzz_limits(), enc);
    } catch (const protocol_error&) {
        return;
    }
    std::string name;
    json args = json::array();
    json kwargs = json::object();
    if (call.is_array() && !call.empty() && call[0].is_string()) {
        name = call[0].get<std::string>();
        if (call.size() > 1)
            args = call[1];
        if (call.size() > 2)
            kwargs = call[2];
    } else if (call.is_object() && call.contains("name") && call["name"].is_string()) {
        name = call["name"].get<std::string>();
        if (call.contains("args"))
            args = call["args"];
        if (call.contains("kwargs"))
            kwargs = call["kwargs"];
    } else {
        return;
    }
    // The codecs only ever pass an array and an object (or null kwargs); keep to that contract.
    if (!args.is_array())
        args = json::array({args});
    if (!kwargs.is_object())
        kwargs = json::object();
    try {
        const json result = fuzz_dispatcher().invoke(name, args, kwargs);
        (void)detail::encode_body(result, encoding::msgpack);
    } catch (const argument_error&) {
    } catch (const unknown_method_error&) {
    } catch (const std::domain_error& e) {
        require(std::string_view(e.what()) == "handler threw", "unexpected domain_error");
    } catch (const protocol_error&) {
        // encode_body: a result string that is not UTF-8 (concat echoes its input string, which
        // decode_body validated, so this should not happen; kept as the documented refusal)
    }
}

// ---- other dialects ----------------------------------------------------------------------------

#ifdef REDISRPC_FUZZ_HAVE_CODILITY
inline void codility_server(std::string_view bytes) {
    static const detail::codility_server_codec codec("redis_rpc", fuzz_limits());
    check_server_codec(codec, "redis_rpc:add:calls", bytes);
    // The function name comes from the key: a hostile key is input too.
    check_server_codec(codec, bytes.substr(0, 64), bytes.size() > 64 ? bytes.substr(64) : std::string_view{});
}
inline void codility_client(std::string_view bytes) {
    static const detail::codility_client_codec codec("redis_rpc", fuzz_limits());
    check_client_codec(codec, bytes);
}
#endif

#ifdef REDISRPC_FUZZ_HAVE_JSONRPC
inline void jsonrpc_server(std::string_view bytes) {
    static const detail::jsonrpc_server_codec codec("calc", fuzz_limits());
    check_server_codec(codec, "calc", bytes);
}
inline void jsonrpc_client(std::string_view bytes) {
    static const detail::jsonrpc_client_codec codec("calc", fuzz_limits());
    check_client_codec(codec, bytes);
}
#endif

// ---- registry ----------------------------------------------------------------------------------

struct target {
    const char* name;
    void (*run)(std::string_view);
};

inline const std::vector<target>& targets() {
    static const std::vector<target> all{
        {"classic_server", &classic_server},
        {"classic_client", &classic_client},
        {"body", &body},
        {"url", &url},
        {"dispatch", &dispatch},
#ifdef REDISRPC_FUZZ_HAVE_CODILITY
        {"codility_server", &codility_server},
        {"codility_client", &codility_client},
#endif
#ifdef REDISRPC_FUZZ_HAVE_JSONRPC
        {"jsonrpc_server", &jsonrpc_server},
        {"jsonrpc_client", &jsonrpc_client},
#endif
    };
    return all;
}

inline const target* find_target(std::string_view name) {
    for (const auto& t : targets()) {
        if (name == t.name)
            return &t;
    }
    return nullptr;
}

} // namespace redisrpc::fuzz
