#include "spice/sim_options.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/units.hpp"

namespace bmru::spice {
namespace {

// ngspice 39's defaults for what is not set.
constexpr const char* kDefaultMethod = "trap";
constexpr double kDefaultAbstol = 1e-12, kDefaultReltol = 1e-3, kDefaultTrtol = 7,
                 kDefaultGmin = 1e-12;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

SimOptions SimOptions::lockstep_defaults() {
  SimOptions o;
  o.method = "gear";
  o.abstol_a = 1e-14;
  return o;
}

std::string SimOptions::option_line() const {
  using core::format_number;
  std::string line;
  if (method) line += " method=" + *method;
  if (abstol_a) line += " abstol=" + format_number(*abstol_a);
  if (reltol) line += " reltol=" + format_number(*reltol);
  if (trtol) line += " trtol=" + format_number(*trtol);
  if (gmin_s) line += " gmin=" + format_number(*gmin_s);
  return line.empty() ? "" : ".option" + line;
}

SimOptions SimOptions::merged(const SimOptions& later) const {
  SimOptions o = *this;
  if (later.method) o.method = later.method;
  if (later.abstol_a) o.abstol_a = later.abstol_a;
  if (later.reltol) o.reltol = later.reltol;
  if (later.trtol) o.trtol = later.trtol;
  if (later.gmin_s) o.gmin_s = later.gmin_s;
  return o;
}

SimOptions SimOptions::from_option_line(const std::string& line) {
  SimOptions o;
  std::string text = line;
  std::replace(text.begin(), text.end(), '=', ' ');
  std::istringstream in(text);
  std::string head;
  in >> head;
  head = lower(head);
  if (head != ".option" && head != ".options" && head != ".opt") return o;
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(lower(w));
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& key = words[i];
    const std::string& value = words[i + 1];
    try {
      if (key == "method")
        o.method = value;
      else if (key == "abstol")
        o.abstol_a = core::parse_quantity(value, key);
      else if (key == "reltol")
        o.reltol = core::parse_quantity(value, key);
      else if (key == "trtol")
        o.trtol = core::parse_quantity(value, key);
      else if (key == "gmin")
        o.gmin_s = core::parse_quantity(value, key);
      else
        continue;
      ++i;
    } catch (const std::exception&) {
    }
  }
  return o;
}

std::vector<core::Attr> SimOptions::config_attrs() const {
  return {{"tran_method", method.value_or(kDefaultMethod)},
          {"tran_abstol", abstol_a.value_or(kDefaultAbstol)},
          {"tran_reltol", reltol.value_or(kDefaultReltol)},
          {"tran_trtol", trtol.value_or(kDefaultTrtol)},
          {"tran_gmin", gmin_s.value_or(kDefaultGmin)}};
}

}  // namespace bmru::spice
