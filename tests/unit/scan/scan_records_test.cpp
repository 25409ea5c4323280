// The scan's one writer and one reader of records: what the writer makes reads back the
// same; lines cut short, garbage and huge lines; the host the verdict is about; --resume.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <streambuf>

#include "mxtls/scan_records.hpp"

namespace mxtls {
namespace {

namespace fs = std::filesystem;
using item = record_reader::item;

std::vector<item> read_all(const std::string& text, record_reader::options opt = {}) {
  std::istringstream in(text);
  record_reader r(in, opt);
  std::vector<item> out;
  for (auto it = r.next(); it.kind != item::end; it = r.next()) out.push_back(std::move(it));
  return out;
}

TEST(ScanRecords, InvalidAndErrorRecordsReadBackAsWritten) {
  scan_line bad{.line = 7, .text = "not a host", .error = "'not a host' is not a target"};
  scan_line target{.line = 9, .text = "[192.0.2.1]:25", .error = {}};
  std::string text = scan_record({.line = &bad, .kind = record_kind::invalid, .report = nullptr, .error = bad.error}) +
                     scan_record({.line = &target, .kind = record_kind::error, .report = nullptr, .error = "bad_alloc"});
  auto items = read_all(text);
  ASSERT_EQ(items.size(), 2u);
  const read_record& a = items[0].rec;
  EXPECT_EQ(items[0].kind, item::record);
  EXPECT_EQ(a.line, 7u);
  EXPECT_EQ(a.input, "not a host");
  EXPECT_EQ(a.target, "not a host");
  EXPECT_EQ(a.kind, record_kind::invalid);
  EXPECT_EQ(a.outcome_text, "invalid");
  EXPECT_FALSE(a.outcome.has_value());
  EXPECT_EQ(a.exit_code, invalid_record_exit_code);
  EXPECT_FALSE(a.verdict_host.has_value());
  EXPECT_EQ(a.object["verdict"], bad.error);
  const read_record& b = items[1].rec;
  EXPECT_EQ(b.kind, record_kind::error);
  EXPECT_EQ(b.outcome_text, "error");
  EXPECT_EQ(b.exit_code, error_record_exit_code);
  EXPECT_EQ(b.object["verdict"], "the probe failed: bad_alloc");
  EXPECT_EQ(items[1].jsonl_line, 2u);
  EXPECT_EQ(items[1].end_offset, text.size());
  EXPECT_FALSE(items[1].cut_short);
}

TEST(ScanRecords, EveryOutcomeWordParsesToItsKind) {
  for (auto o : all_probe_outcomes) {
    auto p = parse_record_outcome(to_string(o));
    ASSERT_TRUE(p) << to_string(o);
    EXPECT_EQ(p->kind, record_kind::probed);
    EXPECT_EQ(p->outcome, o);
    EXPECT_EQ(record_outcome_text(record_kind::probed, o), to_string(o));
  }
  EXPECT_EQ(parse_record_outcome("invalid")->kind, record_kind::invalid);
  EXPECT_EQ(parse_record_outcome("error")->kind, record_kind::error);
  EXPECT_FALSE(parse_record_outcome("fine"));
  // An outcome word this build does not know is still a record (a newer writer).
  auto items = read_all(R"({"line":1,"input":"x","outcome":"something-new"})" "\n");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, item::record);
  EXPECT_EQ(items[0].rec.outcome_text, "something-new");
  EXPECT_FALSE(items[0].rec.outcome);
}

TEST(ScanRecords, GarbageLinesAreBadAndNamedByTheirLine) {
  auto items = read_all(
      "not json\n"
      "\n"
      "[1,2]\n"
      "{\"no\":\"outcome\"}\n"
      "\x01\xff\xfe\n"
      "{\"line\":3,\"input\":\"x\",\"outcome\":\"ok\"}\n"
      "{\"outcome\":7}\n");
  ASSERT_EQ(items.size(), 6u) << "the blank line is neither";
  std::vector<std::size_t> bad;
  for (const auto& it : items)
    if (it.kind == item::bad) {
      EXPECT_EQ(it.why, record_reader::bad_line::not_json);
      bad.push_back(it.jsonl_line);
    }
  EXPECT_EQ(bad, (std::vector<std::size_t>{1, 3, 4, 5, 7}));
  EXPECT_EQ(items[4].kind, item::record);
  EXPECT_EQ(items[4].rec.line, 3u);
  EXPECT_EQ(items[4].rec.outcome, probe_outcome::ok);
}

TEST(ScanRecords, ALastLineWithoutItsNewlineIsCutShort) {
  std::string whole = R"({"line":1,"input":"a","outcome":"ok"})" "\n";
  auto items = read_all(whole + R"({"line":2,"input":"b","outc)");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_FALSE(items[0].cut_short);
  EXPECT_EQ(items[0].end_offset, whole.size());
  EXPECT_TRUE(items[1].cut_short);
  EXPECT_EQ(items[1].kind, item::bad);
  // Complete JSON without its newline is read, and still said to be cut short.
  items = read_all(whole + R"({"line":2,"input":"b","outcome":"ok"})");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].kind, item::record);
  EXPECT_TRUE(items[1].cut_short);
}

