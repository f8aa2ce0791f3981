#include "harness/app/benchmark_flags.hpp"

#include <regex.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "harness/base/error.hpp"
#include "harness/base/text.hpp"

namespace ipcatlas {
namespace {

struct Flag {
  std::string name;   // without the --benchmark_ prefix
  std::string value;  // after '='
  bool has_value = false;
  std::string text;  // as given, for messages and passing on
};

Flag split_flag(const std::string& arg) {
  Flag f;
  f.text = arg;
  const std::string body = arg.substr(std::string("--benchmark_").size());
  const std::size_t eq = body.find('=');
  f.name = body.substr(0, eq);
  if (eq != std::string::npos) {
    f.value = body.substr(eq + 1);
    f.has_value = true;
  }
  return f;
}

[[noreturn]] void bad_value(const Flag& f, const std::string& accepted) {
  throw UsageError("invalid value '" + f.value + "' in '" + f.text + "' (expected " + accepted + ")");
}

// Google Benchmark reads any word but a few as true; ipcatlas takes only words that say yes or no.
bool parse_bool(const Flag& f) {
  if (!f.has_value) return true;
  std::string v = f.value;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* yes : {"true", "1", "yes", "y", "t", "on"})
    if (v == yes) return true;
  for (const char* no : {"false", "0", "no", "n", "f", "off"})
    if (v == no) return false;
  bad_value(f, "true or false");
}

const std::string& required_value(const Flag& f, const std::string& form) {
  if (!f.has_value || f.value.empty())
    throw UsageError("'" + f.text + "' needs a value: --benchmark_" + f.name + "=" + form);
  return f.value;
}

int parse_int_in(const Flag& f, int low, int high) {
  const std::string& text = required_value(f, "N");
  int n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < low || n > high)
    bad_value(f, fmt::format("a whole number from {} to {}", low, high));
  return n;
}

void check_seconds(const Flag& f, double low, bool low_included) {
  const std::string& text = required_value(f, "SECONDS");
  char* end = nullptr;
  const double s = std::strtod(text.c_str(), &end);
  const bool in_range = low_included ? s >= low : s > low;
  if (end != text.c_str() + text.size() || !std::isfinite(s) || !in_range || s > 3600)
    bad_value(f, fmt::format("seconds, {} {:g} and at most 3600", low_included ? "at least" : "above", low));
}

void check_regex(const Flag& f) {
  required_value(f, "REGEX");
  const std::string pattern = f.value[0] == '-' ? f.value.substr(1) : f.value;
  regex_t re;
  if (regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_NOSUB) != 0) bad_value(f, "an extended regular expression");
  regfree(&re);
}

void check_one_of(const Flag& f, const std::vector<std::string>& words) {
  const std::string& v = required_value(f, words.front());
  if (std::find(words.begin(), words.end(), v) == words.end()) bad_value(f, "one of " + join(words));
}

// KEY=VALUE[,KEY=VALUE...], as Google Benchmark parses it.
void check_context(const Flag& f) {
  for (const std::string& pair : split(required_value(f, "KEY=VALUE"), ',')) {
    const std::size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || pair.find('=', eq + 1) != std::string::npos)
      bad_value(f, "KEY=VALUE pairs separated by commas");
  }
}

using Handler = std::function<void(const Flag&, BenchmarkFlags&)>;

// Every flag of Google Benchmark 1.7.1, and what ipcatlas does with it.
const std::map<std::string, Handler>& handlers() {
  static const std::map<std::string, Handler> table = {
      {"repetitions", [](const Flag& f, BenchmarkFlags& b) { b.repetitions = parse_int_in(f, 1, kMaxRepetitions); }},
      {"report_aggregates_only", [](const Flag& f, BenchmarkFlags& b) { b.report_aggregates_only = parse_bool(f); }},
      {"display_aggregates_only", [](const Flag& f, BenchmarkFlags& b) { b.display_aggregates_only = parse_bool(f); }},
      {"list_tests", [](const Flag& f, BenchmarkFlags& b) { b.list_tests = parse_bool(f); }},
      {"filter", [](const Flag& f, BenchmarkFlags&) { check_regex(f); }},  // read back with GetBenchmarkFilter()
      {"format",
       [](const Flag& f, BenchmarkFlags& b) {
         check_one_of(f, {"console", "json", "csv"}), b.format = f.value;
       }},
      {"min_time", [](const Flag& f, BenchmarkFlags&) { check_seconds(f, 0, false); }},
      {"min_warmup_time", [](const Flag& f, BenchmarkFlags&) { check_seconds(f, 0, true); }},
      {"enable_random_interleaving", [](const Flag& f, BenchmarkFlags&) { parse_bool(f); }},
      {"counters_tabular", [](const Flag& f, BenchmarkFlags&) { parse_bool(f); }},
      {"color",
       [](const Flag& f, BenchmarkFlags&) {
         check_one_of(f, {"auto", "true", "false", "yes", "no", "1", "0"});
       }},
      {"context", [](const Flag& f, BenchmarkFlags&) { check_context(f); }},
      {"perf_counters", [](const Flag& f, BenchmarkFlags&) { required_value(f, "NAME[,NAME...]"); }},
      {"out",
       [](const Flag& f, BenchmarkFlags&) {
         throw UsageError("'" + f.text + "': use --out FILE (ipcatlas writes Google Benchmark JSON there)");
       }},
      {"out_format",
       [](const Flag& f, BenchmarkFlags&) {
         throw UsageError("'" + f.text + "': --out is always Google Benchmark JSON");
       }},
      {"time_unit",
       [](const Flag& f, BenchmarkFlags&) {
         throw UsageError("'" + f.text + "': ipcatlas reports every time in ns (its counters end in _ns)");
       }},
  };
  return table;
}

// The flags ipcatlas applies itself instead of Google Benchmark.
bool handled_by_ipcatlas(const std::string& name) {
  return name == "repetitions" || name == "report_aggregates_only" || name == "display_aggregates_only";
}

}  // namespace

BenchmarkFlags parse_benchmark_flags(const std::vector<std::string>& args) {
  BenchmarkFlags flags;
  for (const std::string& arg : args) {
    const Flag f = split_flag(arg);
    const auto handler = handlers().find(f.name);
    if (handler == handlers().end()) {
      std::vector<std::string> known;
      for (const auto& [name, _] : handlers()) known.push_back("--benchmark_" + name);
      throw UsageError("unknown Google Benchmark flag '" + arg + "' (known: " + join(known) + ")");
    }
    handler->second(f, flags);
    if (!handled_by_ipcatlas(f.name)) flags.passthrough.push_back(arg);
  }
  return flags;
}

}  // namespace ipcatlas
