#pragma once
// A fast, strict scanner for the JSON our peers send. nlohmann's lexer costs ~80 instructions per
// byte (a push_back per character), and its DOM costs a std::map node and a heap string per
// member; messages are mostly small objects of plain strings and numbers with known keys.
//
// The scanner understands a subset of JSON — no escapes, no control characters, valid UTF-8, no
// duplicate keys, depth within the limit, finite numbers — and gives up (returns false) on
// anything else, so that the full parser decides, with its exact error messages. Accepting means:
// nlohmann would accept the same bytes and build the same value.
//
// Besides whole documents it offers the pieces a codec needs to read a known object shape
// member by member, straight into its own structs (see classic_server_codec::decode_canonical):
// only the values whose type is open (arguments, results, ids) become json.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace redisrpc::detail {

using json = nlohmann::json;

[[nodiscard]] constexpr bool is_json_space(unsigned char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Eight bytes of a string at a time (SWAR). A word holds the byte b when has_zero(word ^
// repeat(b)); a byte below n (n <= 0x80) shows through the borrow of word - repeat(n).
namespace swar {
inline constexpr std::uint64_t ones = 0x0101010101010101ULL;
inline constexpr std::uint64_t highs = 0x8080808080808080ULL;
[[nodiscard]] constexpr std::uint64_t has_zero(std::uint64_t v) noexcept { return (v - ones) & ~v & highs; }
[[nodiscard]] constexpr std::uint64_t has_byte(std::uint64_t v, unsigned char b) noexcept {
    return has_zero(v ^ (ones * b));
}
[[nodiscard]] constexpr std::uint64_t has_less(std::uint64_t v, unsigned char n) noexcept {
    return (v - ones * n) & ~v & highs;
}
/// Nonzero when a byte of `v` ends or escapes a JSON string, is a control character, or starts a
/// UTF-8 sequence (0x80 and above): the bytes a string scanner or writer must look at one by one.
[[nodiscard]] constexpr std::uint64_t json_attention(std::uint64_t v) noexcept {
    return has_byte(v, '"') | has_byte(v, '\\') | has_less(v, 0x20) | (v & highs);
}
} // namespace swar

class json_scanner {
public:
    /// `max_depth` counts arrays and objects; the top level is depth 1.
    json_scanner(std::string_view text, std::size_t max_depth) noexcept
        : p_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

    /// The whole text as one value (nothing but whitespace after it).
    [[nodiscard]] bool document(json& root);

    /// One value, inside containers that are `depth` deep (0 at the top level).
    [[nodiscard]] bool value(json& out, std::size_t depth);

    /// A plain string (at its opening quote); `text` views the scanned bytes.
    [[nodiscard]] bool string(std::string_view& text) noexcept;

    /// An integer that fits int64 (no fraction, no exponent).
    [[nodiscard]] bool int64(std::int64_t& out) noexcept;

    /// Opens an object at `depth` (1 for the top level): skips space, expects '{'.
    [[nodiscard]] bool open_object(std::size_t depth) noexcept;

    /// Reads the next member name of the open object and the ':' after it. Returns false at the
    /// object's '}' (consumed; `ok` true) or on a syntax error (`ok` false). Before every member
    /// but the first it expects a ','.
    [[nodiscard]] bool next_key(std::string_view& key, bool& ok) noexcept;

    /// True when the next value is the literal null (consumed).
    [[nodiscard]] bool null() noexcept;

    /// The next non-space byte, or '\0' at the end.
    [[nodiscard]] char peek() noexcept {
        skip_space();
        return p_ == end_ ? '\0' : *p_;
    }

    /// Only whitespace is left.
    [[nodiscard]] bool at_end() noexcept {
        skip_space();
        return p_ == end_;
    }

private:
    void skip_space() noexcept {
        while (p_ != end_ && is_json_space(static_cast<unsigned char>(*p_)))
            ++p_;
    }
    bool literal(std::string_view word) noexcept;
    bool object(json& out, std::size_t depth);
    bool array(json& out, std::size_t depth);
    bool number(json& out);
    // Scans the number's bytes; is_float when it has a fraction or an exponent.
    bool number_text(std::string_view& text, bool& is_float) noexcept;

    const char* p_;
    const char* end_;
    std::size_t max_depth_;
    bool in_object_first_ = false; // next_key: no ',' before the first member
};

} // namespace redisrpc::detail