// An input of `size` octets of 'x' and then one record, made as it is read.
class long_line_buf : public std::streambuf {
 public:
  long_line_buf(std::size_t size, std::string tail) : left_(size), tail_(std::move(tail)) {}

 protected:
  int_type underflow() override {
    if (left_ > 0) {
      std::size_t n = std::min(left_, chunk_.size());
      left_ -= n;
      setg(chunk_.data(), chunk_.data(), chunk_.data() + n);
      return traits_type::to_int_type(chunk_[0]);
    }
    if (!tail_done_) {
      tail_done_ = true;
      setg(tail_.data(), tail_.data(), tail_.data() + tail_.size());
      return traits_type::to_int_type(tail_[0]);
    }
    return traits_type::eof();
  }

 private:
  std::size_t left_;
  std::string tail_;
  bool tail_done_ = false;
  std::string chunk_ = std::string(1 << 20, 'x');
};

TEST(ScanRecords, AHugeLineIsSkippedWithinTheBound) {
  long_line_buf buf(300u << 20, "\n{\"line\":5,\"input\":\"after\",\"outcome\":\"ok\"}\n");
  std::istream in(&buf);
  const std::size_t max_line = 1u << 20;
  record_reader r(in, {.what = record_reader::detail::whole, .max_line = max_line});
  auto first = r.next();
  EXPECT_EQ(first.kind, item::bad);
  EXPECT_EQ(first.why, record_reader::bad_line::too_long);
  EXPECT_EQ(first.end_offset, (300u << 20) + 1);
  EXPECT_LT(r.held(), 2 * max_line + (64u << 10)) << "a 300 MiB line is not held";
  auto second = r.next();
  ASSERT_EQ(second.kind, item::record);
  EXPECT_EQ(second.rec.input, "after");
  EXPECT_EQ(second.jsonl_line, 2u);
  EXPECT_EQ(r.next().kind, item::end);
  // At the bound exactly, the line is read.
  std::string at_bound = R"({"line":1,"input":"a","outcome":"ok","pad":")";
  at_bound += std::string(100 - at_bound.size() - 2, 'p') + "\"}";
  ASSERT_EQ(at_bound.size(), 100u);
  EXPECT_EQ(read_all(at_bound + "\n", {.max_line = 100})[0].kind, item::record);
  EXPECT_EQ(read_all(at_bound + " \n", {.max_line = 100})[0].why, record_reader::bad_line::too_long);
}

TEST(ScanRecords, TheVerdictHostIsTheRecordsOrTheProbesRule) {
  auto host = [](const char* outcome) { return std::string(R"({"address":"192.0.2.1","outcome":")") + outcome + "\"}"; };
  auto rec = [&](const std::string& extra, const std::vector<const char*>& hosts) {
    std::string h;
    for (auto* o : hosts) h += (h.empty() ? "" : ",") + host(o);
    auto items = read_all(R"({"line":1,"input":"d.example","outcome":"ok")" + extra + ",\"hosts\":[" + h + "]}\n");
    EXPECT_EQ(items.size(), 1u);
    return items.empty() ? read_record{} : items[0].rec;
  };
  // Version 1 records: the first host that answered, else the last one tried.
  EXPECT_EQ(rec("", {"unreachable", "ok", "certificate"}).verdict_host, 1u);
  EXPECT_EQ(rec("", {"unreachable", "unreachable"}).verdict_host, 1u);
  EXPECT_EQ(rec("", {}).verdict_host, std::nullopt);
  // The record's own word wins.
  EXPECT_EQ(rec(",\"verdict_host\":2", {"unreachable", "ok", "certificate"}).verdict_host, 2u);
  EXPECT_EQ(rec(",\"verdict_host\":null", {"ok"}).verdict_host, std::nullopt);
  EXPECT_EQ(rec(",\"verdict_host\":5", {"ok"}).verdict_host, std::nullopt) << "out of range: none";
}

