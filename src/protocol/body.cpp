#include "protocol/body.hpp"

#include "protocol/json_scanner.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace redisrpc::detail {

namespace {

// ---------------------------------------------------------------------------------------------
// UTF-8

// Decodes one UTF-8 sequence at p (n > 0 bytes available). Returns its length, or 0 when the
// bytes are not a well-formed sequence (RFC 3629 table 3.7 in the Unicode standard).
std::size_t utf8_sequence(const unsigned char* p, std::size_t n, char32_t& cp) noexcept {
    const unsigned char b0 = p[0];
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    }
    auto cont = [&](std::size_t i) { return i < n && (p[i] & 0xC0U) == 0x80U; };
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (!cont(1)) return 0;
        cp = (char32_t{b0} & 0x1FU) << 6 | (p[1] & 0x3FU);
        return 2;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (!cont(1) || !cont(2)) return 0;
        if (b0 == 0xE0 && p[1] < 0xA0) return 0; // overlong
        if (b0 == 0xED && p[1] > 0x9F) return 0; // UTF-16 surrogate
        cp = (char32_t{b0} & 0x0FU) << 12 | (char32_t{p[1]} & 0x3FU) << 6 | (p[2] & 0x3FU);
        return 3;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (b0 == 0xF0 && p[1] < 0x90) return 0; // overlong
        if (b0 == 0xF4 && p[1] > 0x8F) return 0; // > U+10FFFF
        cp = (char32_t{b0} & 0x07U) << 18 | (char32_t{p[1]} & 0x3FU) << 12 |
             (char32_t{p[2]} & 0x3FU) << 6 | (p[3] & 0x3FU);
        return 4;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------
// Errors

// nlohmann's messages start with "[json.exception.parse_error.101] "; drop that prefix.
std::string_view strip_nlohmann_prefix(std::string_view what) noexcept {
    if (!what.empty() && what.front() == '[') {
        const auto end = what.find("] ");
        if (end != std::string_view::npos) what.remove_prefix(end + 2);
    }
    return what;
}

[[noreturn]] void fail(std::string text) { throw protocol_error(std::move(text)); }

// ---------------------------------------------------------------------------------------------
// Lenient NaN: Python's json.dumps writes bare NaN / Infinity / -Infinity. The lexer rejects
// them, so they are rewritten to `null` in a copy, and the DOM builder is told, for every null
// token in document order, which value it really stands for.

enum class null_kind : unsigned char { null, nan, pos_inf, neg_inf };

bool starts_with_at(std::string_view s, std::size_t i, std::string_view word) noexcept {
    return s.size() - i >= word.size() && s.compare(i, word.size(), word) == 0;
}

// Returns false (with `kinds` empty) when no such token occurs outside strings.
bool rewrite_non_finite(std::string_view in, std::string& out, std::vector<null_kind>& kinds) {
    if (in.find("NaN") == std::string_view::npos && in.find("Infinity") == std::string_view::npos) {
        return false; // the common case: one fast scan, no copy
    }
    bool found = false;
    bool in_string = false;
    out.reserve(in.size() + 16);
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < in.size()) {
                out += in[++i]; // escaped char, including \" and \\ .
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') in_string = true;
        // Outside strings, an 'n' can only start `null` and 'N'/'I' only these tokens; anything
        // else passes through unchanged for the parser to judge.
        static constexpr std::pair<std::string_view, null_kind> tokens[] = {
            {"null", null_kind::null}, {"NaN", null_kind::nan},
            {"Infinity", null_kind::pos_inf}, {"-Infinity", null_kind::neg_inf}};
        bool replaced = false;
        for (const auto& [word, kind] : tokens) {
            if (c == word.front() && starts_with_at(in, i, word)) {
                found = found || kind != null_kind::null;
                kinds.push_back(kind);
                out += "null";
                i += word.size() - 1;
                replaced = true;
                break;
            }
        }
        if (!replaced) out += c;
    }
    if (!found) kinds.clear(); // only plain nulls: parse the original bytes instead
    return found;
}

