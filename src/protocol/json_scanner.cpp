#include "protocol/json_scanner.hpp"

#include "protocol/body.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace redisrpc::detail {

namespace {

// One table load per byte of a string instead of three comparisons.
enum class byte_class : unsigned char { plain, quote, high, refused };

constexpr std::array<byte_class, 256> make_byte_classes() {
    std::array<byte_class, 256> classes{};
    for (std::size_t b = 0; b < classes.size(); ++b) {
        if (b < 0x20 || b == '\\')
            classes[b] = byte_class::refused; // control characters and escapes: the full parser
        else if (b == '"')
            classes[b] = byte_class::quote;
        else if (b >= 0x80)
            classes[b] = byte_class::high; // UTF-8, validated once at the end
        else
            classes[b] = byte_class::plain;
    }
    return classes;
}

constexpr auto byte_classes = make_byte_classes();

} // namespace

bool json_scanner::document(json& root) {
    skip_space();
    if (!value(root, 0))
        return false;
    return at_end();
}

bool json_scanner::value(json& out, std::size_t depth) {
    skip_space();
    if (p_ == end_)
        return false;
    switch (*p_) {
    case '{':
        return object(out, depth + 1);
    case '[':
        return array(out, depth + 1);
    case '"': {
        std::string_view text;
        if (!string(text))
            return false;
        out = json(std::string(text));
        return true;
    }
    case 't':
        if (!literal("true"))
            return false;
        out = true;
        return true;
    case 'f':
        if (!literal("false"))
            return false;
        out = false;
        return true;
    case 'n':
        if (!literal("null"))
            return false;
        out = nullptr;
        return true;
    default:
        return number(out);
    }
}

bool json_scanner::literal(std::string_view word) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
        return false;
    p_ += word.size();
    return true;
}

bool json_scanner::null() noexcept { return peek() == 'n' && literal("null"); }

// Plain strings only: no escapes, no control characters, valid UTF-8.
bool json_scanner::string(std::string_view& text) noexcept {
    if (peek() != '"')
        return false;
    const char* start = ++p_;
    bool ascii = true;
    // Eight bytes at a time while none of them needs a look.
    while (end_ - p_ >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p_, sizeof word);
        if (swar::json_attention(word) != 0)
            break;
        p_ += 8;
    }
    while (p_ != end_) {
        const auto c = static_cast<unsigned char>(*p_);
        switch (byte_classes[c]) {
        case byte_class::plain:
            ++p_;
            continue;
        case byte_class::quote:
            text = std::string_view(start, static_cast<std::size_t>(p_ - start));
            ++p_;
            return ascii || is_valid_utf8(text);
        case byte_class::high:
            ascii = false;
            ++p_;
            continue;
        case byte_class::refused:
            return false;
        }
    }
    return false;
}

bool json_scanner::open_object(std::size_t depth) noexcept {
    if (depth > max_depth_ || peek() != '{')
        return false;
    ++p_;
    in_object_first_ = true;
    return true;
}

bool json_scanner::next_key(std::string_view& key, bool& ok) noexcept {
    const bool first = in_object_first_;
    in_object_first_ = false; // a nested object opened after this member starts its own count
    ok = false;
    char c = peek();
    if (c == '}') {
        ++p_;
        ok = true;
        return false;
    }
    if (!first) {
        if (c != ',')
            return false;
        ++p_;
    }
    if (!string(key))
        return false;
    if (peek() != ':')
        return false;
    ++p_;
    ok = true;
    return true;
}

bool json_scanner::object(json& out, std::size_t depth) {
    if (!open_object(depth))
        return false;
    if (out.is_object()) {
        out.get_ptr<json::object_t*>()->clear();
    } else {
        out = json::object();
    }
    auto& members = *out.get_ptr<json::object_t*>();
    std::string_view key;
    bool ok = false;
    while (next_key(key, ok)) {
        auto [it, inserted] = members.try_emplace(std::string(key));
        if (!inserted)
            return false; // duplicate key: the full parser reports it
        if (!value(it->second, depth))
            return false;
    }
    return ok;
}

bool json_scanner::array(json& out, std::size_t depth) {
    if (depth > max_depth_)
        return false;
    ++p_;
    if (out.is_array()) {
        out.get_ptr<json::array_t*>()->clear(); // e.g. call_request's default []: no new allocation
    } else {
        out = json::array();
    }
    auto& elements = *out.get_ptr<json::array_t*>();
    if (peek() == ']') {
        ++p_;
        return true;
    }
    while (true) {
        elements.emplace_back();
        if (!value(elements.back(), depth))
            return false;
        const char c = peek();
        if (c == ']') {
            ++p_;
            return true;
        }
        if (c != ',')
            return false;
        ++p_;
    }
}

// RFC 8259 number syntax.
bool json_scanner::number_text(std::string_view& text, bool& is_float) noexcept {
    skip_space();
    const char* start = p_;
    auto digit = [this] { return p_ != end_ && *p_ >= '0' && *p_ <= '9'; };
    if (p_ != end_ && *p_ == '-')
        ++p_;
    if (!digit())
        return false;
    if (*p_ == '0') {
        ++p_;
    } else {
        while (digit())
            ++p_;
    }
    is_float = false;
    if (p_ != end_ && *p_ == '.') {
        is_float = true;
        ++p_;
        if (!digit())
            return false;
        while (digit())
            ++p_;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
        is_float = true;
        ++p_;
        if (p_ != end_ && (*p_ == '+' || *p_ == '-'))
            ++p_;
        if (!digit())
            return false;
        while (digit())
            ++p_;
    }
    text = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
}

// Integers become number_unsigned (>= 0) or number_integer (< 0) as with nlohmann, others (and
// integers out of range, left to the full parser) a double from from_chars, which rounds
// correctly like nlohmann's strtod.
bool json_scanner::number(json& out) {
    std::string_view text;
    bool is_float = false;
    if (!number_text(text, is_float))
        return false;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    if (is_float) {
        double v = 0;
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || ptr != last || !std::isfinite(v))
            return false;
        out = json(v);
        return true;
    }
    if (*first == '-') {
        std::int64_t v = 0;
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || ptr != last)
            return false;
        out = json(static_cast<json::number_integer_t>(v));
    } else {
        std::uint64_t v = 0;
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || ptr != last)
            return false;
        out = json(static_cast<json::number_unsigned_t>(v));
    }
    return true;
}

bool json_scanner::int64(std::int64_t& out) noexcept {
    std::string_view text;
    bool is_float = false;
    if (!number_text(text, is_float) || is_float)
        return false;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
}

} // namespace redisrpc::detail