TEST(ScanRecords, SenderGroupsWhenTheRecordHasThem) {
  auto items = read_all(
      R"({"line":1,"input":"x","outcome":"senders-lose-tls","senders":{"tls":["curl","swaks"],"plaintext":["postfix"],"fail":[],"hang":["go"]}})"
      "\n"
      R"({"line":2,"input":"y","outcome":"ok"})"
      "\n");
  ASSERT_EQ(items.size(), 2u);
  ASSERT_TRUE(items[0].rec.senders);
  EXPECT_EQ(items[0].rec.senders->tls, (std::vector<std::string>{"curl", "swaks"}));
  EXPECT_EQ(items[0].rec.senders->plaintext, (std::vector<std::string>{"postfix"}));
  EXPECT_TRUE(items[0].rec.senders->fail.empty());
  EXPECT_EQ(items[0].rec.senders->hang, (std::vector<std::string>{"go"}));
  EXPECT_FALSE(items[1].rec.senders);
}

TEST(ScanRecords, HeadReadsLineAndInputOnly) {
  auto items = read_all(
      R"({"schema":"mxtls-probe","version":1,"line":4,"input":"a.example","target":"a.example","outcome":"ok","hosts":[{"line":99,"input":"no"}]})"
      "\n"
      R"({"input":"b","line":5})"
      "\n"
      R"({"line":6})"
      "\n"
      R"([{"line":7,"input":"c"}])"
      "\n"
      R"({"x":{"line":8,"input":"d"}})"
      "\n",
      {.what = record_reader::detail::head});
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items[0].kind, item::record);
  EXPECT_EQ(items[0].rec.line, 4u);
  EXPECT_EQ(items[0].rec.input, "a.example");
  EXPECT_EQ(items[1].kind, item::record) << "in any order";
  EXPECT_EQ(items[1].rec.line, 5u);
  EXPECT_EQ(items[2].kind, item::bad) << "no input";
  EXPECT_EQ(items[3].kind, item::bad) << "not an object";
  EXPECT_EQ(items[4].kind, item::bad) << "nested members do not count";
}

TEST(ScanRecords, ResumeCutsTheLastLineAndLeavesOutWhatIsDone) {
  fs::path dir = fs::temp_directory_path() / ("mxtls-records-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "out.jsonl";
  scan_line l1{.line = 1, .text = "a.example", .error = {}}, l2{.line = 2, .text = "b.example", .error = {}},
      l3{.line = 3, .text = "bad one", .error = "not a target"};
  std::string whole = scan_record({.line = &l1, .kind = record_kind::error, .report = nullptr, .error = "x"}) + "garbage\n" +
                      scan_record({.line = &l3, .kind = record_kind::invalid, .report = nullptr, .error = l3.error});
  std::ofstream(file, std::ios::binary) << whole << R"({"schema":"mxtls-probe","version":1,"line":2,"input":"b.exa)";
  scan_list list;
  list.targets = {l1, l2};
  list.invalid = {l3};
  auto r = resume_scan(file.string(), list);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.already, 2u);
  ASSERT_EQ(list.targets.size(), 1u);
  EXPECT_EQ(list.targets[0].line, 2u);
  EXPECT_TRUE(list.invalid.empty());
  EXPECT_EQ(fs::file_size(file), whole.size()) << "the cut-short record is cut off";
  // A line of the same number but another text (the list changed) is not done.
  scan_list changed;
  changed.targets = {{.line = 1, .text = "other.example", .error = {}}};
  EXPECT_EQ(resume_scan(file.string(), changed).already, 0u);
  // No file: nothing done yet.
  scan_list fresh;
  fresh.targets = {l1};
  auto none = resume_scan((dir / "missing.jsonl").string(), fresh);
  EXPECT_TRUE(none.ok);
  EXPECT_EQ(none.already, 0u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mxtls