// ---------------------------------------------------------------------------------------------
// The DOM builder: nlohmann's SAX events -> json, with the depth limit, duplicate-key rejection
// and (for MessagePack) UTF-8 checks applied as the events arrive. Shaped like nlohmann's own
// json_sax_dom_parser so it costs about the same as json::parse.

class dom_builder {
public:
    dom_builder(json& root, std::size_t max_depth, bool is_msgpack, const std::vector<null_kind>* nulls)
        : root_(root), max_depth_(max_depth), msgpack_(is_msgpack), nulls_(nulls) {
        stack_.reserve(16);
    }

    bool null() {
        if (nulls_ != nullptr && next_null_ < nulls_->size()) {
            switch ((*nulls_)[next_null_++]) {
            case null_kind::nan: put(std::numeric_limits<double>::quiet_NaN()); return true;
            case null_kind::pos_inf: put(std::numeric_limits<double>::infinity()); return true;
            case null_kind::neg_inf: put(-std::numeric_limits<double>::infinity()); return true;
            case null_kind::null: break;
            }
        }
        put(nullptr);
        return true;
    }
    bool boolean(bool v) {
        put(v);
        return true;
    }
    bool number_integer(json::number_integer_t v) {
        put(v);
        return true;
    }
    bool number_unsigned(json::number_unsigned_t v) {
        put(v);
        return true;
    }
    bool number_float(json::number_float_t v, const json::string_t& /*text*/) {
        put(v);
        return true;
    }
    bool string(json::string_t& v) {
        // The JSON lexer already guarantees UTF-8; MessagePack strings are raw bytes.
        if (msgpack_ && !is_valid_utf8(v)) fail("invalid MessagePack: string is not valid UTF-8");
        put(std::move(v));
        return true;
    }
    bool binary(json::binary_t& /*bytes*/) {
        // Only reachable from MessagePack (bin and ext families). Our value model is JSON, and
        // every value must be forwardable to JSON peers, so these are refused, not mapped.
        fail("invalid MessagePack: bin/ext values are not accepted");
    }
    bool start_object(std::size_t /*size_hint*/) {
        enter(json::value_t::object);
        return true;
    }
    bool key(json::string_t& k) {
        if (msgpack_ && !is_valid_utf8(k)) fail("invalid MessagePack: key is not valid UTF-8");
        auto& object = *stack_.back()->get_ptr<json::object_t*>();
        auto [it, inserted] = object.try_emplace(std::move(k)); // k is untouched when not inserted
        if (!inserted) fail("duplicate key \"" + printable(k, 64) + "\"");
        slot_ = &it->second;
        return true;
    }
    bool end_object() {
        stack_.pop_back();
        return true;
    }
    bool start_array(std::size_t /*size_hint*/) {
        // The size hint is the sender's claim (up to 2^32 in MessagePack): never reserve from it.
        enter(json::value_t::array);
        return true;
    }
    bool end_array() {
        stack_.pop_back();
        return true;
    }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& ex) {
        fail(std::string(msgpack_ ? "invalid MessagePack: " : "invalid JSON: ") +
             printable(strip_nlohmann_prefix(ex.what()), 160));
    }

private:
    // Stores a new value where the grammar says it goes and returns its address. Pointers on
    // stack_ stay valid: a container only grows after its open child has been closed.
    template <class V>
    json* put(V&& v) {
        if (stack_.empty()) {
            root_ = json(std::forward<V>(v));
            return &root_;
        }
        json* top = stack_.back();
        if (auto* array = top->get_ptr<json::array_t*>()) {
            array->emplace_back(std::forward<V>(v));
            return &array->back();
        }
        *slot_ = json(std::forward<V>(v));
        return slot_;
    }

    void enter(json::value_t type) {
        if (stack_.size() >= max_depth_) {
            fail("nesting deeper than " + std::to_string(max_depth_));
        }
        stack_.push_back(put(type));
    }

    json& root_;
    std::size_t max_depth_;
    bool msgpack_;
    const std::vector<null_kind>* nulls_;
    std::size_t next_null_ = 0;
    std::vector<json*> stack_;
    json* slot_ = nullptr; // the object member the next value goes into
};

