// Reading log input line by line: plain text or gzip (RFC 1952, inflated with zlib), from a
// file or standard input. A line is handed over without its line ending; memory is one
// buffer of a fixed size plus the longest line (cut at log_limits::max_line_octets).
#include <cstring>
#include <fstream>
#include <iostream>

#include <zlib.h>

#include "mxtls/logs.hpp"

namespace mxtls::logs {
namespace {

constexpr std::size_t chunk = 1 << 16;

// Splits octets into lines for the reader.
struct splitter {
  log_reader& reader;
  std::size_t file;
  std::uint64_t line_no = 0;
  std::string partial;

  void feed(const char* p, std::size_t n) {
    while (n) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
      if (!nl) {
        if (partial.size() < 1 << 20) partial.append(p, std::min(n, (std::size_t{1} << 20) - partial.size()));
        return;
      }
      std::size_t len = static_cast<std::size_t>(nl - p);
      ++line_no;
      if (partial.empty()) {
        reader.add_line(std::string_view(p, len), file, line_no);
      } else {
        if (partial.size() < 1 << 20) partial.append(p, std::min(len, (std::size_t{1} << 20) - partial.size()));
        reader.add_line(partial, file, line_no);
        partial.clear();
      }
      p = nl + 1;
      n -= len + 1;
    }
  }
  void end() {
    if (!partial.empty()) {
      reader.add_line(partial, file, ++line_no);
      partial.clear();
    }
  }
};

}  // namespace

std::string read_stream(std::istream& in, log_reader& reader, std::size_t file) {
  splitter sp{reader, file};
  std::string buf(chunk, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  std::size_t got = static_cast<std::size_t>(in.gcount());
  bool gzip = got >= 2 && static_cast<unsigned char>(buf[0]) == 0x1f && static_cast<unsigned char>(buf[1]) == 0x8b;
  if (!gzip) {
    while (got) {
      sp.feed(buf.data(), got);
      if (!in) break;
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      got = static_cast<std::size_t>(in.gcount());
    }
    sp.end();
    if (in.bad()) return "read error";
    return {};
  }
  z_stream z{};
  // 16 + MAX_WBITS: a gzip wrapper (zlib.h, inflateInit2).
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return "zlib: cannot initialise";
  std::string out(chunk, '\0');
  std::string error;
  bool done = false;
  while (got && !done) {
    z.next_in = reinterpret_cast<Bytef*>(buf.data());
    z.avail_in = static_cast<uInt>(got);
    while (z.avail_in && !done) {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&z, Z_NO_FLUSH);
      sp.feed(out.data(), out.size() - z.avail_out);
      if (rc == Z_STREAM_END) {
        // Concatenated members (gzip -c a b > c) continue.
        if (z.avail_in) inflateReset(&z);
        else done = true;
      } else if (rc != Z_OK) {
        error = std::string("gzip: ") + (z.msg ? z.msg : "data error");
        done = true;
      }
    }
    if (done || !in) break;
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    got = static_cast<std::size_t>(in.gcount());
    if (!got) break;
  }
  inflateEnd(&z);
  sp.end();
  if (error.empty() && !done) {
    // The input ended inside the compressed stream: a truncated file; what was inflated counts.
    if (z.total_in) error = "gzip: unexpected end of file";
  }
  return error;
}

std::string read_file(const std::string& path, log_reader& reader, std::size_t file) {
  if (path == "-") return read_stream(std::cin, reader, file);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot open: ") + std::strerror(errno);
  return read_stream(in, reader, file);
}

}  // namespace mxtls::logs
