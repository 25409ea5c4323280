// The mxtls program as a user runs it: output, exit codes, hostile input, bounded memory.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../read_file.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct run_result {
  int exit_code = -1;
  std::string out, err;
  long max_rss_kib = 0;
};

std::string slurp(const std::filesystem::path& p) { return mxtls::test::read_file(p); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mxtls-cli-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path file(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  // Runs mxtls with `args`, standard input from `stdin_file` (or /dev/null), from the
  // source directory so that relative example paths work.
  run_result run(std::vector<std::string> args, const fs::path& stdin_file = "/dev/null") {
    fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    pid_t pid = fork();
    if (pid == 0) {
      int in = open(stdin_file.c_str(), O_RDONLY);
      int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(in, 0);
      dup2(o, 1);
      dup2(e, 2);
      if (chdir(MXTLS_SOURCE_DIR) != 0) _exit(126);
      std::vector<char*> argv{const_cast<char*>(MXTLS_BINARY)};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(MXTLS_BINARY, argv.data());
      _exit(127);
    }
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    run_result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out);
    r.err = slurp(err);
    r.max_rss_kib = ru.ru_maxrss;
    return r;
  }

  // The program's own peak on a one-line reply: the bounds below are on what an input adds
  // to it (an ASan build starts at about 100 MiB of shadow and allocator state, a release
  // build at under 10 MiB).
  long baseline_rss_kib() {
    fs::path tiny = dir_ / "tiny";
    std::ofstream(tiny, std::ios::binary) << "250 mx.example.com\r\n";
    return run({"lint", "--raw", tiny.string()}).max_rss_kib;
  }

  fs::path dir_;
};

TEST_F(Cli, SeedTranscriptFailsWithTheGreetingFinding) {
  auto r = run({"lint", "examples/seed-transcript.txt"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out.rfind("FAIL", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("error[keyword-as-greeting]"), std::string::npos);
  EXPECT_NE(r.out.find("examples/seed-transcript.txt:7:5"), std::string::npos);
  EXPECT_EQ(r.out.find('\033'), std::string::npos) << "no colour when stdout is not a terminal";
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(Cli, CompliantTranscriptPasses) {
  auto r = run({"lint", "examples/seed-compliant.txt"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("OK", 0), 0u) << r.out;
}

TEST_F(Cli, JsonOutputFollowsTheSchema) {
  auto r = run({"lint", "--format", "json", "examples/seed-transcript.txt"});
  EXPECT_EQ(r.exit_code, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["greeting"]["domain"], "STARTTLS");
  EXPECT_EQ(j["greeting"]["line"], 7);
  EXPECT_EQ(j["findings"][0]["id"], "keyword-as-greeting");
  EXPECT_TRUE(j["clients"].is_array());
}

TEST_F(Cli, ReadsStandardInputAndRawBytes) {
  auto in = file("in", "250-mx.example.com\n250 STARTTLS\n");
  auto pasted = run({"lint", "-"}, in);
  EXPECT_EQ(pasted.exit_code, 0) << pasted.out;
  auto raw = run({"lint", "--raw", "--format", "json"}, in);
  EXPECT_EQ(raw.exit_code, 0) << raw.out;
  auto j = nlohmann::json::parse(raw.out);
  EXPECT_EQ(j["findings"][0]["id"], "bare-lf");
  EXPECT_EQ(j["input"]["mode"], "raw");
}

TEST_F(Cli, MissingFile) {
  auto r = run({"lint", "no/such/file"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot open 'no/such/file'"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(Cli, DirectoryIsNotReadable) {
  auto r = run({"lint", dir_.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
}

TEST_F(Cli, EmptyFile) {
  auto r = run({"lint", file("empty", "").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the input is empty"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST_F(Cli, BinaryGarbage) {
  std::string g;
  for (int i = 0; i < 4096; ++i) g.push_back(static_cast<char>((i * 7919) & 0xff));
  auto r = run({"lint", file("garbage", g).string()});
  // Garbage may hold digits that read as codes; either way it is a clear message or findings.
  EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << r.exit_code;
  if (r.exit_code == 2) {
    EXPECT_NE(r.err.find("no SMTP reply"), std::string::npos) << r.err;
  }
  auto raw = run({"lint", "--raw", file("garbage2", std::string("\x01\x02\xff\xfe", 4)).string()});
  EXPECT_EQ(raw.exit_code, 2);
  EXPECT_NE(raw.err.find("no SMTP reply"), std::string::npos) << raw.err;
}

TEST_F(Cli, JsonOfGarbageIsValidUtf8) {
  auto r = run({"lint", "--raw", "--format", "json", file("g", "250-mx.example.com\r\n250 \xff\xfeSTARTTLS\r\n").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["findings"][0]["id"], "invalid-character");
}

TEST_F(Cli, HundredMegabytesWithoutNewline) {
  fs::path p = dir_ / "huge";
  {
    std::ofstream f(p, std::ios::binary);
    f << "250-";
    std::string chunk(1 << 20, 'A');
    for (int i = 0; i < 100; ++i) f << chunk;
  }
  auto r = run({"lint", "--raw", p.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("limit-exceeded"), std::string::npos);
  EXPECT_NE(r.out.find("input limit"), std::string::npos);
  long base = baseline_rss_kib();
  EXPECT_LT(r.max_rss_kib - base, 88 * 1024) << "memory must not grow with the input (peak " << r.max_rss_kib
                                              << " KiB, baseline " << base << " KiB)";
}

TEST_F(Cli, TenMillionLines) {
  fs::path p = dir_ / "lines";
  {
    std::ofstream f(p, std::ios::binary);
    std::string chunk;
    for (int i = 0; i < 100000; ++i) chunk += "250-STARTTLS\n";
    for (int i = 0; i < 100; ++i) f << chunk;
  }
  long base = baseline_rss_kib();
  for (const char* mode : {"--raw", "--format=text"}) {
    auto r = run({"lint", mode, p.string()});
    EXPECT_EQ(r.exit_code, 1) << mode << r.err;
    EXPECT_NE(r.out.find("limit-exceeded"), std::string::npos) << mode;
    EXPECT_LT(r.out.size(), 4u << 20) << "output must stay bounded";
    EXPECT_LT(r.max_rss_kib - base, 120 * 1024) << mode << ": peak " << r.max_rss_kib << " KiB, baseline " << base << " KiB";
  }
}

TEST_F(Cli, HelpTeachesAndUsageErrorsExitTwo) {
  auto help = run({"lint", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
  EXPECT_EQ(run({"lint", "--format", "xml", "x"}).exit_code, 2);
  EXPECT_EQ(run({"lint", "--bogus"}).exit_code, 2);
  EXPECT_EQ(run({}).exit_code, 2);
  EXPECT_EQ(run({"frobnicate"}).exit_code, 2);
}

}  // namespace
