#include "models/cell_circuit.hpp"

#include "core/units.hpp"

namespace bmru::models {

using core::format_number;

std::string cell_subckt(const pdk::Technology& t, const CellSizes& s) {
  std::string out = std::string(".subckt ") + kCellSubckt + " vdd gnd pc gth gw gg po\n";
  out += t.device_line("1", "v0", "pc", "vdd", "vdd", s.interface_p) + "\n";
  out += t.device_line("2", "v0", "gth", "gnd", "gnd", s.mirror_n) + "\n";
  out += "Vs vdd s4 0\n";
  out += t.device_line("4", "po", "po", "s4", "vdd", s.interface_p) + "\n";
  out += t.device_line("3", "po", "v0", "n5", "gnd", s.switch_n) + "\n";
  out += t.device_line("5", "n5", "gg", "gnd", "gnd", s.mirror_n) + "\n";
  out += t.device_line("7", "p7", "p7", "vdd", "vdd", s.mirror_p) + "\n";
  out += t.device_line("6", "p7", "v0", "n8", "gnd", s.switch_n) + "\n";
  out += t.device_line("8", "n8", "gw", "gnd", "gnd", s.mirror_n) + "\n";
  out += t.device_line("9", "v0", "p7", "vdd", "vdd", s.mirror_p) + "\n";
  return out + ".ends " + kCellSubckt + "\n";
}

std::string cell_bench(const pdk::Technology& t, const pdk::Conditions& c, const CellBias& b,
                       const CellSizes& s) {
  std::string out = "* bmru cell characterization bench\n" + t.header(c) + cell_subckt(t, s);
  out += "Vdd vdd 0 " + format_number(c.vdd_v) + "\n";
  const auto reference = [&](const std::string& name, double amps) {
    return "I" + name + " vdd g" + name + " " + format_number(amps / s.bias_ratio) + "\n" +
           t.device_line("r" + name, "g" + name, "g" + name, "0", "0", s.bias_ref_n) + "\n";
  };
  out += reference("th", b.ithresh_a) + reference("w", b.iwidth_a) + reference("g", b.igain_a);
  out += "Icand pc 0 dc 0\n" + t.device_line("pc", "pc", "pc", "vdd", "vdd", s.interface_p) + "\n";
  out += "Xcell vdd 0 pc gth gw gg po " + std::string(kCellSubckt) + "\n";
  return out + ".end\n";
}

}  // namespace bmru::models