json decode(std::string_view bytes, const message_limits& limits, encoding& detected, bool lenient_nan) {
    if (bytes.size() > limits.max_bytes) {
        fail("message too large (" + std::to_string(bytes.size()) + " bytes, limit " +
             std::to_string(limits.max_bytes) + ")");
    }
    const std::size_t max_depth = limits.max_depth < 1 ? 1 : static_cast<std::size_t>(limits.max_depth);

    json root;
    switch (sniff_body(bytes)) {
    case body_kind::empty: fail("empty message");
    case body_kind::pickle: fail("pickle is not accepted");
    case body_kind::unknown: {
        static constexpr char hex[] = "0123456789abcdef";
        const auto b = static_cast<unsigned char>(bytes.front());
        fail(std::string("unknown encoding (first byte 0x") + hex[b >> 4] + hex[b & 15] + ")");
    }
    case body_kind::msgpack: {
        detected = encoding::msgpack;
        dom_builder builder(root, max_depth, true, nullptr);
        const auto* first = reinterpret_cast<const std::uint8_t*>(bytes.data());
        try {
            // strict = true: bytes after the value are an error.
            if (!json::sax_parse(first, first + bytes.size(), &builder, json::input_format_t::msgpack, true)) {
                fail("invalid MessagePack");
            }
        } catch (const json::exception& ex) {
            fail("invalid MessagePack: " + printable(strip_nlohmann_prefix(ex.what()), 160));
        }
        return root;
    }
    case body_kind::json_text: break;
    }

    detected = encoding::json;
    {
        json fast;
        if (json_scanner(bytes, max_depth).document(fast))
            return fast;
    }
    // nlohmann's lexer takes a NUL byte for the end of input, which would let `{...}\0garbage`
    // through. A raw NUL is never valid JSON (inside strings it must be escaped), so refuse it.
    if (const auto nul = bytes.find('\0'); nul != std::string_view::npos) {
        fail("invalid JSON: NUL byte at offset " + std::to_string(nul));
    }
    std::string rewritten;
    std::vector<null_kind> kinds;
    std::string_view text = bytes;
    if (lenient_nan && rewrite_non_finite(bytes, rewritten, kinds)) text = rewritten;

    dom_builder builder(root, max_depth, false, kinds.empty() ? nullptr : &kinds);
    try {
        if (!json::sax_parse(text.data(), text.data() + text.size(), &builder, json::input_format_t::json, true)) {
            fail("invalid JSON");
        }
    } catch (const json::exception& ex) {
        fail("invalid JSON: " + printable(strip_nlohmann_prefix(ex.what()), 160));
    }
    return root;
}

// ---------------------------------------------------------------------------------------------
// JSON output. Writes what nlohmann's serializer writes (compact, raw UTF-8, strict, Grisu2 for
// doubles, NaN/inf as null) without building a serializer per value: scalars and plain ASCII
// strings directly, only strings that need escaping or UTF-8 checks go through nlohmann.

// Printable ASCII without '"' and '\\': written between quotes as is.
bool is_plain_ascii(std::string_view text) noexcept {
    while (text.size() >= 8) { // eight bytes at a time
        std::uint64_t word = 0;
        std::memcpy(&word, text.data(), sizeof word);
        if ((swar::json_attention(word) | swar::has_byte(word, 0x7F)) != 0)
            return false;
        text.remove_prefix(8);
    }
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b >= 0x7F || b == '"' || b == '\\')
            return false;
    }
    return true;
}

