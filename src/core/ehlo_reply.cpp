#include "mxtls/ehlo_reply.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>

#include <fmt/format.h>

namespace mxtls {

namespace {

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_let_dig(char c) { return is_alpha(c) || is_digit(c); }
bool is_space(char c) { return c == ' ' || c == '\t'; }

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (upper(a[i]) != upper(b[i])) return false;
  return true;
}

// Octet classes for the keyword scan, one table look-up per octet.
enum : std::uint8_t { cls_letdig = 1, cls_lower = 2, cls_dot = 4, cls_space = 8 };
constexpr std::array<std::uint8_t, 256> octet_class = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = cls_letdig;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = cls_letdig | cls_lower;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = cls_letdig;
  t['.'] = cls_dot;
  t[' '] = t['\t'] = cls_space;
  return t;
}();

// The keyword at the start of `s` (up to a space or tab), classified in the same pass:
// the classes of its octets, and the first octet that breaks
// ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
struct keyword_scan {
  std::string_view word;
  std::uint8_t classes = 0;
  std::size_t bad = std::string_view::npos;
};
keyword_scan scan_keyword(std::string_view s) {
  keyword_scan k;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    auto ch = static_cast<unsigned char>(s[i]);
    std::uint8_t c = octet_class[ch];
    if (c & cls_space) break;
    k.classes |= c;
    if (!(c & cls_letdig) && (i == 0 || ch != '-') && k.bad == std::string_view::npos) k.bad = i;
  }
  k.word = s.substr(0, i);
  return k;
}

// Eight octets at a time: a word of eight copies of `b`.
constexpr std::uint64_t lanes(std::uint8_t b) { return 0x0101010101010101ULL * b; }
std::uint64_t load8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
// Non-zero when some octet of `w` is zero.
constexpr std::uint64_t zero_octet(std::uint64_t w) { return (w - lanes(1)) & ~w & lanes(0x80); }

// Text up to the first space or tab.
std::string_view first_word(std::string_view s) {
  std::size_t i = 0;
  // Eight octets at a time while none is a space or a tab.
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w = load8(s.data() + i);
    if (zero_octet(w ^ lanes(' ')) | zero_octet(w ^ lanes('\t'))) break;
  }
  while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
  return s.substr(0, i);
}

// Non-zero when some octet of `w` lies outside 0x20..0x7E.
constexpr std::uint64_t outside_printable(std::uint64_t w) {
  std::uint64_t below = (w - lanes(0x20)) & ~w & lanes(0x80);  // some octet < 0x20
  std::uint64_t above = ((w + lanes(0x01)) | w) & lanes(0x80);  // some octet >= 0x7F
  return below | above;
}

// Index of the first octet outside textstring = 1*(%d09 / %d32-126), or npos.
std::size_t first_invalid_octet(std::string_view text) {
  std::size_t i = 0;
  // Skip eight octets at a time while all of them lie in 0x20..0x7E; the last eight
  // octets are checked as one (overlapping) word too.
  for (; i + 8 <= text.size(); i += 8)
    if (outside_printable(load8(text.data() + i))) break;
  if (i + 8 > text.size() && text.size() >= 8 && !outside_printable(load8(text.data() + text.size() - 8)))
    return std::string_view::npos;
  for (; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 32 && c != '\t') || c > 126) return i;
  }
  return std::string_view::npos;
}




// Message text put together without a format string: the findings of broken lines are
// built for every reply a scan lints.
std::string join_text(std::initializer_list<std::string_view> parts) {
  std::size_t n = 0;
  for (auto p : parts) n += p.size();
  std::string s;
  s.reserve(n);
  for (auto p : parts) s.append(p);
  return s;
}

// Findings in input order; they mostly come in order already, and stable_sort would
// allocate a buffer even then.
void sort_by_line(std::vector<finding>& f) {
  auto by_line = [](const finding& a, const finding& b) { return a.line < b.line; };
  if (!std::is_sorted(f.begin(), f.end(), by_line)) std::stable_sort(f.begin(), f.end(), by_line);
}

