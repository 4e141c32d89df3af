#pragma once
// Message bodies, shared by every dialect: bytes <-> json with encoding detection and the limits
// that keep hostile input harmless. Pure functions; no I/O.
//
// Decisions (see docs/protocol.md, "Encodings and limits"):
// - Detection looks at the first byte only (after JSON whitespace):
//     JSON     any JSON value start: `{ [ " - 0-9 t f n` (dialects check the top-level shape
//              themselves, so "expected an object" is reported instead of "unknown encoding").
//     MsgPack  a map or array marker: 0x80-0x9f, 0xdc-0xdf.
//     pickle   0x80 followed by a protocol byte 0x02-0x05 (Python's PROTO opcode). Rejected
//              with "pickle is not accepted"; the bytes are never interpreted.
//   A UTF-8 byte-order mark is not skipped: no peer sends one.
// - JSON is strict: RFC 8259 syntax, valid UTF-8, no duplicate keys, no trailing bytes.
// - MessagePack: same depth limit and duplicate-key rule; strings must be valid UTF-8 (so every
//   decoded value can be re-sent as JSON); map keys must be strings; bin and ext values are
//   rejected (the value model is JSON); trailing bytes are rejected; float NaN/inf are kept.
// - Depth is counted while parsing (arrays and objects; the top level is depth 1), so an
//   over-deep document is never built.
// - decode_body_lenient_nan() additionally accepts the bare tokens NaN, Infinity and -Infinity
//   that Python's json.dumps writes, as the doubles NaN, +inf and -inf. Only responses use it.

#include <redisrpc/convert.hpp>
#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace redisrpc::detail {

using json = nlohmann::json;

/// What the first bytes of a body look like. Does not validate anything beyond that.
enum class body_kind { json_text, msgpack, pickle, empty, unknown };

/// Classifies `bytes` by its first byte(s) (see the rules at the top of this file).
[[nodiscard]] body_kind sniff_body(std::string_view bytes) noexcept;

/// Decodes one message body.
/// @param detected set to the encoding as soon as it is recognised (before parsing), so a caller
///        can answer in kind even when parsing then fails.
/// @throws protocol_error with a short, log-safe message: "message too large (...)",
///         "empty message", "pickle is not accepted", "unknown encoding (first byte 0x..)",
///         "invalid JSON: ...", "invalid MessagePack: ...", "nesting deeper than N",
///         "duplicate key \"k\"", "invalid UTF-8 in MessagePack string", ...
[[nodiscard]] json decode_body(std::string_view bytes, const message_limits& limits, encoding& detected);

/// Like decode_body, but bare NaN / Infinity / -Infinity tokens outside strings (Python's
/// json.dumps output for non-finite floats) decode to the doubles NaN / +inf / -inf.
/// For responses only: requests stay strict.
[[nodiscard]] json decode_body_lenient_nan(std::string_view bytes, const message_limits& limits,
                                           encoding& detected);

/// Encodes a body: compact JSON (raw UTF-8, like the Ruby peer; non-finite floats become null) or
/// MessagePack (smallest representation per value, as nlohmann writes it).
/// @throws protocol_error when a string is not valid UTF-8 (checked for both encodings, so a
///         MessagePack body we send is always one we would accept).
[[nodiscard]] std::string encode_body(const json& value, encoding enc);

/// encode_body, appending to `out` (saves a copy when a body is assembled from parts).
/// On throw, `out` may hold a partial encoding.
void append_body(std::string& out, const json& value, encoding enc);

/// append_body for a string value, without building a json value first (same bytes, same errors).
void append_string_body(std::string& out, std::string_view text, encoding enc);

/// True when `text` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

// printable() (log-safe text) is declared in <redisrpc/convert.hpp> and implemented in body.cpp.


} // namespace redisrpc::detail
