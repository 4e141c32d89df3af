// Replays the fuzz corpora and every crash reproducer through the fuzz targets, so a fixed bug
// stays fixed in the ordinary (gcc) test run. The target bodies are header-only and shared with
// the libFuzzer harnesses (fuzz/targets.hpp).

#include "../../fuzz/targets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path fuzz_dir = fs::path(REDISRPC_SOURCE_DIR) / "fuzz";

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs every file under <fuzz_dir>/<kind>/<harness>/ through its target. Returns the file count.
std::size_t replay(const char* kind) {
    std::size_t count = 0;
    const fs::path base = fuzz_dir / kind;
    if (!fs::is_directory(base))
        return 0;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(base)) {
        if (e.is_directory())
            dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
    for (const auto& dir : dirs) {
        const std::string harness = dir.filename().string();
        const auto* target = redisrpc::fuzz::find_target(harness);
        if (target == nullptr) {
            // e.g. a dialect that this tree does not have: nothing to replay it through.
            ADD_FAILURE() << "no fuzz target named '" << harness << "' for " << dir;
            continue;
        }
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(dir)) {
            if (e.is_regular_file())
                files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            const std::string bytes = read_all(file);
            try {
                target->run(bytes);
            } catch (const redisrpc::fuzz::fuzz_violation& e) {
                ADD_FAILURE() << harness << ": " << file.filename() << ": invariant broken: " << e.what();
            } catch (const std::exception& e) {
                ADD_FAILURE() << harness << ": " << file.filename() << ": unexpected exception: " << e.what();
            }
            ++count;
        }
    }
    return count;
}

TEST(FuzzRegressions, EveryReproducerPasses) {
    (void)replay("regressions"); // empty until a fuzzer finds something
}

TEST(FuzzRegressions, SeedCorporaPass) {
    EXPECT_GT(replay("corpus"), 50u); // the seeds exist and every one is handled
}

TEST(FuzzRegressions, EveryHarnessHasSeeds) {
    for (const auto& t : redisrpc::fuzz::targets()) {
        EXPECT_TRUE(fs::is_directory(fuzz_dir / "corpus" / t.name)) << t.name;
    }
}

} // namespace
