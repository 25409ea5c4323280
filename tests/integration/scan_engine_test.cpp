// The scan engine against mock servers in one process: outcomes per kind of server,
// the concurrency cap, the per-address gate, the rate, stop(), and many DNS lookups
// waiting at once. Runs in the release and the ASan/UBSan builds.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <asio/executor_work_guard.hpp>

#include "mxtls/mock_server.hpp"
#include "mxtls/probe_report.hpp"
#include "mxtls/scan.hpp"

namespace mxtls {
namespace {

using namespace std::chrono_literals;

struct served {
  std::unique_ptr<mock_server> server;
  served(asio::io_context& io, const std::string& name, server_options opt = {}) {
    scenario_error e;
    auto s = builtin(name, e);
    if (!s) throw std::runtime_error(e.what());
    server = std::make_unique<mock_server>(io, *s, make_identity(*s), opt);
    server->listen(parse_listen_address("127.0.0.1:0"));
  }
  std::string target() const { return "[127.0.0.1]:" + std::to_string(server->local_endpoint().port()); }
};

scan_options fast() {
  scan_options o;
  auto& t = o.probe.session.timeouts;
  t.connect = 2000ms;
  t.banner = 400ms;
  t.command = 2000ms;
  t.tls = 5000ms;
  o.probe.dns_timeout = 500ms;
  return o;
}

std::vector<scan_line> lines_of(const std::vector<std::string>& targets) {
  std::vector<scan_line> v;
  for (const auto& t : targets) v.push_back({v.size() + 1, t, {}});
  return v;
}

struct run_result {
  std::map<std::size_t, probe_report> by_line;
  std::vector<std::string> errors;
  scan_progress progress;
  std::chrono::milliseconds took{};
};

// Runs one scanner on `io` (where the servers live too) until it ends.
run_result run(asio::io_context& io, const scan_options& o, probe_context& ctx, const std::vector<scan_line>& work,
               std::function<void(scanner&, std::size_t)> after_each = {}) {
  run_result out;
  std::unique_ptr<scanner> s;
  scan_feed feed(work, o.rate, [&](const scan_line& l, const probe_report& r, const std::string& error) {
    if (!error.empty()) out.errors.push_back(error);
    out.by_line[l.line] = r;
    if (after_each) after_each(*s, out.by_line.size());
  });
  s = std::make_unique<scanner>(o, ctx, feed);
  bool done = false;
  auto start = std::chrono::steady_clock::now();
  asio::co_spawn(io, s->run(), [&](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
    done = true;
  });
  auto deadline = start + 60s;
  while (!done && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  EXPECT_TRUE(done) << "the scan did not end";
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  out.progress = feed.progress();
  EXPECT_TRUE(feed.stopping() || out.progress.done == work.size());
  return out;
}

TEST(ScanEngine, EachKindOfServerGetsItsOutcome) {
  asio::io_context io;
  served seed(io, "seed"), compliant(io, "compliant"), refused454(io, "starttls-454"), busy(io, "busy-421"),
      tarpit(io, "tarpit"), ehlo_refused(io, "ehlo-refused"), injection(io, "command-injection");
  scan_options o = fast();
  o.concurrency = 4;
  o.probe.resolver = "127.0.0.1@1";  // nothing answers there: names fail in DNS
  probe_context ctx(o.probe);
  auto work = lines_of({seed.target(), compliant.target(), refused454.target(), busy.target(), tarpit.target(),
                        ehlo_refused.target(), "[127.0.0.1]:1", "unresolvable.mxtls-probe.net", injection.target()});
  auto r = run(io, o, ctx, work);
  ASSERT_EQ(r.by_line.size(), work.size()) << "every line gets a record";
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.by_line[1].diagnosis.outcome, probe_outcome::senders_lose_tls) << render_verdict(r.by_line[1]);
  EXPECT_EQ(r.by_line[2].diagnosis.outcome, probe_outcome::certificate) << render_verdict(r.by_line[2]);  // self-signed
  EXPECT_EQ(r.by_line[3].diagnosis.outcome, probe_outcome::starttls_fails) << render_verdict(r.by_line[3]);
  EXPECT_EQ(r.by_line[4].diagnosis.outcome, probe_outcome::unreachable) << render_verdict(r.by_line[4]);
  EXPECT_EQ(r.by_line[5].diagnosis.outcome, probe_outcome::unreachable) << render_verdict(r.by_line[5]);
  EXPECT_EQ(r.by_line[6].diagnosis.outcome, probe_outcome::no_starttls) << render_verdict(r.by_line[6]);
  EXPECT_EQ(r.by_line[7].diagnosis.outcome, probe_outcome::unreachable) << render_verdict(r.by_line[7]);
  EXPECT_EQ(r.by_line[8].diagnosis.outcome, probe_outcome::dns_fails) << render_verdict(r.by_line[8]);
  EXPECT_EQ(r.by_line[9].diagnosis.outcome, probe_outcome::injection) << render_verdict(r.by_line[9]);
  EXPECT_EQ(r.progress.command_injection, 1u);
  EXPECT_EQ(r.progress.done, work.size());
  EXPECT_EQ(r.progress.outcomes[probe_outcome::unreachable], 3u);
}

TEST(ScanEngine, ConcurrencyIsCappedAndReached) {
  asio::io_context io;
  server_options so;
  so.max_sessions = 1000;
  served tarpit(io, "tarpit", so);
  scan_options o = fast();
  o.concurrency = 7;
  o.probe.session.timeouts.banner = 200ms;
  o.probe.checks.set(check_id::injection, false);  // one connection per probe (the check runs beside the session)
  probe_context ctx(o.probe);
  auto r = run(io, o, ctx, lines_of(std::vector<std::string>(30, tarpit.target())));
  EXPECT_EQ(r.progress.done, 30u);
  EXPECT_EQ(r.progress.peak_active, 7u);
  EXPECT_EQ(r.progress.active, 0u);
  EXPECT_EQ(tarpit.server->stats().sessions, 30u);
  // (The tarpit holds its side of a session after we leave, so its own count of open
  // sessions says nothing here.) 30 probes of 200 ms, 7 at a time: at least 5 rounds.
  EXPECT_GE(r.took, 5 * 200ms - 50ms);
}

TEST(ScanEngine, PerHostGateLimitsConnectionsToOneAddress) {
  asio::io_context io;
  served slow(io, "tarpit"), other(io, "compliant");
  scan_options o = fast();
  o.concurrency = 20;
  o.probe.session.timeouts.banner = 150ms;
  o.probe.checks.set(check_id::injection, false);
  probe_context ctx(o.probe);
  connection_gate gate(3);
  ctx.gate = &gate;
  std::vector<std::string> targets(12, slow.target());
  for (int i = 0; i < 4; ++i) targets.push_back(other.target());
  auto r = run(io, o, ctx, lines_of(targets));
  EXPECT_EQ(r.progress.done, 16u);
  EXPECT_EQ(gate.peak(), 3u) << "at most 3 connections at once to one address";
  EXPECT_EQ(slow.server->stats().sessions, 12u);
  EXPECT_EQ(gate.waiting(), 0u);
  // 12 sessions of 150 ms, three at a time: at least four rounds (without the gate,
  // twenty at once, they would all end after one).
  EXPECT_GE(r.took, 4 * 150ms - 50ms);
}

TEST(ScanEngine, RateSpacesTheStarts) {
  asio::io_context io;
  served compliant(io, "compliant");
  scan_options o = fast();
  o.concurrency = 10;
  o.rate = 20;  // one start every 50 ms
  o.probe.checks.set(check_id::injection, false);
  probe_context ctx(o.probe);
  auto r = run(io, o, ctx, lines_of(std::vector<std::string>(6, compliant.target())));
  EXPECT_EQ(r.progress.done, 6u);
  EXPECT_GE(r.took, 5 * 50ms - 5ms) << "6 starts at 20/s span at least 250 ms";
}

TEST(ScanEngine, StopStartsNothingNewAndLetsOpenProbesFinish) {
  asio::io_context io;
  served tarpit(io, "tarpit");
  scan_options o = fast();
  o.concurrency = 5;
  o.probe.session.timeouts.banner = 100ms;
  probe_context ctx(o.probe);
  auto r = run(io, o, ctx, lines_of(std::vector<std::string>(50, tarpit.target())), [](scanner& sc, std::size_t n) {
    if (n == 1) sc.stop();
  });
  EXPECT_EQ(r.progress.done, r.progress.started) << "every started probe finished and was recorded";
  EXPECT_LE(r.progress.done, 5u) << "nothing started after stop()";
  EXPECT_EQ(r.by_line.size(), r.progress.done);
}

TEST(ScanEngine, ManyLookupsWaitOnOneResolverAtOnce) {
  asio::io_context io;
  scan_options o = fast();
  o.concurrency = 40;
  o.probe.dns_timeout = 300ms;
  o.probe.resolver = "127.0.0.1@1";
  probe_context ctx(o.probe);
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("n" + std::to_string(i) + ".mxtls-probe.net");
  auto r = run(io, o, ctx, lines_of(names));
  EXPECT_EQ(r.progress.outcomes[probe_outcome::dns_fails], 40u);
  // All forty wait side by side: about one timeout, not forty.
  EXPECT_LT(r.took, 20 * 300ms);
}

}  // namespace
}  // namespace mxtls

