#pragma once
// Wire helpers shared by the dialect codecs (classic, codility, jsonrpc). Each codec used to
// carry its own identical copy; keeping one here means the dialects cannot drift apart in how
// they write maps, clean text or validate the fields they have in common. Internal to
// src/protocol; not part of the public API.

#include "protocol/body.hpp"
#include "protocol/message.hpp"

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace redisrpc::detail {

/// Writes a body as a map with literal ASCII keys, in JSON or MessagePack, so a codec emits
/// members in its peers' order ("function_call" first, "ts" first, "jsonrpc" first, ...)
/// without copying argument or result values into a temporary json object. A nested map is
/// written by its own map_writer on the same string.
class map_writer {
public:
    map_writer(std::string& out, encoding enc) : out_(out), enc_(enc) {}

    /// `members` is needed up front by MessagePack; our maps never have more than 15.
    void begin(unsigned members) {
        out_ += enc_ == encoding::msgpack ? static_cast<char>(0x80U | (members & 0x0FU)) : '{'; // fixmap
        first_ = true;
    }
    /// Keys are ASCII and shorter than 32 bytes (a MessagePack fixstr).
    void key(std::string_view k) {
        if (enc_ == encoding::msgpack) {
            out_ += static_cast<char>(0xA0U | (k.size() & 0x1FU));
            out_ += k;
            return;
        }
        if (!first_) out_ += ',';
        first_ = false;
        out_ += '"';
        out_ += k;
        out_ += "\":";
    }
    /// @throws protocol_error when a string is not valid UTF-8 (see append_body).
    void value(const json& v) { append_body(out_, v, enc_); }
    /// A string value, written without building a json first. @throws protocol_error as value().
    void text(std::string_view s) { append_string_body(out_, s, enc_); }
    /// An integer value (JSON: its decimal digits; MessagePack: the smallest representation).
    void integer(std::int64_t v) {
        if (enc_ == encoding::msgpack) {
            append_body(out_, json(v), enc_);
            return;
        }
        char buf[24];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
        (void)ec; // 24 bytes hold any 64-bit number
        out_.append(buf, static_cast<std::size_t>(end - buf));
    }
    void end() {
        if (enc_ == encoding::json) out_ += '}';
    }

private:
    std::string& out_;
    encoding enc_;
    bool first_ = true;
};

/// Stable names of error codes for the "error_code" extension field ("method_not_found", ...).
[[nodiscard]] std::string_view error_code_name(error_code code) noexcept;
/// The inverse of error_code_name; nullopt for unknown names.
[[nodiscard]] std::optional<error_code> error_code_from_name(std::string_view name) noexcept;
/// The code named by a reply's "error_code" member (classic and codility replies): a known name
/// other than "none", else handler_error (a handler's exception, as the original peers send it).
[[nodiscard]] error_code error_code_member(const json::object_t& reply);

/// True when `s` holds C0 controls, DEL or C1 controls (U+0080..U+009F, C2 80..C2 9F): names
/// must be plain text.
[[nodiscard]] bool has_control_chars(std::string_view s) noexcept;

/// "0", "1", "17"... (no sign, no leading zero, at most 9 digits): a positional argument carried
/// as an object key (PHP's args object, codility's kw).
[[nodiscard]] bool parse_index(std::string_view key, std::size_t& index) noexcept;

/// A handler's message may hold any bytes; the wire needs valid UTF-8 (else printable()).
[[nodiscard]] std::string wire_text(const std::string& text);

/// An error member's text: the string itself (moved out), or the JSON of any other value.
[[nodiscard]] std::string take_text(json& value);

/// The "deadline_ms" extension member: an integer that fits int64 (Unix epoch ms), else nullopt.
[[nodiscard]] std::optional<std::int64_t> deadline_ms_value(const json& member);
/// The rejection reason when deadline_ms_value() refuses a member.
inline constexpr char bad_deadline_ms[] = "deadline_ms must be an integer (Unix epoch ms)";

/// Server side: decodes a request body into `doc`, setting `enc` only on success. Returns the
/// log-safe problem (a parse_error) when decode_body throws protocol_error.
[[nodiscard]] std::optional<std::string> decode_request_body(std::string_view bytes, const message_limits& limits,
                                                             json& doc, encoding& enc);

/// Client side: decode_body_lenient_nan, with "<what>: " put before a protocol_error's text.
/// @throws protocol_error
[[nodiscard]] json decode_reply_body(std::string_view bytes, const message_limits& limits, std::string_view what);

/// Client side: call.args must be null or an array, call.kwargs null or an object.
/// @throws usage_error
void check_call_arguments(const call_request& call);

/// Marks `job` rejected: no calls, `problem` = reason, `rejected` = failure(code, reason).
void mark_rejected(decoded_job& job, error_code code, std::string reason);

/// For use inside `catch (...)` of a server decode() (which never throws): the reason of the
/// internal_error rejection for the exception being handled.
[[nodiscard]] std::string decode_failure_reason();

/// Single-reply dialects (classic, codility): the outcome to answer, i.e. outcomes[0], else the
/// rejection, else nullptr (nothing to answer).
[[nodiscard]] const call_outcome* single_outcome(const decoded_job& job,
                                                 std::span<const call_outcome> outcomes) noexcept;

/// `write(outcome)`; when the outcome cannot be encoded (protocol_error: invalid UTF-8),
/// `write` of an internal_error saying so instead of sending garbage.
template <class Write>
[[nodiscard]] std::string encode_or_internal_error(const Write& write, const call_outcome& outcome) {
    try {
        return write(outcome);
    } catch (const protocol_error& ex) {
        return write(call_outcome::failure(error_code::internal_error,
                                           std::string("result could not be encoded: ") + ex.what()));
    }
}

} // namespace redisrpc::detail