void write_with_nlohmann(std::string& out, const json& value) {
    try {
        // Compact, raw UTF-8; strict: invalid UTF-8 throws instead of being replaced or passed on.
        nlohmann::detail::serializer<json> writer(nlohmann::detail::output_adapter<char>(out), ' ',
                                                  json::error_handler_t::strict);
        writer.dump(value, false, false, 0);
    } catch (const json::exception& ex) {
        fail("cannot encode: " + std::string(strip_nlohmann_prefix(ex.what())));
    }
}

template <class Int>
void write_integer(std::string& out, Int v) {
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec; // 24 bytes hold any 64-bit number
    out.append(buf, static_cast<std::size_t>(end - buf));
}

void write_json(std::string& out, const json& value) {
    switch (value.type()) {
    case json::value_t::null:
        out += "null";
        return;
    case json::value_t::boolean:
        out += value.get<bool>() ? "true" : "false";
        return;
    case json::value_t::number_integer:
        write_integer(out, value.get<json::number_integer_t>());
        return;
    case json::value_t::number_unsigned:
        write_integer(out, value.get<json::number_unsigned_t>());
        return;
    case json::value_t::number_float: {
        const double x = value.get<double>();
        if (!std::isfinite(x)) {
            out += "null";
            return;
        }
        char buf[64];
        const char* end = nlohmann::detail::to_chars(buf, buf + sizeof buf, x); // nlohmann's own Grisu2
        out.append(buf, static_cast<std::size_t>(end - buf));
        return;
    }
    case json::value_t::string: {
        const auto& text = *value.get_ptr<const json::string_t*>();
        if (!is_plain_ascii(text)) {
            write_with_nlohmann(out, value);
            return;
        }
        out += '"';
        out += text;
        out += '"';
        return;
    }
    case json::value_t::array: {
        out += '[';
        bool first = true;
        for (const auto& element : *value.get_ptr<const json::array_t*>()) {
            if (!first)
                out += ',';
            first = false;
            write_json(out, element);
        }
        out += ']';
        return;
    }
    case json::value_t::object: {
        out += '{';
        bool first = true;
        for (const auto& [key, member] : *value.get_ptr<const json::object_t*>()) {
            if (!first)
                out += ',';
            first = false;
            if (is_plain_ascii(key)) {
                out += '"';
                out += key;
                out += '"';
            } else {
                write_with_nlohmann(out, json(key));
            }
            out += ':';
            write_json(out, member);
        }
        out += '}';
        return;
    }
    case json::value_t::binary:
    case json::value_t::discarded:
        write_with_nlohmann(out, value);
        return;
    }
}

} // namespace

body_kind sniff_body(std::string_view bytes) noexcept {
    if (bytes.empty()) return body_kind::empty;
    const auto b0 = static_cast<unsigned char>(bytes[0]);
    // Python pickle protocols 2-5 start with the PROTO opcode 0x80 and the protocol number. As
    // MessagePack, 0x80 is a complete empty map, so a following byte could never be valid anyway.
    if (b0 == 0x80 && bytes.size() >= 2) {
        const auto b1 = static_cast<unsigned char>(bytes[1]);
        if (b1 >= 0x02 && b1 <= 0x05) return body_kind::pickle;
    }
    if ((b0 >= 0x80 && b0 <= 0x9F) || (b0 >= 0xDC && b0 <= 0xDF)) return body_kind::msgpack;

    std::size_t i = 0;
    while (i < bytes.size() && is_json_space(static_cast<unsigned char>(bytes[i]))) ++i;
    if (i == bytes.size()) return body_kind::empty;
    switch (bytes[i]) {
    case '{': case '[': case '"': case '-': case 't': case 'f': case 'n':
    case 'N': case 'I': // NaN / Infinity: JSON-looking, so report them as invalid JSON
        return body_kind::json_text;
    default:
        return bytes[i] >= '0' && bytes[i] <= '9' ? body_kind::json_text : body_kind::unknown;
    }
}

