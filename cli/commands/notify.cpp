// redisrpc notify <queue> <method> [args...]: send a call, wait for nothing.

#include "args.hpp"
#include "common.hpp"

#include <redisrpc/admin.hpp>

#include <iostream>
#include <memory>
#include <vector>

namespace redisrpc::cli {

namespace {

constexpr const char* notify_help = R"(What is sent, per dialect:
  jsonrpc   a JSON-RPC 2.0 notification (no id): the server runs it and sends no reply.
  classic   the original protocol has no notifications: an ordinary request is pushed with a
            reply list (<queue>:rpc:notify:<random>) that nobody reads; the server's reply
            expires after its reply TTL (60 s by default). Original Python/Ruby/PHP servers
            accept it too.
  codility  an ordinary call on <prefix>:<method>:calls; its result list expires after 120 s.

notify returns (exit 0) as soon as Redis has accepted the message: it cannot tell whether a
server is running, nor whether the method succeeded. Arguments as for 'call'.)";

struct notify_settings {
    std::string queue;
    std::string method;
    std::vector<std::string> words;
};

} // namespace

void register_notify(CLI::App& app, const global_options& global, command_runner& selected) {
    auto s = std::make_shared<notify_settings>();
    CLI::App* sub =
        app.add_subcommand("notify", "notify <queue> <method> [args...]: send a call, wait for nothing");
    sub->footer(notify_help);
    add_queue_argument(*sub, s->queue);
    sub->add_option("method", s->method, "method name")->required();
    // Everything after the last positional (queue, method) is an argument, taken verbatim: CLI11
    // would split a JSON array such as [1,2] into elements, and read -x or --json as options.
    sub->prefix_command();
    sub->callback([s, sub, &global, &selected] {
        s->words = sub->remaining();
        selected = [s, &global] {
            const auto a = parse_call_arguments(s->words);
            admin::notify(global.url, s->queue, s->method, a.args, a.kwargs, global.wire, global.timeout);
            if (global.json)
                std::cout << to_text(
                                 nlohmann::ordered_json{{"ok", true}, {"result", nullptr}, {"code", "ok"}})
                          << std::endl;
            return static_cast<int>(exit_ok);
        };
    });
}

} // namespace redisrpc::cli
