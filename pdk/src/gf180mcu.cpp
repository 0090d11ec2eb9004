// The real GF180MCU PDK (DESIGN.md section 7): its ngspice models, found on disk, used through
// absolute paths (ngspice does not expand variables in .lib lines).
#include <algorithm>
#include <fstream>
#include <regex>

#include "core/errors.hpp"
#include "core/physics.hpp"
#include "core/units.hpp"
#include "pdk/registry.hpp"

namespace bmru::pdk {
namespace {

using core::format_number;

class Gf180 final : public Technology {
 public:
  Gf180(std::filesystem::path dir, std::string nfet, std::string pfet)
      : dir_(std::move(dir)), nfet_(std::move(nfet)), pfet_(std::move(pfet)) {}

  std::string name() const override { return "gf180mcu"; }
  std::string location() const override { return (dir_ / "sm141064.ngspice").string(); }
  std::vector<std::string> corners() const override {
    return {"typical", "ff", "ss", "fs", "sf", "statistical"};
  }
  double nominal_vdd() const override { return 1.8; }  // 3.3 V devices, used here at 1.8 V
  double min_vdd() const override { return 0.9; }
  double max_vdd() const override { return 3.63; }  // the 3.3 V devices' rating (+10 %)
  std::vector<std::string> device_names() const override { return {nfet_, pfet_}; }
  SizeLimits limits(Polarity) const override { return {0.22e-6, 100e-6, 0.28e-6, 50e-6}; }
  bool program_mismatch() const override { return false; }

  DeviceFacts facts(Polarity type) const override {
    // Approximate facts for the 3.3 V devices (7.9 nm oxide); junction values of the order the
    // PDK documents. The continuous-time model refines them by characterization.
    const double cox = core::physics::kSiO2RelativePermittivity *
                       core::physics::kVacuumPermittivity_F_per_m / 7.9e-9;
    return type == Polarity::n ? DeviceFacts{cox, 1.0e-3, 2.0e-10, 3.0e-10}
                               : DeviceFacts{cox, 1.1e-3, 2.2e-10, 3.0e-10};
  }

  std::string header(const Conditions& c) const override {
    std::string corner = c.corner == "tt" ? "typical" : c.corner;
    const auto all = corners();
    if (std::find(all.begin(), all.end(), corner) == all.end())
      throw InputError(
          "Corner '" + c.corner +
          "' is not one of GF180MCU's corners: typical (or tt) ff ss fs sf statistical");
    // The statistical switches are always set explicitly, never left to the file's default:
    // global variation only in the 'statistical' section, mismatch only when asked.
    const bool global = corner == "statistical";
    return "* technology gf180mcu (" + location() + "), corner " + corner + ", " +
           format_number(c.temperature_c) + " C, vdd " + format_number(c.vdd_v) + " V\n" +
           ".include " + (dir_ / "design.ngspice").string() + "\n" + ".lib " + location() + " " +
           corner + "\n" + ".param sw_stat_global=" + (global ? "1" : "0") +
           " sw_stat_mismatch=" + (c.mismatch ? "1" : "0") + "\n" + ".temp " +
           format_number(c.temperature_c) + "\n.option gmin=" + format_number(gmin_s()) + "\n";
  }

  std::string device_line(const std::string& name, const std::string& drain,
                          const std::string& gate, const std::string& source,
                          const std::string& bulk, const Device& d) const override {
    check_size(name, d);
    std::string line = "X" + name + " " + drain + " " + gate + " " + source + " " + bulk + " " +
                       (d.type == Polarity::n ? nfet_ : pfet_) + " w=" + format_number(d.w_m) +
                       " l=" + format_number(d.l_m);
    if (d.m != 1) line += " m=" + std::to_string(d.m);
    return line;
  }

 private:
  std::filesystem::path dir_;
  std::string nfet_, pfet_;
};

// Device names as the model file defines them: nfet_03v3/pfet_03v3 or the older nmos_3p3/pmos_3p3.
std::pair<std::string, std::string> detect_devices(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw FileError(file.string(), "", "could not be opened for reading");
  const std::regex subckt("^\\.subckt\\s+(nfet_03v3|pfet_03v3|nmos_3p3|pmos_3p3)\\s",
                          std::regex::icase);
  std::string line, n, p;
  std::smatch m;
  while (std::getline(in, line) && (n.empty() || p.empty()))
    if (std::regex_search(line, m, subckt)) {
      const std::string name = m[1].str();
      (name[0] == 'n' || name[0] == 'N' ? n : p) = name;
    }
  if (n.empty() || p.empty())
    throw FileError(file.string(), "",
                    "defines no nfet_03v3/pfet_03v3 (or nmos_3p3/pmos_3p3) subcircuits; is it "
                    "the GF180MCU ngspice model file?");
  return {n, p};
}

}  // namespace

std::unique_ptr<Technology> gf180mcu(const std::filesystem::path& model_dir) {
  const auto dir = std::filesystem::absolute(model_dir);
  for (const char* f : {"sm141064.ngspice", "design.ngspice"})
    if (!std::filesystem::exists(dir / f))
      throw FileError((dir / f).string(), "", "is missing from the GF180MCU model folder");
  auto [n, p] = detect_devices(dir / "sm141064.ngspice");
  return std::make_unique<Gf180>(dir, n, p);
}

}  // namespace bmru::pdk