// Where a finding lands: the input line and the column of an offset inside the stored
// reply line.
struct locator {
  const server_turn& turn;
  std::vector<finding>& out;

  void add(finding_id id, std::size_t index, const reply& r, const reply_line& l,
           std::size_t offset, std::size_t width, std::string message) {
    const line_origin& o = turn.origins[index];
    finding f;
    f.id = id;
    f.line = o.line;
    f.column = o.column_offset + offset + 1;
    f.width = std::max<std::size_t>(width, 1);
    f.message = std::move(message);
    f.excerpt = o.source.empty() ? std::string(r.text(l)) : std::string(o.source);
    out.push_back(std::move(f));
  }
};

struct line_ref {
  const reply* r;
  const reply_line* l;
  std::size_t index;  // over the whole turn
  bool strict;        // inside the reply a strict client reads
  bool first;         // the first line of the turn
};

}  // namespace

// The word STARTTLS anywhere in `text`, in any case.
bool mentions_starttls(std::string_view text) {
  constexpr std::string_view word = "starttls";
  std::size_t i = 0;
  // Skip eight octets at a time while none of them is 's' or 'S'.
  for (; i + 8 <= text.size(); i += 8)
    if (zero_octet((load8(text.data() + i) | lanes(0x20)) ^ lanes('s'))) break;
  for (; i + word.size() <= text.size(); ++i) {
    if ((text[i] | 0x20) != 's') continue;
    std::size_t k = 1;
    while (k < word.size() && (text[i + k] | 0x20) == word[k]) ++k;
    if (k == word.size()) return true;
  }
  return false;
}

bool is_known_keyword(std::string_view s) {
  // Sorted, so that a word is found by binary search (upper-cased first).
  static constexpr auto known = std::to_array<std::string_view>({
      "8BITMIME", "ATRN", "AUTH", "BINARYMIME", "BURL", "CHECKPOINT", "CHUNKING", "CONNEG",
      "CONPERM", "DELIVERBY", "DSN", "ENHANCEDSTATUSCODES", "ETRN", "EXPN", "FUTURERELEASE",
      "HELP", "LIMITS", "MT-PRIORITY", "MTRK", "NO-SOLICITING", "ONEX", "PIPELINING",
      "REQUIRETLS", "RRVS", "SAML", "SEND", "SIZE", "SMTPUTF8", "SOML", "STARTTLS", "SUBMITTER",
      "TURN", "UTF8SMTP", "VERB", "VRFY", "X-ANONYMOUSTLS", "X-EXPS", "X-LINK2STATE", "XCLIENT",
      "XEXCH50", "XFORWARD", "XOORG", "XRDST", "XSHADOW", "XUSR"});
  static_assert(std::is_sorted(known.begin(), known.end()));
  auto word = s.substr(0, std::min(s.find('='), s.size()));
  char buf[24];
  if (word.empty() || word.size() > sizeof buf) return false;
  for (std::size_t i = 0; i < word.size(); ++i) buf[i] = upper(word[i]);
  std::string_view key(buf, word.size());
  return std::binary_search(known.begin(), known.end(), key);
}

