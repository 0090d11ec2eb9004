#pragma once
// A technology: what a netlist needs to use transistors of one process, for a corner, temperature
// and supply. Knows nothing of BMRUs. Two implementations: the built-in generic180 and GF180MCU.
#include <memory>
#include <string>
#include <vector>

namespace bmru::pdk {

enum class Polarity { n, p };

// Where and how the circuit runs.
struct Conditions {
  std::string corner = "tt";
  double temperature_c = 27;
  double vdd_v = 1.8;
  bool mismatch = false;  // statistical mismatch switched on in the models (GF180MCU Monte Carlo)
  bool operator==(const Conditions&) const = default;
};

// A per-device mismatch draw: the threshold offset raises |Vth| by dvth_v; the current factor is
// multiplied by (1 + dbeta).
struct MismatchDraw {
  double dvth_v = 0;
  double dbeta = 0;
  bool operator==(const MismatchDraw&) const = default;
};

struct Device {
  Polarity type = Polarity::n;
  double w_m = 1e-6;
  double l_m = 1e-6;
  int m = 1;
  MismatchDraw mismatch;
};

// Facts the continuous-time model needs: capacitances per area or width.
struct DeviceFacts {
  double cox_f_per_m2 = 0;  // gate oxide capacitance per area
  double cj_f_per_m2 = 0;   // junction bottom capacitance per area (zero bias)
  double cjsw_f_per_m = 0;  // junction sidewall capacitance per perimeter
  double cgdo_f_per_m = 0;  // gate-drain overlap capacitance per width
};

struct SizeLimits {
  double w_min_m, w_max_m, l_min_m, l_max_m;
};

class Technology {
 public:
  virtual ~Technology() = default;
  virtual std::string name() const = 0;
  // Where it comes from ("built in", or the model file's path).
  virtual std::string location() const = 0;
  virtual std::vector<std::string> corners() const = 0;
  virtual double nominal_vdd() const = 0;
  // The supplies the devices are rated for, in volts: a run outside is refused (a 100 V "ran ok").
  virtual double min_vdd() const = 0;
  virtual double max_vdd() const = 0;
  // The gmin header() sets, in siemens (ngspice's default puts a ~1 pA floor under every node).
  double gmin_s() const { return 1e-15; }
  // The device (model or subcircuit) names, n then p.
  virtual std::vector<std::string> device_names() const = 0;
  virtual SizeLimits limits(Polarity type) const = 0;
  virtual DeviceFacts facts(Polarity type) const = 0;

  // Netlist lines that make the devices available for these conditions: model cards or library
  // includes with absolute paths, the temperature and `.option gmin=1e-15`. Throws InputError
  // naming the corner if it is unknown.
  virtual std::string header(const Conditions& c) const = 0;
  // One transistor: instance `name` (without prefix letter), nodes drain gate source bulk.
  // Throws InputError naming the instance if the size is outside the limits.
  virtual std::string device_line(const std::string& name, const std::string& drain,
                                  const std::string& gate, const std::string& source,
                                  const std::string& bulk, const Device& d) const = 0;
  // Whether device_line applies MismatchDraw (generic180) or the models draw mismatch themselves
  // (GF180MCU, seeded by ngspice's setseed).
  virtual bool program_mismatch() const = 0;

  // Throws InputError naming the instance and the limit when a size is outside limits().
  void check_size(const std::string& name, const Device& d) const;
};

}  // namespace bmru::pdk
