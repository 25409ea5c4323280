// From a file's octets to the reports in it: JSON as is, gzip'd JSON (RFC 8460 §5.2
// "application/tlsrpt+gzip"), or a mail message (RFC 8460 §5.3) whose parts of type
// application/tlsrpt+gzip or application/tlsrpt+json hold reports, base64 or quoted-printable.
#include <zlib.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "mxtls/tls_rpt.hpp"

namespace mxtls {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower(c);
  return r;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

bool is_gzip(std::string_view b) { return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b; }

// gunzip, bounded: the output stops at `limit` octets (then `error` says so).
std::string gunzip(std::string_view in, std::size_t limit, std::string& error) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    error = "zlib could not start";
    return {};
  }
  std::string out;
  char buf[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      error = rc == Z_BUF_ERROR ? "the gzip data ends early (truncated)" : fmt::format("not valid gzip data ({})", z.msg ? z.msg : "zlib error");
      break;
    }
    std::size_t n = sizeof buf - z.avail_out;
    if (out.size() + n > limit) {
      error = fmt::format("the gzip data inflates past max_report_octets ({})", limit);
      break;
    }
    out.append(buf, n);
    if (rc == Z_OK && z.avail_in == 0 && n == 0) {
      error = "the gzip data ends early (truncated)";
      break;
    }
  }
  inflateEnd(&z);
  return out;
}

// RFC 2045 §6.8; characters outside the alphabet (line breaks) are skipped.
std::string base64_decode(std::string_view in, std::string& error) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = val(c);
    if (v < 0) {
      if (c != '\r' && c != '\n' && c != ' ' && c != '\t') {
        error = fmt::format("octet 0x{:02X} in base64 data", static_cast<unsigned char>(c));
        return {};
      }
      continue;
    }
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// RFC 2045 §6.7.
std::string qp_decode(std::string_view in) {
  std::string out;
  auto hex = [](char c) -> int {
    c = lower(c);
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '=') {
      out += in[i];
      continue;
    }
    if (i + 1 < in.size() && (in[i + 1] == '\n' || in[i + 1] == '\r')) {  // soft line break
      i += (in[i + 1] == '\r' && i + 2 < in.size() && in[i + 2] == '\n') ? 2 : 1;
      continue;
    }
    if (i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
      continue;
    }
    out += '=';
  }
  return out;
}

struct mime_entity {
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case name, unfolded value
  std::string_view body;
  std::string header(std::string_view name) const {
    for (const auto& [n, v] : headers)
      if (n == name) return v;
    return "";
  }
};

