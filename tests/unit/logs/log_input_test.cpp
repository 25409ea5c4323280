// Log input: files merged in time order (the join across files depends on it), gzip (whole,
// concatenated members, truncated), lines without an ending, the progress callback.
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "mxtls/logs.hpp"

namespace mxtls::logs {
namespace {

namespace fs = std::filesystem;

// Postfix 3.7's own forms (as the logs.postfix test records them): a TLS line of smtp
// process 7, and its status line.
const std::string tls_line =
    "Dec 01 10:00:01 client postfix/smtp[7]: Trusted TLS connection established to mx.a.test[192.0.2.1]:25: TLSv1.3 with "
    "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
const std::string sent_line =
    "Dec 01 10:00:02 client postfix/smtp[7]: 64D52A88523: to=<x@a.test>, relay=mx.a.test[192.0.2.1]:25, delay=0.1, "
    "delays=0.06/0.02/0.03/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)";
const std::string other_sent =
    "Dec 01 10:00:00 client postfix/smtp[9]: 7E55BA88540: to=<y@b.test>, relay=mx.b.test[192.0.2.2]:25, delay=0.1, "
    "delays=0.06/0.02/0.03/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)";

class LogInput : public ::testing::Test {
 protected:
  fs::path dir = fs::temp_directory_path() / ("mxtls-log-input-" + std::to_string(getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string write_gz(const std::string& name, const std::vector<std::string>& members, std::size_t cut = 0) {
    std::string all;
    for (const auto& m : members) {
      fs::path tmp = dir / "member.gz";
      gzFile g = gzopen(tmp.c_str(), "wb");
      gzwrite(g, m.data(), static_cast<unsigned>(m.size()));
      gzclose(g);
      std::ifstream in(tmp, std::ios::binary);
      all += std::string(std::istreambuf_iterator<char>(in), {});
    }
    if (cut) all.resize(all.size() - cut);
    return write(name, all);
  }
  static const destination_summary* dest(const log_summary& s, const std::string& domain) {
    for (const auto& d : s.destinations)
      if (d.key.domain == domain) return &d;
    return nullptr;
  }
};

TEST_F(LogInput, FilesAreMergedInTimeOrderSoThatAConnectionJoinsAcrossThem) {
  // The status line's file is given first; merged, the TLS line (earlier) is read first.
  std::string later = write("later.log", sent_line + "\n");
  std::string earlier = write("earlier.log", other_sent + "\n" + tls_line + "\n");
  log_reader merged;
  read_result r = read_inputs({later, earlier}, merged);
  ASSERT_EQ(r.error, "");
  log_summary s = merged.finish();
  ASSERT_NE(dest(s, "a.test"), nullptr);
  EXPECT_EQ(dest(s, "a.test")->count(attempt_class::tls), 1u);
  EXPECT_EQ(dest(s, "b.test")->count(attempt_class::plaintext), 1u);
  // The evidence keeps each line's own input and line number.
  ASSERT_FALSE(dest(s, "a.test")->samples.empty());
  EXPECT_EQ(dest(s, "a.test")->samples.front().file, 1u);
  EXPECT_EQ(dest(s, "a.test")->samples.front().line, 2u);
  EXPECT_EQ(dest(s, "a.test")->samples.back().file, 0u);

  // One after the other as given: the status line comes before its TLS line.
  log_reader in_order;
  ASSERT_EQ(read_inputs({later, earlier}, in_order, {.merge = false}).error, "");
  EXPECT_EQ(dest(in_order.finish(), "a.test")->count(attempt_class::plaintext), 1u);
}

TEST_F(LogInput, GzipWholeConcatenatedAndTruncated) {
  std::string gz = write_gz("a.log.gz", {tls_line + "\n", sent_line + "\n"});
  log_reader r;
  ASSERT_EQ(read_inputs({gz}, r).error, "");
  log_summary s = r.finish();
  EXPECT_EQ(s.lines, 2u);
  EXPECT_EQ(dest(s, "a.test")->count(attempt_class::tls), 1u);

  std::string cut = write_gz("cut.log.gz", {tls_line + "\n" + sent_line + "\n"}, 10);
  log_reader t;
  read_result e = read_inputs({cut}, t);
  EXPECT_EQ(e.error, "gzip: unexpected end of file");
  EXPECT_EQ(e.failed_input, 0u);
}

TEST_F(LogInput, LastLineWithoutEndingAndMissingFile) {
  std::string f = write("a.log", tls_line + "\r\n" + sent_line);
  log_reader r;
  ASSERT_EQ(read_inputs({f}, r).error, "");
  EXPECT_EQ(dest(r.finish(), "a.test")->count(attempt_class::tls), 1u);
  log_reader m;
  read_result e = read_inputs({f, (dir / "missing.log").string()}, m);
  EXPECT_EQ(e.failed_input, 1u);
  EXPECT_NE(e.error.find("cannot open"), std::string::npos);
}

TEST_F(LogInput, ProgressReportsOctetsOfTheTotal) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += other_sent + "\n";
  std::string f = write("big.log", text);
  std::uint64_t calls = 0, last_octets = 0, total_seen = 0;
  read_options o;
  o.progress_interval = std::chrono::milliseconds(0);
  o.progress = [&](std::uint64_t octets, std::uint64_t total, std::uint64_t lines) {
    ++calls;
    EXPECT_GE(octets, last_octets);
    EXPECT_GT(lines, 0u);
    last_octets = octets, total_seen = total;
  };
  log_reader r;
  ASSERT_EQ(read_inputs({f}, r, o).error, "");
  EXPECT_GT(calls, 0u);
  EXPECT_EQ(total_seen, text.size());
  EXPECT_LE(last_octets, text.size());
}

}  // namespace
}  // namespace mxtls::logs
