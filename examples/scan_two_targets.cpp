// A scan through the library, as another program would run one: two mock servers on
// 127.0.0.1 (the seed case and a compliant server), both probed by mxtls::scan_runner,
// each finished line kept as its JSONL record, then the records read back and each
// record's outcome printed in list order.
//
//   $ build/release/examples/scan_two_targets
//   line 1 [127.0.0.1]:40123: certificate
//   line 2 [127.0.0.1]:40125: senders-lose-tls
//   2 probed, exit code 1
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "mxtls/mock_server.hpp"
#include "mxtls/scan_records.hpp"
#include "mxtls/scan_runner.hpp"

namespace {

// A built-in scenario served on a free loopback port of `io`.
std::unique_ptr<mxtls::mock_server> serve(asio::io_context& io, const std::string& name) {
  mxtls::scenario_error error;
  auto sc = mxtls::builtin(name, error);
  if (!sc) throw std::runtime_error(error.what());
  auto server = std::make_unique<mxtls::mock_server>(io, *sc, mxtls::make_identity(*sc),
                                                     mxtls::server_options{});
  server->listen(mxtls::parse_listen_address("127.0.0.1:0"));
  return server;
}

std::string target_of(const mxtls::mock_server& s) { return "[127.0.0.1]:" + std::to_string(s.local_endpoint().port()); }

}  // namespace

int main() try {
  // The servers run on their own thread, as remote MTAs would.
  asio::io_context server_io;
  auto compliant = serve(server_io, "compliant");
  auto seed = serve(server_io, "seed");
  auto work = asio::make_work_guard(server_io);
  std::thread server_thread([&] { server_io.run(); });

  mxtls::scan_list list;
  list.targets = {{.line = 1, .text = target_of(*compliant), .error = {}}, {.line = 2, .text = target_of(*seed), .error = {}}};
  mxtls::scan_runner_options options;
  options.scan.concurrency = 2;

  // The sink runs on the scan's threads, possibly at once.
  std::mutex m;
  std::string records;
  mxtls::scan_runner runner(std::move(list), options, [&](const mxtls::scan_result& r) {
    std::string record = mxtls::scan_record(r);
    std::lock_guard lock(m);
    records += record;
  });
  mxtls::scan_summary summary = runner.run();

  work.reset();
  server_io.stop();
  server_thread.join();

  std::map<std::size_t, std::string> by_line;
  std::istringstream in(records);
  mxtls::record_reader reader(in);
  for (auto it = reader.next(); it.kind != mxtls::record_reader::item::end; it = reader.next())
    if (it.kind == mxtls::record_reader::item::record)
      by_line[it.rec.line] = it.rec.input + ": " + it.rec.outcome_text;
  for (const auto& [line, text] : by_line) std::printf("line %zu %s\n", line, text.c_str());
  std::printf("%zu probed, exit code %d\n", summary.probed, mxtls::scan_exit_code(summary, false));
  return by_line.size() == 2 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "scan_two_targets: %s\n", e.what());
  return 2;
}