// Headers up to the first empty line (CRLF or LF), folded lines unfolded (RFC 5322 §2.2.3).
mime_entity split_entity(std::string_view s) {
  mime_entity e;
  std::size_t i = 0;
  std::string name, value;
  auto flush = [&] {
    if (!name.empty()) e.headers.emplace_back(lower(trim(name)), std::string(trim(value)));
    name.clear();
    value.clear();
  };
  while (i < s.size()) {
    std::size_t eol = s.find('\n', i);
    std::size_t end = eol == std::string_view::npos ? s.size() : eol;
    std::string_view line = s.substr(i, end - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    i = eol == std::string_view::npos ? s.size() : eol + 1;
    if (line.empty()) {
      flush();
      e.body = s.substr(i);
      return e;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      value += ' ';
      value += trim(line);
      continue;
    }
    flush();
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a header line; skipped
    name = std::string(line.substr(0, colon));
    value = std::string(line.substr(colon + 1));
  }
  flush();
  return e;
}

// Content-Type's type/subtype (lower case) and one parameter, quoted or not.
std::string media_type(const std::string& ct) {
  return lower(trim(std::string_view(ct).substr(0, ct.find(';'))));
}
std::string parameter(const std::string& ct, std::string_view name) {
  std::string l = lower(ct);
  std::size_t at = 0;
  while ((at = l.find(name, at)) != std::string::npos) {
    bool starts = at > 0 && (l[at - 1] == ';' || l[at - 1] == ' ' || l[at - 1] == '\t');
    std::size_t eq = at + name.size();
    while (eq < l.size() && (l[eq] == ' ' || l[eq] == '\t')) ++eq;
    if (starts && eq < l.size() && l[eq] == '=') {
      std::size_t v = eq + 1;
      while (v < ct.size() && (ct[v] == ' ' || ct[v] == '\t')) ++v;
      if (v < ct.size() && ct[v] == '"') {
        std::size_t close = ct.find('"', v + 1);
        return ct.substr(v + 1, close == std::string::npos ? std::string::npos : close - v - 1);
      }
      std::size_t e = ct.find_first_of("; \t", v);
      return ct.substr(v, e == std::string::npos ? std::string::npos : e - v);
    }
    at += name.size();
  }
  return "";
}

struct mail_walk {
  const tlsrpt_limits& limits;
  std::string source;
  std::string report_domain, submitter;
  tlsrpt_input& out;
  std::size_t parts = 0;
  std::size_t report_parts = 0;
  std::vector<std::string> other_types = {};

  void entity(const mime_entity& e, std::size_t depth) {
    if (++parts > limits.max_mime_parts) {
      if (parts == limits.max_mime_parts + 1)
        out.unreadable.push_back({source, fmt::format("more than {} MIME parts (max_mime_parts); the rest not read", limits.max_mime_parts)});
      return;
    }
    std::string ct = e.header("content-type");
    std::string type = ct.empty() ? "text/plain" : media_type(ct);
    if (type.rfind("multipart/", 0) == 0) {
      if (depth >= limits.max_mime_depth) {
        out.unreadable.push_back({source, fmt::format("multipart nested deeper than {} (max_mime_depth)", limits.max_mime_depth)});
        return;
      }
      std::string boundary = parameter(ct, "boundary");
      if (boundary.empty()) {
        out.unreadable.push_back({source, "multipart without a boundary"});
        return;
      }
      std::string delim = "--" + boundary;
      std::string_view b = e.body;
      std::size_t pos = 0;
      std::vector<std::string_view> pieces;
      std::size_t start = std::string_view::npos;
      while (pos <= b.size()) {
        std::size_t at = b.find(delim, pos);
        if (at == std::string_view::npos) break;
        bool line_start = at == 0 || b[at - 1] == '\n';
        std::size_t after = at + delim.size();
        if (!line_start) {
          pos = after;
          continue;
        }
        if (start != std::string_view::npos) {
          std::size_t end = at;
          if (end > start && b[end - 1] == '\n') --end;
          if (end > start && b[end - 1] == '\r') --end;
          pieces.push_back(b.substr(start, end - start));
        }
        if (b.substr(after, 2) == "--") break;  // close delimiter
        std::size_t eol = b.find('\n', after);
        if (eol == std::string_view::npos) break;
        start = eol + 1;
        pos = start;
      }
      for (auto piece : pieces) entity(split_entity(piece), depth + 1);
      return;
    }
    std::string name = lower(parameter(ct, "name"));
    if (name.empty()) name = lower(parameter(e.header("content-disposition"), "filename"));
    bool gz = type == "application/tlsrpt+gzip";
    bool js = type == "application/tlsrpt+json";
    // Some reporters label the attachment by its file name only: application/gzip or
    // application/octet-stream named *.json.gz, application/json named *.json.
    bool named_gz = name.size() > 8 && name.ends_with(".json.gz");
    bool named_js = name.size() > 5 && name.ends_with(".json");
    if (!gz && !js && !named_gz && !named_js) {
      if (type != "text/plain" && type != "text/html") other_types.push_back(type);
      return;
    }
    ++report_parts;
    std::string part_source = fmt::format("{}#{}", source, report_parts);
    std::string cte = lower(trim(e.header("content-transfer-encoding")));
    std::string error;
    std::string data;
    if (cte == "base64") data = base64_decode(e.body, error);
    else if (cte == "quoted-printable") data = qp_decode(e.body);
    else data = std::string(e.body);
    if (!error.empty()) {
      out.unreadable.push_back({part_source, "MIME part: " + error});
      return;
    }
    if (data.size() > limits.max_report_octets) {
      out.unreadable.push_back({part_source, fmt::format("part of {} octets, over max_report_octets", data.size())});
      return;
    }
    std::string json_text;
    bool was_gzip = is_gzip(data);
    if (was_gzip) {
      json_text = gunzip(data, limits.max_report_octets, error);
      if (!error.empty()) {
        out.unreadable.push_back({part_source, error});
        return;
      }
    } else {
      json_text = std::move(data);
    }
    tlsrpt_report r = read_tlsrpt_json(json_text, part_source, limits);
    r.mail_report_domain = report_domain;
    r.mail_submitter = submitter;
    r.mail_content_type = type;
    if (!gz && !js)
      r.problems.push_back({severity::warning, "",
                            fmt::format("the mail part's type is {}, not application/tlsrpt+gzip or +json (RFC 8460 §5.3); "
                                        "read by its file name",
                                        type)});
    if (gz && !was_gzip)
      r.problems.push_back({severity::warning, "", "the part is labelled application/tlsrpt+gzip but is not gzip; read as JSON"});
    if (js && was_gzip)
      r.problems.push_back({severity::warning, "", "the part is labelled application/tlsrpt+json but is gzip; inflated"});
    out.reports.push_back(std::move(r));
  }
};

bool looks_like_mail(std::string_view b) {
  // A header line "Name: value" first, and a header block ending in an empty line.
  std::size_t eol = b.find('\n');
  std::string_view first = b.substr(0, eol);
  std::size_t colon = first.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    auto u = static_cast<unsigned char>(first[i]);
    if (u <= 32 || u >= 127) return false;
  }
  return b.find("\n\n") != std::string_view::npos || b.find("\r\n\r\n") != std::string_view::npos;
}

}  // namespace

