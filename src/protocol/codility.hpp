#pragma once
// The Codility redis-rpc dialect (Python package and Go `redrpc`), both sides.
//
//   call queue   {prefix}:{func}:calls            one list per bound function
//   result list  {prefix}:{func}:result:{id}      one list per call, EXPIRE 120 by the server
//   heartbeat    {prefix}:{server_kind}:{server_id}:alive   SET .. EX 4, refreshed every 2 s
//   call         {"id": "<uuid4>", "ts": "<ISO-8601>", "kw": {...}}
//   result       {"ts": ..., "res": V}  |  {"ts": ..., "err": "<Type: message>"}
//
// Extensions (docs/protocol-codility.md), ignored by the original peers:
//   call    "deadline_ms" (integer, Unix epoch ms); positional arguments as kw keys "0","1",...
//   result  "error_code" (on errors other than a handler's exception)

#include "protocol/codec.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace redisrpc::detail {

/// Where codecs of this dialect read the time for the "ts" member (injectable for tests).
using wall_clock_fn = std::function<std::chrono::system_clock::time_point()>;

/// The TTL the protocol puts on call queues and result lists.
inline constexpr std::chrono::seconds codility_expire{120};
/// Longest call id accepted (a uuid4 has 36 characters).
inline constexpr std::size_t codility_max_id_length = 128;

/// True when `id` can name a result list: 1..128 characters of [A-Za-z0-9._:-].
[[nodiscard]] bool codility_id_ok(std::string_view id) noexcept;
/// True for an ISO-8601 date-time as Python's isoformat() (no zone) or Go's RFC 3339 writes it:
/// `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z | ±HH:MM | ±HHMM]`.
[[nodiscard]] bool codility_timestamp_ok(std::string_view ts) noexcept;
/// RFC 3339 in UTC with microseconds: `2024-05-01T12:00:00.123456Z`.
[[nodiscard]] std::string codility_timestamp(std::chrono::system_clock::time_point t);

class codility_server_codec final : public server_codec {
public:
    explicit codility_server_codec(std::string prefix, message_limits limits = {},
                                   wall_clock_fn clock = nullptr);

    /// `{prefix}:{m}:calls` for every bound method, in the given order.
    [[nodiscard]] std::vector<std::string> queues(std::span<const std::string> methods) const override;

    /// Never throws. The function name comes from `source_key`. Without a usable "id" nobody can
    /// be answered: the message is dropped (rejected, reply_key empty, `problem` set). With one,
    /// reply_key is the result list and shape errors are answered.
    [[nodiscard]] decoded_job decode(std::string_view source_key, std::string_view bytes) const override;

    /// One result per job on job.reply_key with TTL 120 s, in the request's encoding.
    /// Handler errors go out as the handler's text ("std::domain_error: division by zero");
    /// other errors as "<Kind>: <text>" plus "error_code". Unencodable results become an
    /// internal_error result.
    [[nodiscard]] std::vector<outgoing_reply> encode(const decoded_job& job,
                                                     std::span<const call_outcome> outcomes) const override;

    /// `{prefix}:{server_kind}:{server_id}:alive`.
    [[nodiscard]] std::string heartbeat_key(std::string_view server_kind, std::string_view server_id) const override;

private:
    std::string prefix_;
    message_limits limits_;
    wall_clock_fn clock_;
};

class codility_client_codec final : public client_codec {
public:
    explicit codility_client_codec(std::string prefix, message_limits limits = {}, wall_clock_fn clock = nullptr);

    /// {"id":..,"ts":..,"kw":{..}} (+ "deadline_ms" when set) to `{prefix}:{method}:calls` with
    /// queue_ttl 120 s; the reply list is `{prefix}:{method}:result:{id}` (`reply_key` is
    /// ignored). Positional arguments become kw keys "0","1",... (our extension).
    /// @throws usage_error when call.id is not a usable id string, the method name is empty, or
    ///         a keyword argument is named like a position; protocol_error on invalid UTF-8.
    [[nodiscard]] outgoing_request encode(const call_request& call, std::string_view reply_key,
                                          encoding enc) const override;

    /// Accepts our results and those of the Python server ("err_traceback" goes to
    /// outcome.data, "verbose" is ignored, bare NaN/Infinity accepted) and the Go server.
    /// An "err" that is not null, false or "" is a failure.
    /// @throws protocol_error for anything else.
    [[nodiscard]] decoded_response decode(std::string_view bytes) const override;

private:
    std::string prefix_;
    message_limits limits_;
    wall_clock_fn clock_;
};

} // namespace redisrpc::detail
