// A server process for the fault-injection suite: it records every execution in a file that
// survives SIGKILL (one O_APPEND write per line), so the tests can count executions per call.
//
//   fault_server <url> <queue> <server-id> <at-most-once|at-least-once> <execution-log> [workers]
//
// Methods: work(token, ms) -> token, after sleeping ms (logs "start <token> <server-id>", then
//          "done <token> <server-id>");
//          big(n) -> a string of n bytes.

#include <redisrpc/server.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

int execution_log = -1;
std::string server_id;

void record(const std::string& what, const std::string& token) {
    const std::string line = what + " " + token + " " + server_id + "\n";
    // One write per line with O_APPEND: lines of concurrent workers never interleave.
    if (::write(execution_log, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        std::perror("execution log");
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s url queue server-id at-most-once|at-least-once log [workers]\n",
                     argv[0]);
        return 2;
    }
    execution_log = ::open(argv[5], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (execution_log < 0) {
        std::perror(argv[5]);
        return 2;
    }
    redisrpc::server_options options;
    server_id = argv[3];
    options.server_id = server_id;
    options.delivery = std::string(argv[4]) == "at-least-once" ? redisrpc::delivery::at_least_once
                                                               : redisrpc::delivery::at_most_once;
    options.workers = argc > 6 ? static_cast<std::size_t>(std::atoi(argv[6])) : 1;
    options.poll_interval = std::chrono::milliseconds(100);
    try {
        redisrpc::server srv{argv[1], argv[2], options};
        srv.bind("work", [](const std::string& token, int ms) {
            record("start", token);
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
            record("done", token);
            return token;
        });
        srv.bind("big", [](int n) { return std::string(static_cast<std::size_t>(n), 'x'); });
        srv.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fault_server: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "fault_server: stopped\n");
    return 0;
}
