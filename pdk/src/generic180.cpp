// The built-in generic 180 nm technology (DESIGN.md section 7).
#include <regex>

#include "core/errors.hpp"
#include "core/physics.hpp"
#include "core/units.hpp"
#include "generic180_card.hpp"
#include "pdk/registry.hpp"

namespace bmru::pdk {
namespace {

using core::format_number;

// Corner spreads (documented choice): a fast device has |Vth| 75 mV lower and mobility 8 % higher;
// a slow one the opposite. The first letter is the NMOS, the second the PMOS.
constexpr double kCornerVth = 0.075;
constexpr double kCornerMobility = 0.08;

struct Shift {
  int n = 0, p = 0;  // -1 slow, 0 typical, +1 fast
};

Shift corner_shift(const std::string& corner) {
  if (corner == "tt") return {0, 0};
  if (corner == "ff") return {1, 1};
  if (corner == "ss") return {-1, -1};
  if (corner == "fs") return {1, -1};
  if (corner == "sf") return {-1, 1};
  throw InputError("Corner '" + corner + "' is not one of generic180's corners: tt ff ss fs sf");
}

// Replaces `key=value` inside the card of one model with f(value).
template <typename F>
std::string edit(const std::string& card, const std::string& model, const std::string& key, F f) {
  const auto start = card.find(".model " + model);
  const auto end = card.find(')', start);
  std::string body = card.substr(start, end - start);
  const std::regex re("(\\s)" + key + "=([-+0-9.eE]+)");
  std::smatch m;
  if (!std::regex_search(body, m, re)) throw Error("generic180 card: no " + key + " in " + model);
  body = m.prefix().str() + m[1].str() + key + "=" + format_number(f(std::stod(m[2].str()))) +
         m.suffix().str();
  return card.substr(0, start) + body + card.substr(end);
}

class Generic180 final : public Technology {
 public:
  std::string name() const override { return "generic180"; }
  std::string location() const override { return "built in"; }
  std::vector<std::string> corners() const override { return {"tt", "ff", "ss", "fs", "sf"}; }
  double nominal_vdd() const override { return 1.8; }
  // 1.8 V core devices of a 180 nm process: rated to 1.98 V (+10 %) with a little margin; below
  // 0.9 V a subthreshold cell stack of three devices no longer switches.
  double min_vdd() const override { return 0.9; }
  double max_vdd() const override { return 2.0; }
  std::vector<std::string> device_names() const override { return {"nch_g180", "pch_g180"}; }
  SizeLimits limits(Polarity) const override { return {0.22e-6, 1e-3, 0.18e-6, 100e-6}; }
  bool program_mismatch() const override { return true; }

  DeviceFacts facts(Polarity type) const override {
    // From the card: tox = 4.1 nm (Cox = 3.9 eps0 / tox) and its junction and overlap values.
    const double cox = core::physics::kSiO2RelativePermittivity *
                       core::physics::kVacuumPermittivity_F_per_m / 4.1e-9;
    return type == Polarity::n ? DeviceFacts{cox, 9.471097e-4, 1.905901e-10, 8.58e-10}
                               : DeviceFacts{cox, 1.214428e-3, 2.165642e-10, 7.82e-10};
  }

  std::string header(const Conditions& c) const override {
    const Shift s = corner_shift(c.corner);
    std::string card = kGeneric180Card;
    // |Vth| lower for a fast device: NMOS vth0 > 0 goes down, PMOS vth0 < 0 goes up.
    card = edit(card, "nch_g180", "vth0", [&](double v) { return v - s.n * kCornerVth; });
    card = edit(card, "pch_g180", "vth0", [&](double v) { return v + s.p * kCornerVth; });
    card = edit(card, "nch_g180", "u0", [&](double v) { return v * (1 + s.n * kCornerMobility); });
    card = edit(card, "pch_g180", "u0", [&](double v) { return v * (1 + s.p * kCornerMobility); });
    return "* technology generic180, corner " + c.corner + ", " + format_number(c.temperature_c) +
           " C, vdd " + format_number(c.vdd_v) + " V\n.temp " + format_number(c.temperature_c) +
           "\n.option gmin=" + format_number(gmin_s()) + "\n" + card;
  }

  std::string device_line(const std::string& name, const std::string& drain,
                          const std::string& gate, const std::string& source,
                          const std::string& bulk, const Device& d) const override {
    check_size(name, d);
    std::string line = "M" + name + " " + drain + " " + gate + " " + source + " " + bulk + " " +
                       (d.type == Polarity::n ? "nch_g180" : "pch_g180") +
                       " w=" + format_number(d.w_m) + " l=" + format_number(d.l_m);
    if (d.m != 1) line += " m=" + std::to_string(d.m);
    // delvto adds to vth0 (signed): raising |Vth| means + for NMOS and - for PMOS.
    if (d.mismatch.dvth_v != 0)
      line += " delvto=" +
              format_number(d.type == Polarity::n ? d.mismatch.dvth_v : -d.mismatch.dvth_v);
    if (d.mismatch.dbeta != 0) line += " mulu0=" + format_number(1 + d.mismatch.dbeta);
    return line;
  }
};

}  // namespace

std::unique_ptr<Technology> generic180() {
  return std::make_unique<Generic180>();
}

}  // namespace bmru::pdk