// RFC 5321 §4.1.2:
//   Domain     = sub-domain *("." sub-domain)
//   sub-domain = Let-dig [Ldh-str]
//   Ldh-str    = *( ALPHA / DIGIT / "-" ) Let-dig
bool is_domain(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  // One pass: each label is 1..63 octets of letters, digits and hyphens, and neither
  // starts nor ends with a hyphen.
  std::size_t label = 0;
  char prev = '.';
  for (char ch : s) {
    std::uint8_t c = octet_class[static_cast<unsigned char>(ch)];
    if (c & cls_dot) {
      if (label == 0 || prev == '-') return false;
      label = 0;
    } else if ((c & cls_letdig) || (ch == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
    prev = ch;
  }
  return label > 0 && prev != '-';
}

// RFC 5321 §4.1.3:
//   address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
//                           General-address-literal ) "]"
bool is_address_literal(std::string_view s) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  std::string inner(s.substr(1, s.size() - 2));
  unsigned char buf[16];
  if (inner.size() > 5 && iequals(std::string_view(inner).substr(0, 5), "IPv6:"))
    return inet_pton(AF_INET6, inner.c_str() + 5, buf) == 1;
  if (inet_pton(AF_INET, inner.c_str(), buf) == 1) return true;
  // General-address-literal = Standardized-tag ":" 1*dcontent
  auto colon = inner.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == inner.size()) return false;
  for (std::size_t i = 0; i < colon; ++i)
    if (!is_let_dig(inner[i]) && inner[i] != '-') return false;
  for (std::size_t i = colon + 1; i < inner.size(); ++i) {
    auto c = static_cast<unsigned char>(inner[i]);
    if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\') return false;
  }
  return true;
}

ehlo_reply analyse_ehlo(const server_turn& turn) {
  ehlo_reply out;
  analyse_ehlo(turn, out);
  return out;
}

