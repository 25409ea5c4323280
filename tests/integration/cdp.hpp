// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
// the browser reads commands from its descriptor 3 and writes answers and events to 4, each
// message a JSON object ended by a NUL octet), for the tests of the HTML reports: open a page,
// click, evaluate, emulate a narrow screen, take a screenshot. The browser is stopped however
// the test ends (the destructor kills its process group).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mxtls::test {

class chromium_page {
 public:
  static constexpr const char* binary = "/usr/bin/chromium";

  // Starts the browser with its profile in `profile_dir`, attaches to a blank page.
  explicit chromium_page(const std::filesystem::path& profile_dir) {
    if (!std::filesystem::exists(binary))
      throw std::runtime_error("Debian's chromium package is needed (scripts/install-deps installs it)");
    int to_browser[2], from_browser[2];
    if (pipe(to_browser) != 0 || pipe(from_browser) != 0) throw std::runtime_error("pipe");
    std::string profile = "--user-data-dir=" + profile_dir.string();
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int null = ::open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      // Descriptors 3 and 4 as the browser expects them; the pipes' ends may sit on 3 or 4
      // themselves, so they are moved out of the way first.
      int r = fcntl(to_browser[0], F_DUPFD, 10), w = fcntl(from_browser[1], F_DUPFD, 10);
      dup2(r, 3);
      dup2(w, 4);
      for (int fd = 5; fd < 1024; ++fd) close(fd);
      const char* argv[] = {binary,
                            "--headless",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--disable-background-networking",
                            "--disable-component-update",
                            "--no-first-run",
                            "--hide-scrollbars",
                            "--remote-debugging-pipe",
                            profile.c_str(),
                            "about:blank",
                            nullptr};
      execv(binary, const_cast<char* const*>(argv));
      _exit(127);
    }
    setpgid(pid_, pid_);  // as the child does: whichever runs first, the group exists before a kill
    close(to_browser[0]);
    close(from_browser[1]);
    out_ = to_browser[1];
    in_ = from_browser[0];
    signal(SIGPIPE, SIG_IGN);
    try {
      attach();
    } catch (...) {
      stop();  // the destructor of an object not constructed does not run
      throw;
    }
  }
  chromium_page(const chromium_page&) = delete;
  chromium_page& operator=(const chromium_page&) = delete;
  ~chromium_page() { stop(); }

 private:
  void attach() {
    nlohmann::json targets = call("Target.getTargets", {});
    std::string target;
    for (const auto& t : targets["targetInfos"])
      if (t["type"] == "page") target = t["targetId"];
    if (target.empty()) target = call("Target.createTarget", {{"url", "about:blank"}})["targetId"];
    session_ = call("Target.attachToTarget", {{"targetId", target}, {"flatten", true}})["sessionId"];
    call("Page.enable", {}, true);
    call("Runtime.enable", {}, true);
  }
  void stop() {
    if (out_ >= 0) close(out_);
    if (in_ >= 0) close(in_);
    out_ = in_ = -1;
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

 public:

  // Opens `url` and returns once its load event fired.
  void open(const std::string& url) {
    loaded_ = false;
    call("Page.navigate", {{"url", url}}, true);
    while (!loaded_) handle(read_message());
  }

  // A narrow (or any) screen: the layout viewport `width` x `height` CSS pixels.
  void viewport(int width, int height, bool mobile) {
    call("Emulation.setDeviceMetricsOverride",
         {{"width", width}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", mobile}}, true);
  }

  // The value of a JavaScript expression (JSON-able), evaluated in the page; an exception in
  // the page is a std::runtime_error with its text.
  nlohmann::json eval(const std::string& expression) {
    nlohmann::json r = call("Runtime.evaluate", {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}}, true);
    if (r.contains("exceptionDetails")) throw std::runtime_error("in the page: " + r["exceptionDetails"].dump());
    return r["result"].contains("value") ? r["result"]["value"] : nlohmann::json();
  }

  // A mouse click at the middle of the first element `selector` matches (scrolled into view),
  // as a user's: pressed and released there, so whatever is on top at that point gets it.
  void click(const std::string& selector) {
    nlohmann::json box = eval("(function(){var e=document.querySelector(" + nlohmann::json(selector).dump() +
                              ");if(!e)throw new Error('no element " + selector +
                              "');e.scrollIntoView({block:'center'});var r=e.getBoundingClientRect();"
                              "return {x:r.left+r.width/2,y:r.top+r.height/2};})()");
    for (const char* type : {"mousePressed", "mouseReleased"})
      call("Input.dispatchMouseEvent",
           {{"type", type}, {"x", box["x"]}, {"y", box["y"]}, {"button", "left"}, {"clickCount", 1}}, true);
  }

  // A PNG of the page, whole (beyond the viewport) when `full`.
  void screenshot(const std::filesystem::path& file, bool full) {
    nlohmann::json params{{"format", "png"}, {"captureBeyondViewport", full}};
    if (full) {
      nlohmann::json size = eval("({w:document.documentElement.scrollWidth,h:document.documentElement.scrollHeight})");
      params["clip"] = {{"x", 0}, {"y", 0}, {"width", size["w"]}, {"height", size["h"]}, {"scale", 1}};
    }
    std::string data = call("Page.captureScreenshot", params, true)["data"];
    std::string png = base64_decode(data);
    FILE* f = std::fopen(file.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + file.string());
    std::fwrite(png.data(), 1, png.size(), f);
    std::fclose(f);
  }

 private:
  nlohmann::json call(const std::string& method, const nlohmann::json& params, bool in_page = false) {
    nlohmann::json msg{{"id", ++id_}, {"method", method}, {"params", params.is_null() ? nlohmann::json::object() : params}};
    if (in_page) msg["sessionId"] = session_;
    std::string text = msg.dump();
    text.push_back('\0');
    for (std::size_t done = 0; done < text.size();) {
      ssize_t n = ::write(out_, text.data() + done, text.size() - done);
      if (n <= 0) throw std::runtime_error("the browser's pipe closed");
      done += static_cast<std::size_t>(n);
    }
    for (;;) {
      nlohmann::json m = read_message();
      if (m.contains("id") && m["id"] == id_) {
        if (m.contains("error")) throw std::runtime_error(method + ": " + m["error"].dump());
        return m["result"];
      }
      handle(m);
    }
  }

  void handle(const nlohmann::json& m) {
    if (m.contains("method") && m["method"] == "Page.loadEventFired") loaded_ = true;
  }

  // One message; the browser answering nothing for a minute is a failure, not a hang.
  nlohmann::json read_message() {
    for (;;) {
      auto nul = buffer_.find('\0');
      if (nul != std::string::npos) {
        std::string one = buffer_.substr(0, nul);
        buffer_.erase(0, nul + 1);
        return nlohmann::json::parse(one);
      }
      pollfd p{in_, POLLIN, 0};
      if (poll(&p, 1, 60'000) <= 0) throw std::runtime_error("the browser did not answer within 60 s");
      char chunk[65536];
      ssize_t n = ::read(in_, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error("the browser's pipe closed");
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  static std::string base64_decode(const std::string& in) {
    auto value = [](char c) -> int {
      if (c >= 'A' && c <= 'Z') return c - 'A';
      if (c >= 'a' && c <= 'z') return c - 'a' + 26;
      if (c >= '0' && c <= '9') return c - '0' + 52;
      if (c == '+') return 62;
      if (c == '/') return 63;
      return -1;
    };
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
      int v = value(c);
      if (v < 0) continue;
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<char>((acc >> bits) & 0xff));
      }
    }
    return out;
  }

  pid_t pid_ = -1;
  int out_ = -1, in_ = -1;
  int id_ = 0;
  bool loaded_ = false;
  std::string buffer_, session_;
};

}  // namespace mxtls::test
