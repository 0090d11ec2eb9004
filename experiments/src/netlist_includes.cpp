#include "netlist_includes.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace bmru::experiments {
namespace {

constexpr int kMaxDepth = 16;

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return s;
}

// The included path of an include line, or "" when the line includes nothing. `.lib NAME` alone
// opens a section of a library file; `.lib FILE SECTION` includes one.
std::string included_path(const std::vector<std::string>& t) {
  if (t.empty()) return "";
  const std::string head = lower_case(t[0]);
  if ((head == ".include" || head == ".inc") && t.size() >= 2) return unquote(t[1]);
  if (head == ".lib" && t.size() >= 3) return unquote(t[1]);
  return "";
}

void scan_file(const std::filesystem::path& file, int depth, IncludeScan& scan);

std::filesystem::path resolve(const std::string& path, const std::filesystem::path& base_dir) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = base_dir / p;
  return p.lexically_normal();
}

void check_included(const std::string& path, const std::filesystem::path& base_dir,
                    const std::string& where, int depth, IncludeScan& scan) {
  const std::filesystem::path p = resolve(path, base_dir);
  if (!std::filesystem::exists(p) || std::filesystem::is_directory(p)) {
    scan.problems.push_back(where + ": the included file '" + path +
                            "' was not found (looked for " + p.string() +
                            "; a relative path is read from the including file's folder)");
    return;
  }
  if (depth >= kMaxDepth) {
    scan.problems.push_back(where + ": includes nest deeper than " + std::to_string(kMaxDepth) +
                            " files (a loop?)");
    return;
  }
  scan_file(p, depth + 1, scan);
}

void scan_file(const std::filesystem::path& file, int depth, IncludeScan& scan) {
  const auto canonical = std::filesystem::weakly_canonical(file);
  if (!scan.seen.insert(canonical).second) return;  // read once; a file may be included twice
  std::ifstream in(file);
  if (!in) {
    scan.problems.push_back(file.string() + ": could not be read");
    return;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string where = file.string() + ":" + std::to_string(n);
    const auto t = split_words(line);
    if (t.empty()) continue;
    const std::string head = lower_case(t[0]);
    if (n == 1 && head.rfind("*ng_script", 0) == 0) {
      scan.problems.push_back(where +
                              ": an ngspice script, not a netlist; included files must be data");
      return;
    }
    if (head == ".control" || head == ".endc")
      scan.problems.push_back(where + ": a " + head +
                              " block runs commands; included files may hold no scripts");
    else if (head == "shell" || head == "system")
      scan.problems.push_back(where + ": the '" + head +
                              "' command runs a program; included files may hold no scripts");
    const std::string inc = included_path(t);
    if (!inc.empty()) check_included(inc, file.parent_path(), where, depth, scan);
  }
}

}  // namespace

std::string lower_case(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> split_words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

std::string follow_include(const std::string& line, const std::filesystem::path& base_dir,
                           const std::string& where, IncludeScan& scan) {
  const auto t = split_words(line);
  const std::string path = included_path(t);
  if (path.empty()) return line;
  check_included(path, base_dir, where, 0, scan);
  const std::string abs = std::filesystem::absolute(resolve(path, base_dir)).string();
  std::string out = t[0] + " \"" + abs + "\"";
  for (size_t i = 2; i < t.size(); ++i) out += " " + t[i];
  return out;
}

}  // namespace bmru::experiments