void analyse_ehlo(const server_turn& turn, ehlo_reply& out) {
  out.code = -1;
  out.greeting.reset();
  out.lines_sent = out.lines_read_strictly = 0;
  out.starttls_visible = out.starttls_anywhere = false;
  out.findings.clear();
  std::size_t n_ext = 0;  // extensions filled so far; out.extensions keeps its buffers
  struct trim_extensions {
    ehlo_reply& out;
    std::size_t& n;
    ~trim_extensions() { out.extensions.resize(n); }
  } trim{out, n_ext};
  locator at{turn, out.findings};

  // Every line of the turn, in order. Kept per thread between calls: a linter that runs
  // millions of times allocates it once.
  thread_local std::vector<line_ref> lines;
  lines.clear();
  std::size_t total = 0;
  for (const auto& r : turn.replies) total += r.lines.size();
  lines.reserve(total);
  for (std::size_t ri = 0; ri < turn.replies.size(); ++ri)
    for (const auto& l : turn.replies[ri].lines)
      lines.push_back({&turn.replies[ri], &l, lines.size(), ri == 0, lines.empty()});
  out.lines_sent = lines.size();
  if (lines.empty()) return;
  out.lines_read_strictly = turn.replies.front().lines.size();

  const reply& first_reply = turn.replies.front();
  out.code = first_reply.code();

  // --- Checks on every line as sent -------------------------------------------------
  for (const auto& ref : lines) {
    const reply& r = *ref.r;
    const reply_line& l = *ref.l;
    std::string_view text = r.text(l);
    if (!out.starttls_anywhere && mentions_starttls(text)) out.starttls_anywhere = true;

    // RFC 5321 §4.2: every reply line starts with Reply-code.
    if (l.sep == separator::no_code) {
      at.add(finding_id::no_code, ref.index, r, l, 0, std::min<std::size_t>(text.size(), 8),
             fmt::format("line has no reply code: \"{}\"", text.substr(0, 40)));
    } else {
      // Reply-code = %x32-35 %x30-35 %x30-39
      if (text[0] < '2' || text[0] > '5' || text[1] > '5')
        at.add(finding_id::code_out_of_range, ref.index, r, l, 0, 3,
               fmt::format("reply code {} is not a valid reply code", text.substr(0, 3)));
      if (out.code >= 0 && l.code != out.code)
        at.add(finding_id::code_mismatch, ref.index, r, l, 0, 3,
               fmt::format("code {:03} differs from {:03} on the reply's first line", l.code, out.code));
      if (l.sep == separator::other)
        at.add(finding_id::bad_separator, ref.index, r, l, 3, 1,
               fmt::format("separator after the code is 0x{:02X}, not a space or a hyphen",
                           static_cast<unsigned char>(text[3])));
    }

    if (turn.raw) {
      // RFC 5321 §2.3.8: lines end with CRLF.
      if (l.ending == line_ending::lf)
        at.add(finding_id::bare_lf, ref.index, r, l, l.stored, 1, "line ends with a bare LF");
      else if (l.ending == line_ending::cr)
        at.add(finding_id::bare_cr, ref.index, r, l, l.stored, 1, "line ends with a bare CR");
    }

    // RFC 5321 §4.5.3.1.5: "The maximum total length of a reply line including the
    // reply code and the <CRLF> is 512 octets."
    if (l.length + 2 > 512)
      at.add(finding_id::line_too_long, ref.index, r, l, 510, std::min<std::size_t>(l.stored, 520) - 510 + 1,
             fmt::format("line is {} octets long with CRLF; the limit is 512", l.length + 2));
    if (l.truncated())
      at.add(finding_id::limit_exceeded, ref.index, r, l, l.stored, 1,
             fmt::format("line of {} octets cut at the line limit", l.length));

    // textstring = 1*(%d09 / %d32-126)
    if (std::size_t i = first_invalid_octet(text); i != std::string_view::npos)
      at.add(finding_id::invalid_character, ref.index, r, l, i, 1,
             fmt::format("octet 0x{:02X} at column {}", static_cast<unsigned char>(text[i]), i + 1));
  }

  // --- The reply as a whole -----------------------------------------------------------
  for (std::size_t ri = 0; ri < turn.replies.size(); ++ri) {
    const reply& r = turn.replies[ri];
    if (r.lines_limit_hit || r.octets_limit_hit) {
      std::size_t index = 0;
      for (std::size_t k = 0; k <= ri; ++k) index += turn.replies[k].lines.size();
      if (index == 0) continue;
      const reply_line& last = r.lines.back();
      at.add(finding_id::limit_exceeded, index - 1, r, last, 0, 1,
             fmt::format("reply has {} more lines past the {} limit; they were not examined",
                         r.dropped_lines, r.lines_limit_hit ? "lines-per-reply" : "octets-per-reply"));
    }
  }

  if (turn.dropped_lines > 0) {
    const reply& r = turn.replies.back();
    at.add(finding_id::limit_exceeded, lines.size() - 1, r, r.lines.back(), 0, 1,
           fmt::format("{} more lines past the {}-line limit were not examined", turn.dropped_lines,
                       turn.examine_limit));
  }

  if (turn.replies.size() > 1) {
    const reply_line& last = first_reply.lines.back();
    std::size_t after = lines.size() - first_reply.lines.size();
    bool hides_starttls = false;
    for (std::size_t i = first_reply.lines.size(); i < lines.size(); ++i)
      if (iequals(first_word(lines[i].r->body(*lines[i].l)), "STARTTLS")) hides_starttls = true;
    at.add(finding_id::final_line_not_last, first_reply.lines.size() - 1, first_reply, last, 3, 1,
           fmt::format("final line is followed by {} more line{}{}", after, after == 1 ? "" : "s",
                       hides_starttls ? ", among them STARTTLS, which clients never read as part of this reply"
                                      : "; clients read them as the reply to their next command"));
  }

  const reply& last_reply = turn.replies.back();
  if (!last_reply.complete && !last_reply.lines.empty()) {
    const reply_line& l = last_reply.lines.back();
    at.add(finding_id::truncated_reply, lines.size() - 1, last_reply, l, 0, 1,
           l.is_final() ? "the last line has no line ending" : "the reply ends without a final line");
  }

  // Refused EHLO: no greeting, no extensions.
  if (out.code != 250) {
    if (out.code >= 0)
      at.add(finding_id::ehlo_not_accepted, 0, first_reply, first_reply.lines.front(), 0, 3,
             fmt::format("EHLO was answered with {:03}", out.code));
    sort_by_line(out.findings);
    return;
  }

  // --- Greeting: the first line --------------------------------------------------------
  {
    const line_ref& ref = lines.front();
    std::string_view body = ref.r->body(*ref.l);
    greeting g;
    g.line = turn.origins.front().line;
    std::size_t lead = 0;
    while (lead < body.size() && is_space(body[lead])) ++lead;
    std::string_view word = first_word(body.substr(lead));
    g.domain = std::string(word);
    std::string_view rest = body.substr(lead + word.size());
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    g.text = std::string(rest);
    g.address_literal = is_address_literal(word);
    g.valid = lead == 0 && (g.address_literal || is_domain(word));

    // A keyword where the domain belongs: a registered keyword, or a dot-less word
    // while a later line carries what looks like the server's host name.
    bool dotless = !word.empty() && word.find('.') == std::string_view::npos;
    std::size_t domain_line = 0;
    for (std::size_t i = 1; dotless && i < lines.size() && domain_line == 0; ++i) {
      std::string_view w = first_word(lines[i].r->body(*lines[i].l));
      if (w.find('.') != std::string_view::npos && is_domain(w) && !is_known_keyword(w))
        domain_line = turn.origins[i].line;
    }
    bool keyword_here = dotless && (is_known_keyword(word) || (domain_line != 0 && !g.address_literal));
    if (keyword_here) {
      std::string msg = join_text({"\"", word,
                                   "\" stands on the greeting line; strict clients read it as the server's name, "
                                   "not as an extension"});
      if (domain_line != 0)
        msg += join_text({" (the greeting domain follows on line ", std::to_string(domain_line), ")"});
      at.add(finding_id::keyword_as_greeting, 0, *ref.r, *ref.l, 4 + lead, word.size(), std::move(msg));
    } else if (!g.valid) {
      at.add(finding_id::greeting_not_domain, 0, *ref.r, *ref.l, 4 + lead, std::max<std::size_t>(word.size(), 1),
             word.empty() ? std::string("the greeting line is empty")
                          : join_text({"\"", word, "\" is not a domain name or address literal"}));
    }
    out.greeting = std::move(g);
  }

  // --- Extension lines -----------------------------------------------------------------
  std::uint64_t seen_filter = 0;  // keywords so far, for duplicates: a filter before comparing
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const line_ref& ref = lines[i];
    const reply& r = *ref.r;
    const reply_line& l = *ref.l;
    if (l.sep == separator::no_code) continue;
    std::string_view body = r.body(l);
    std::string_view text = r.text(l);
    auto col_of = [&](std::string_view part) { return static_cast<std::size_t>(part.data() - text.data()); };

    std::size_t lead = 0;
    while (lead < body.size() && is_space(body[lead])) ++lead;
    keyword_scan scan = scan_keyword(body.substr(lead));
    std::string_view kw = scan.word;

    if (n_ext == out.extensions.size()) out.extensions.emplace_back();
    ehlo_extension& ext = out.extensions[n_ext];
    ext.keyword.assign(kw.data(), kw.size());
    ext.params.clear();
    ext.line = turn.origins[i].line;
    ext.seen_by_strict_client = ref.strict;

    if (lead > 0)
      at.add(finding_id::keyword_leading_space, i, r, l, 4, lead,
             "white space before the keyword; strict parsers see an empty keyword");

    // ehlo-line = ehlo-keyword *( SP ehlo-param ); ehlo-param = 1*(%d33-126)
    std::string_view params = body.substr(lead + kw.size());
    bool odd_space = false;
    std::size_t odd_at = 0;
    while (!params.empty()) {
      std::size_t spaces = 0;
      while (spaces < params.size() && is_space(params[spaces])) {
        if (params[spaces] == '\t' && !odd_space) { odd_space = true; odd_at = col_of(params) + spaces; }
        ++spaces;
      }
      if (!odd_space && (spaces > 1 || spaces == params.size())) {
        odd_space = true;
        odd_at = col_of(params);
      }
      params.remove_prefix(spaces);
      std::string_view p = first_word(params);
      if (!p.empty()) ext.params.emplace_back(p);
      params.remove_prefix(p.size());
    }
    if (odd_space)
      at.add(finding_id::extra_whitespace, i, r, l, odd_at, 1,
             odd_at >= text.size() || text.find_first_not_of(" \t", odd_at) == std::string_view::npos
                 ? "trailing white space after the last word"
                 : "white space other than a single space between words");

    std::size_t kw_col = col_of(kw);
    if (kw.empty()) {
      at.add(finding_id::keyword_syntax, i, r, l, kw_col, 1, "the line has no keyword");
    } else if (kw.size() > 5 && kw[4] == '=' && iequals(kw.substr(0, 4), "AUTH")) {
      at.add(finding_id::auth_legacy_form, i, r, l, kw_col, kw.size(),
             join_text({"\"", kw, "\" is the pre-standard AUTH= form"}));
    } else {
      // ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
      std::uint8_t seen_classes = scan.classes;
      std::size_t bad = scan.bad;
      bool displaced_domain = (seen_classes & cls_dot) && is_domain(kw);
      if (displaced_domain)
        at.add(finding_id::keyword_syntax, i, r, l, kw_col, kw.size(),
               join_text({"\"", kw,
                          "\" looks like the greeting domain out of place; as an ehlo-line it is not a valid keyword"}));
      else if (bad != std::string_view::npos)
        at.add(finding_id::keyword_syntax, i, r, l, kw_col + bad, 1,
               fmt::format("\"{}\" is not a valid keyword: '{}' is not a letter, digit or hyphen", kw,
                           kw[bad]));
      if (!displaced_domain && (seen_classes & cls_lower))
        at.add(finding_id::keyword_not_uppercase, i, r, l, kw_col, kw.size(),
               join_text({"\"", kw, "\" is not in upper case"}));
    }

    if (!kw.empty()) {
      // A 64-bit filter on (length, first letter) spares most comparisons.
      std::uint64_t bit = 1ULL << ((kw.size() * 7 + static_cast<unsigned char>(upper(kw.front()))) & 63);
      bool maybe_seen = (seen_filter & bit) != 0;
      seen_filter |= bit;
      if (maybe_seen && std::any_of(out.extensions.begin(), out.extensions.begin() + static_cast<std::ptrdiff_t>(n_ext),
                                    [&](const ehlo_extension& e) { return iequals(e.keyword, kw); })) {
        std::string key(kw);
        for (char& c : key) c = upper(c);
        at.add(finding_id::duplicate_keyword, i, r, l, kw_col, kw.size(),
               join_text({key, " is listed more than once"}));
      }
    }

    // RFC 1870 §4: size-param = [1*DIGIT]
    if (iequals(kw, "SIZE")) {
      bool ok = ext.params.size() <= 1 &&
                (ext.params.empty() || std::all_of(ext.params[0].begin(), ext.params[0].end(), is_digit));
      if (!ok)
        at.add(finding_id::size_not_number, i, r, l, kw_col + kw.size() + 1,
               text.size() - std::min(text.size(), kw_col + kw.size() + 1),
               "SIZE takes one decimal number of octets");
    }
    // RFC 3207 §4: the STARTTLS keyword has no parameters.
    if (iequals(kw, "STARTTLS")) {
      if (!ext.params.empty())
        at.add(finding_id::starttls_with_params, i, r, l, kw_col + kw.size() + 1,
               text.size() - std::min(text.size(), kw_col + kw.size() + 1),
               join_text({"STARTTLS followed by \"", ext.params.front(), "\""}));
      if (ref.strict && lead == 0 && l.sep != separator::other) out.starttls_visible = true;
    }
    ++n_ext;
  }

  // Lines past a limit were not examined: they may hold STARTTLS.
  bool all_examined = turn.dropped_lines == 0 &&
                      std::all_of(turn.replies.begin(), turn.replies.end(),
                                  [](const reply& r) { return r.dropped_lines == 0 && !r.octets_limit_hit; });
  if (!out.starttls_anywhere && all_examined)
    at.add(finding_id::starttls_not_offered, 0, first_reply, first_reply.lines.front(), 0, 3,
           "no line of the EHLO reply offers STARTTLS");

  sort_by_line(out.findings);
}

}  // namespace mxtls
