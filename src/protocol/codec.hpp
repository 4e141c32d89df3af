#pragma once
// The interface every dialect implements, on both sides. Codecs are pure: no I/O, no clocks
// except where the dialect's wire format carries a timestamp, no exceptions escaping decode.

#include "protocol/message.hpp"

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace redisrpc::detail {

class server_codec {
public:
    virtual ~server_codec() = default;
    /// Lists the server pops for the given bound method names.
    [[nodiscard]] virtual std::vector<std::string> queues(std::span<const std::string> methods) const = 0;
    /// One popped message from `source_key` -> calls to run. Never throws.
    [[nodiscard]] virtual decoded_job decode(std::string_view source_key, std::string_view bytes) const = 0;
    /// Outcomes (one per job.calls entry, same order; or one for job.rejected) -> replies to push.
    [[nodiscard]] virtual std::vector<outgoing_reply> encode(const decoded_job& job,
                                                             std::span<const call_outcome> outcomes) const = 0;
    /// The liveness key this dialect refreshes while the serve loop is healthy, if any.
    [[nodiscard]] virtual std::string heartbeat_key(std::string_view server_kind, std::string_view server_id) const {
        (void)server_kind;
        (void)server_id;
        return {};
    }
};

class client_codec {
public:
    virtual ~client_codec() = default;
    /// Builds the wire request. `reply_key` is the list the client will wait on; dialects whose
    /// reply list is fixed by the protocol (codility) ignore it and return their own.
    [[nodiscard]] virtual outgoing_request encode(const call_request& call, std::string_view reply_key,
                                                  encoding enc) const = 0;
    /// @throws protocol_error when the bytes are not a response of this dialect.
    [[nodiscard]] virtual decoded_response decode(std::string_view bytes) const = 0;
};

} // namespace redisrpc::detail
