// Throughput of the reply parser and the EHLO linter on one core.
// Goal (issue: foundation): at least 1 million replies per second, parse + lint.
#include <benchmark/benchmark.h>

#include "mxtls/ehlo_reply.hpp"
#include "mxtls/lint.hpp"
#include "mxtls/reply_parser.hpp"

namespace {

// A typical EHLO reply of a Postfix server: 10 lines.
constexpr std::string_view typical =
    "250-mx.example.com\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 52428800\r\n"
    "250-ETRN\r\n"
    "250-STARTTLS\r\n"
    "250-AUTH PLAIN LOGIN\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250-8BITMIME\r\n"
    "250-DSN\r\n"
    "250 SMTPUTF8\r\n";

// The seed document's reply.
constexpr std::string_view seed =
    "250-STARTTLS\r\n"
    "250-mail.domain1.com\r\n"
    "250-8BITMIME\r\n"
    "250-PIPELINING\r\n"
    "250-HELP\r\n"
    "250-DELIVERBY 300\r\n"
    "250 SIZE 30000000\r\n";

void parse_only(benchmark::State& state, std::string_view in) {
  mxtls::reply_parser p;
  for (auto _ : state) {
    p.feed(in);
    benchmark::DoNotOptimize(p.take_reply());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void parse_and_lint(benchmark::State& state, std::string_view in) {
  mxtls::parser_limits limits;
  for (auto _ : state) {
    auto turn = mxtls::ehlo_turn_from_raw(in, limits);
    auto e = mxtls::analyse_ehlo(turn);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

// As the probe and scan engines use it: one turn and one model per worker, reused.
void parse_and_lint_reused(benchmark::State& state, std::string_view in) {
  mxtls::parser_limits limits;
  mxtls::server_turn turn;
  mxtls::ehlo_reply e;
  for (auto _ : state) {
    mxtls::ehlo_turn_from_raw(in, limits, turn);
    mxtls::analyse_ehlo(turn, e);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

void lint_entry_point(benchmark::State& state, std::string_view in) {
  mxtls::lint_options o;
  o.raw = true;
  for (auto _ : state) benchmark::DoNotOptimize(mxtls::lint(in, o));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(in.size()));
}

BENCHMARK_CAPTURE(parse_only, typical, typical);
BENCHMARK_CAPTURE(parse_only, seed, seed);
BENCHMARK_CAPTURE(parse_and_lint, typical, typical);
BENCHMARK_CAPTURE(parse_and_lint, seed, seed);
BENCHMARK_CAPTURE(parse_and_lint_reused, typical, typical);
BENCHMARK_CAPTURE(parse_and_lint_reused, seed, seed);
BENCHMARK_CAPTURE(lint_entry_point, typical, typical);
BENCHMARK_CAPTURE(lint_entry_point, seed, seed);

}  // namespace

BENCHMARK_MAIN();
