#include "harness/machine/doctor.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>

#include <fmt/format.h>

namespace ipcatlas {
namespace {

// Hints are sentences; wrapped so the table stays readable in a 100-column terminal.
constexpr std::size_t kLineWidth = 100;

std::string verdict_label(Fact::Verdict verdict) {
  switch (verdict) {
    case Fact::Verdict::ok: return "[ ok ]";
    case Fact::Verdict::info: return "[info]";
    case Fact::Verdict::warn: return "[WARN]";
  }
  return "[info]";
}

// Greedy word wrap; a word longer than the width gets a line of its own.
std::vector<std::string> wrap_words(const std::string& text, std::size_t width) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string line;
  for (std::string word; words >> word;) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

void print_hint(std::ostream& out, const std::string& hint, std::size_t indent) {
  const std::size_t width = kLineWidth > indent + 20 ? kLineWidth - indent - 2 : 20;
  const std::vector<std::string> lines = wrap_words(hint, width);
  for (std::size_t i = 0; i < lines.size(); ++i)
    out << std::string(indent, ' ') << (i == 0 ? "→ " : "  ") << lines[i] << "\n";
}

int count_warnings(const std::vector<Fact>& facts) {
  return static_cast<int>(
      std::count_if(facts.begin(), facts.end(), [](const Fact& f) { return f.verdict == Fact::Verdict::warn; }));
}

int print_table(std::ostream& out, const std::vector<Fact>& facts) {
  std::size_t title_width = 0;
  for (const Fact& f : facts) title_width = std::max(title_width, f.title.size());
  const std::size_t value_column = title_width + 2 + verdict_label(Fact::Verdict::ok).size() + 2;
  out << "ipcatlas doctor: what on this machine changes IPC benchmark results\n\n";
  for (const Fact& f : facts) {
    out << fmt::format("{:<{}}  {}  {}\n", f.title, title_width, verdict_label(f.verdict), f.value);
    if (!f.hint.empty()) print_hint(out, f.hint, value_column);
  }
  const int warnings = count_warnings(facts);
  out << "\n" << warnings << (warnings == 1 ? " warning" : " warnings") << "\n";
  if (warnings > 0) out << "Results are still produced; each warning is recorded in the results' context.\n";
  return 0;
}

// ordered_json keeps key, title, value, verdict, hint in reading order.
nlohmann::ordered_json fact_json(const Fact& f) {
  return {{"key", f.key}, {"title", f.title}, {"value", f.value}, {"verdict", to_string(f.verdict)}, {"hint", f.hint}};
}

int print_json(std::ostream& out, const std::vector<Fact>& facts) {
  nlohmann::ordered_json doc;
  doc["facts"] = nlohmann::ordered_json::array();
  for (const Fact& f : facts) doc["facts"].push_back(fact_json(f));
  out << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  return 0;
}

}  // namespace

int print_doctor_report(std::ostream& out, const std::vector<Fact>& facts, bool json) {
  return json ? print_json(out, facts) : print_table(out, facts);
}

std::string doctor_warnings_json(const std::vector<Fact>& facts) {
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  for (const Fact& f : facts)
    if (f.verdict == Fact::Verdict::warn || (f.verdict == Fact::Verdict::info && !f.hint.empty()))
      warnings.push_back(fact_json(f));
  return warnings.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace ipcatlas