json decode_body(std::string_view bytes, const message_limits& limits, encoding& detected) {
    return decode(bytes, limits, detected, false);
}

json decode_body_lenient_nan(std::string_view bytes, const message_limits& limits, encoding& detected) {
    return decode(bytes, limits, detected, true);
}

std::string encode_body(const json& value, encoding enc) {
    std::string out;
    append_body(out, value, enc);
    return out;
}

void append_body(std::string& out, const json& value, encoding enc) {
    if (enc == encoding::msgpack) {
        // nlohmann writes MessagePack strings unchecked; check them so that we never send what
        // our own decoder (or a strict peer) would refuse. Iterative: values may be deep.
        if (value.is_string()) {
            if (!is_valid_utf8(*value.get_ptr<const json::string_t*>())) {
                fail("cannot encode: string is not valid UTF-8");
            }
        } else if (value.is_structured()) {
            std::vector<const json*> todo{&value};
            while (!todo.empty()) {
                const json* j = todo.back();
                todo.pop_back();
                if (j->is_string()) {
                    if (!is_valid_utf8(*j->get_ptr<const json::string_t*>())) {
                        fail("cannot encode: string is not valid UTF-8");
                    }
                } else if (j->is_array()) {
                    for (const auto& e : *j->get_ptr<const json::array_t*>()) todo.push_back(&e);
                } else if (j->is_object()) {
                    for (const auto& [k, v] : *j->get_ptr<const json::object_t*>()) {
                        if (!is_valid_utf8(k)) fail("cannot encode: key is not valid UTF-8");
                        todo.push_back(&v);
                    }
                } else if (j->is_binary()) {
                    fail("cannot encode: binary values are not supported");
                }
            }
        } else if (value.is_binary()) {
            fail("cannot encode: binary values are not supported");
        }
        json::to_msgpack(value, nlohmann::detail::output_adapter<char>(out));
        return;
    }
    write_json(out, value);
}

void append_string_body(std::string& out, std::string_view text, encoding enc) {
    if (enc == encoding::json && is_plain_ascii(text)) {
        out += '"';
        out += text;
        out += '"';
        return;
    }
    append_body(out, json(std::string(text)), enc);
}

bool is_valid_utf8(std::string_view text) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t n = text.size();
    while (n > 0) {
        // ASCII fast path, 8 bytes at a time.
        if (n >= 8) {
            std::uint64_t word = 0;
            std::memcpy(&word, p, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                p += 8;
                n -= 8;
                continue;
            }
        }
        char32_t cp = 0;
        const std::size_t len = utf8_sequence(p, n, cp);
        if (len == 0) return false;
        p += len;
        n -= len;
    }
    return true;
}

std::string printable(std::string_view text, std::size_t max_bytes) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size() < max_bytes ? text.size() + 8 : max_bytes + 24);
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::size_t i = 0;
    while (i < text.size() && i < max_bytes) {
        const unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7F) {
            if (c == '\\') out += '\\'; // keep escapes unambiguous
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c < 0x80) {
            switch (c) {
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out += "\\x"; out += hex[c >> 4]; out += hex[c & 15]; break;
            }
            ++i;
            continue;
        }
        char32_t cp = 0;
        const std::size_t len = utf8_sequence(p + i, text.size() - i, cp);
        if (len == 0) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
            ++i;
            continue;
        }
        // Characters that can fake or reorder log lines: C1 controls, LS/PS, bidi controls.
        const bool hostile = (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
                             (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
        if (hostile) {
            out += "\\u";
            for (int shift = 12; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 15];
        } else {
            out.append(text.data() + i, len);
        }
        i += len;
    }
    if (i < text.size()) {
        out += "...(" + std::to_string(text.size()) + " bytes)";
    }
    return out;
}

} // namespace redisrpc::detail