namespace mxtls {
namespace {

TEST(ScanEngine, TwoThreadsShareOneFeedAndOneGate) {
  asio::io_context server_io;
  served compliant(server_io, "compliant"), seed(server_io, "seed");
  auto guard = asio::make_work_guard(server_io);
  std::thread server_thread([&] { server_io.run(); });

  scan_options o = fast();
  o.concurrency = 8;
  o.probe.checks.set(check_id::injection, false);
  std::vector<std::string> targets;
  for (int i = 0; i < 40; ++i) targets.push_back(i % 2 ? compliant.target() : seed.target());
  auto work = lines_of(targets);
  std::map<std::size_t, probe_outcome> seen;
  std::size_t twice = 0;
  std::mutex m;
  scan_feed feed(work, 0, [&](const scan_line& l, const probe_report& r, const std::string&) {
    std::lock_guard lock(m);  // called from both threads
    twice += !seen.emplace(l.line, r.diagnosis.outcome).second;
  });
  connection_gate gate(2);
  asio::io_context io1, io2;
  probe_context ctx1(o.probe), ctx2(o.probe);
  ctx1.gate = ctx2.gate = &gate;
  scanner s1(o, ctx1, feed), s2(o, ctx2, feed);
  asio::co_spawn(io1, s1.run(), asio::detached);
  asio::co_spawn(io2, s2.run(), asio::detached);
  std::thread t2([&] { io2.run(); });
  io1.run();
  t2.join();
  guard.reset();
  server_io.stop();
  server_thread.join();

  EXPECT_EQ(seen.size(), 40u);
  EXPECT_EQ(twice, 0u);
  EXPECT_LE(gate.peak(), 2u) << "the gate holds across threads";
  EXPECT_EQ(gate.waiting(), 0u);
  for (const auto& [line, outcome] : seen)
    EXPECT_EQ(outcome, line % 2 ? probe_outcome::senders_lose_tls : probe_outcome::certificate) << line;
  EXPECT_EQ(feed.progress().done, 40u);
}

}  // namespace
}  // namespace mxtls