tlsrpt_input read_tlsrpt(std::string_view bytes, std::string_view source, const tlsrpt_limits& limits) {
  tlsrpt_input in;
  std::string src(source);
  if (bytes.size() > limits.max_input_octets) {
    in.unreadable.push_back({src, fmt::format("{} octets, over max_input_octets ({})", bytes.size(), limits.max_input_octets)});
    return in;
  }
  if (is_gzip(bytes)) {
    std::string error;
    std::string text = gunzip(bytes, limits.max_report_octets, error);
    if (!error.empty()) {
      in.unreadable.push_back({src, error});
      return in;
    }
    in.reports.push_back(read_tlsrpt_json(text, src, limits));
    return in;
  }
  std::string_view t = trim(bytes);
  if (t.empty()) {
    in.unreadable.push_back({src, "empty input"});
    return in;
  }
  if (t.front() == '{' || t.front() == '[') {
    in.reports.push_back(read_tlsrpt_json(t, src, limits));
    return in;
  }
  if (looks_like_mail(bytes)) {
    mime_entity top = split_entity(bytes);
    mail_walk w{.limits = limits, .source = src, .report_domain = top.header("tls-report-domain"),
                .submitter = top.header("tls-report-submitter"), .out = in};
    w.entity(top, 0);
    if (w.report_parts == 0) {
      std::string types;
      for (const auto& t2 : w.other_types) types += (types.empty() ? "" : ", ") + t2;
      in.unreadable.push_back({src, types.empty() ? std::string("a mail without an application/tlsrpt+gzip or +json part")
                                                  : fmt::format("a mail without an application/tlsrpt+gzip or +json part (parts: {})", types)});
    }
    return in;
  }
  in.unreadable.push_back({src, "neither JSON, gzip nor a mail message"});
  return in;
}

}  // namespace mxtls