// The runner: open probes abandoned (a second SIGTERM, or abandon() from the library) end
// run() at once, and everything is destroyed in an order that leaves nothing dangling: this
// runs under ASan/UBSan with leak checking too.
#include <csignal>

#include "mxtls/scan_runner.hpp"

namespace mxtls {
namespace {

struct abandon_case {
  scan_summary summary;
  std::size_t records = 0;
  std::vector<std::pair<int, bool>> signals;
  std::chrono::milliseconds took{};
};

// One compliant server and many tarpits (no banner for 20 s) and names nothing answers,
// all probed at once; after the compliant record, `after_first` stops the scan.
abandon_case abandon_after_first(bool by_signals) {
  asio::io_context server_io;
  served compliant(server_io, "compliant"), tarpit(server_io, "tarpit");
  auto guard = asio::make_work_guard(server_io);
  std::thread server_thread([&] { server_io.run(); });

  scan_runner_options ro;
  ro.scan = fast();
  ro.scan.concurrency = 24;
  ro.scan.probe.session.timeouts.banner = 30s;
  ro.scan.probe.dns_timeout = 30s;
  ro.scan.probe.resolver = "127.0.0.1@1";
  ro.threads = 2;
  // Every server here is on 127.0.0.1: with the usual per-address limit the tarpits' probes
  // can hold every place while the compliant probe's second connection (the injection
  // check) waits 20 s for one. The gate is not what this case is about.
  ro.per_host_limit = 0;
  ro.stop_on_signals = by_signals;
  scan_list list;
  list.targets.push_back({1, compliant.target(), {}});
  for (std::size_t i = 0; i < 16; ++i) list.targets.push_back({list.targets.size() + 1, tarpit.target(), {}});
  for (std::size_t i = 0; i < 8; ++i)
    list.targets.push_back({list.targets.size() + 1, "n" + std::to_string(i) + ".mxtls-probe.net", {}});
  list.names = true;
  list.invalid.push_back({100, "bad one", "not a target"});

  abandon_case out;
  std::mutex m;
  scan_runner* self = nullptr;
  {
    scan_runner runner(std::move(list), ro, [&](const scan_result& r) {
      std::lock_guard lock(m);
      ++out.records;
      if (r.kind != record_kind::probed) return;
      if (by_signals) {
        std::raise(SIGTERM);  // the first: no new probes
      } else {
        self->request_stop();
        self->abandon();
      }
    });
    self = &runner;
    runner.on_signal([&](int sig, bool abandoning, std::size_t) {
      out.signals.emplace_back(sig, abandoning);
      if (!abandoning) std::raise(SIGTERM);  // the second, delivered once this one is handled
    });
    auto start = std::chrono::steady_clock::now();
    out.summary = runner.run();
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }  // the runner goes here, abandoned probes and all
  guard.reset();
  server_io.stop();
  server_thread.join();
  return out;
}

void expect_abandoned(const abandon_case& c) {
  EXPECT_TRUE(c.summary.stop_requested);
  EXPECT_TRUE(c.summary.abandoned);
  EXPECT_GE(c.summary.probed, 1u);
  EXPECT_EQ(c.summary.probed + c.summary.not_probed, 25u);
  EXPECT_GT(c.summary.not_probed, 0u) << "the tarpits were still open";
  EXPECT_EQ(c.records, 1 + c.summary.probed) << "the invalid line and each finished probe";
  EXPECT_EQ(scan_exit_code(c.summary, false), scan_exit_interrupted);
  // The tarpits hold their banner for 20 s and the probes would wait 30 s for it.
  EXPECT_LT(c.took, 15s) << "run() did not wait for the abandoned probes";
}

TEST(ScanRunner, ASecondSigtermAbandonsOpenProbesAndRunReturns) {
  auto c = abandon_after_first(true);
  expect_abandoned(c);
  ASSERT_EQ(c.signals.size(), 2u);
  EXPECT_EQ(c.signals[0], std::make_pair(SIGTERM, false));
  EXPECT_EQ(c.signals[1], std::make_pair(SIGTERM, true));
  // The handlers are gone with the run: SIGTERM's action is the default again.
  struct sigaction now{};
  sigaction(SIGTERM, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(ScanRunner, AbandonFromTheLibraryNeedsNoSignal) { expect_abandoned(abandon_after_first(false)); }

TEST(ScanRunner, RunsEveryLineAndTheExitPolicyCountsThem) {
  asio::io_context server_io;
  served compliant(server_io, "compliant"), seed(server_io, "seed");
  auto guard = asio::make_work_guard(server_io);
  std::thread server_thread([&] { server_io.run(); });
  scan_runner_options ro;
  ro.scan = fast();
  ro.scan.concurrency = 4;
  ro.threads = 2;
  scan_list list;
  for (std::size_t i = 0; i < 6; ++i) list.targets.push_back({i + 1, i % 2 ? seed.target() : compliant.target(), {}});
  std::vector<std::size_t> lines;
  std::mutex m;
  scan_runner runner(std::move(list), ro, [&](const scan_result& r) {
    std::lock_guard lock(m);
    lines.push_back(r.line->line);
    EXPECT_EQ(r.kind, record_kind::probed);
    EXPECT_NE(r.report, nullptr);
  });
  EXPECT_EQ(runner.threads(), 2u);
  scan_summary s = runner.run();
  guard.reset();
  server_io.stop();
  server_thread.join();
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(s.probed, 6u);
  EXPECT_EQ(s.not_probed, 0u);
  EXPECT_FALSE(s.stop_requested);
  EXPECT_EQ(s.outcomes[probe_outcome::senders_lose_tls], 3u);
  EXPECT_EQ(scan_exit_code(s, false), scan_exit_findings);
  EXPECT_EQ(scan_exit_code(s, true), scan_exit_usage);
  scan_summary fine{.probed = 2, .outcomes = {{probe_outcome::ok, 2}}};
  EXPECT_EQ(scan_exit_code(fine, false), scan_exit_ok);
  fine.invalid = 1;
  EXPECT_EQ(scan_exit_code(fine, false), scan_exit_findings);
  // A certificate problem under a policy that does not verify: the record's exit_code is 0,
  // and so is the scan's (one exit policy).
  scan_summary cert{.probed = 1, .outcomes = {{probe_outcome::certificate, 1}}};
  EXPECT_EQ(scan_exit_code(cert, false), scan_exit_ok);
  cert.failing = 1;  // the same under a -verify policy: the record says 1
  EXPECT_EQ(scan_exit_code(cert, false), scan_exit_findings);
}

}  // namespace
}  // namespace mxtls
