#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "core/units.hpp"
#include "experiments/calibration.hpp"
#include "experiments/characterize.hpp"
#include "options.hpp"
#include "pdk/registry.hpp"

namespace bmru::experiments {

namespace {

// The weights the generator realises, measured: each |w| sized through the calibration (long copies
// below the smallest width), its gain at 0.1 - 3 nA input against the target, and the worst error
// as a fraction of the realisable range's tolerance 2 % |w| + 0.002 (1 or less: within it).
void print_realised_weights(spice::Session& session, const pdk::Technology& tech,
                            const pdk::Conditions& k) {
  using models::Destination;
  const models::MirrorCalibration cal = calibrate_mirrors(session, tech, k);
  const models::MirrorSizes sizes;
  const std::vector<double> weights{0.01, 0.02, 0.05, 0.1, 0.3, 1.0, 2.0, 3.0, 4.0};
  const std::vector<double> inputs{0.1e-9, 0.3e-9, 1e-9, 3e-9};
  const auto name = [](pdk::Polarity pol, Destination dest) {
    return std::string(pol == pdk::Polarity::p ? "PMOS" : "NMOS") +
           (dest == Destination::nmos_diode ? " into an NMOS-closed node"
                                            : " into a PMOS-closed node");
  };
  double worst = 0;
  for (const pdk::Polarity pol : {pdk::Polarity::p, pdk::Polarity::n})
    for (const Destination dest : {Destination::nmos_diode, Destination::pmos_diode}) {
      std::vector<double> ratios;
      for (double w : weights) ratios.push_back(cal.width_for(w, pol, sizes, dest) / sizes.w_ref_m);
      const MirrorTable t = measure_mirrors(session, tech, k, pol, ratios, inputs, dest);
      std::printf("%s: weights as realised (gain at input current; error / (2 %% |w| + 0.002)):\n",
                  name(pol, dest).c_str());
      for (size_t a = 0; a < weights.size(); ++a) {
        const double w = weights[a];
        const auto g =
            models::copy_geometry(ratios[a] * sizes.w_ref_m, sizes, tech.limits(pol).w_min_m);
        double err = 0;
        std::printf("  |w| %5.2f (W %.3g um, L %.3g um)", w, g.w_m * 1e6, g.l_m * 1e6);
        for (double gain : t.gain[a]) {
          std::printf("  %8.5f", gain);
          err = std::max(err, std::abs(gain - w) / (0.02 * w + 0.002));
        }
        std::printf("  -> %.3g\n", err);
        worst = std::max(worst, err);
      }
    }
  // Bias currents: the narrow-reference bias mirror, its reference current from the calibration.
  const std::vector<double> biases{5e-12, 10e-12, 20e-12, 50e-12, 100e-12, 1e-9, 5e-9};
  models::MirrorSizes bias_sizes = sizes;
  bias_sizes.w_ref_m = sizes.bias_ref_w_m();
  double worst_bias = 0;
  for (const pdk::Polarity pol : {pdk::Polarity::p, pdk::Polarity::n})
    for (const Destination dest : {Destination::nmos_diode, Destination::pmos_diode}) {
      std::printf("%s bias mirror, realised / requested:", name(pol, dest).c_str());
      for (double b : biases) {
        const double ref = cal.bias_reference_for(b, pol, dest);
        const MirrorTable t =
            measure_mirrors(session, tech, k, pol, {sizes.bias_ratio}, {ref}, dest, bias_sizes);
        const double r = t.gain[0][0] * ref / b;
        std::printf("  %s %.4f", core::format_number(b).c_str(), r);
        worst_bias = std::max(worst_bias, std::abs(r - 1));
      }
      std::printf("\n");
    }
  std::printf("weight_error_over_tolerance=%.4g bias_error_max=%.4g\n", worst, worst_bias);
}

}  // namespace

void add_characterize_command(CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("characterize", "Characterize devices and circuits with ngspice");
  cmd->require_subcommand(1);
  auto o = std::make_shared<DeviceOptions>();
  auto type = std::make_shared<std::string>("n");
  CLI::App* dev = cmd->add_subcommand("device", "Drain current of one transistor: prints id=<A>");
  add_technology_options(dev, o->tech);
  dev->add_option("--type", *type, "n or p")->check(CLI::IsMember({"n", "p"}));
  add_quantity(dev, "--w", o->device.w_m, "Width (e.g. 1u)")->required();
  add_quantity(dev, "--l", o->device.l_m, "Length (e.g. 1u)")->required();
  add_quantity(dev, "--vds", o->vds_v, "|Vds| in V")->required();
  add_quantity(dev, "--vgs", o->vgs_v, "|Vgs| in V")->required();
  dev->callback([o, type] {
    o->device.type = *type == "n" ? pdk::Polarity::n : pdk::Polarity::p;
    std::printf("id=%s\n", core::format_number(run_characterize_device(*o)).c_str());
  });

  auto co = std::make_shared<CellOptions>();
  auto bias = std::make_shared<models::CellBias>();
  auto targets = std::make_shared<CellTargets>();
  CLI::App* cell = cmd->add_subcommand(
      "cell", "Up-down candidate sweep of one BMRU cell: switch points, on-level, off floor");
  add_technology_options(cell, co->tech);
  auto* ith = add_quantity(cell, "--ithresh", bias->ithresh_a, "Bias current of M2, I_thresh (A)");
  auto* iw = add_quantity(cell, "--iwidth", bias->iwidth_a, "Bias current of M8, I_width (A)");
  auto* ig = add_quantity(cell, "--igain", bias->igain_a, "Bias current of M5, I_gain (A)");
  auto* lo = add_quantity(cell, "--beta-lo", targets->beta_lo_a,
                          "Target switch-down point (A), calibrated");
  auto* hi =
      add_quantity(cell, "--beta-hi", targets->beta_hi_a, "Target switch-up point (A), calibrated");
  auto* al = add_quantity(cell, "--alpha", targets->alpha_a, "Target on-level (A), calibrated");
  cell->add_option("-o,--out", co->out, "Write the swept loop to this HDF5 file");
  for (auto* raw : {ith, iw, ig})
    for (auto* target : {lo, hi, al}) raw->excludes(target);
  ith->needs(iw, ig);
  hi->needs(lo, al);
  auto mo = std::make_shared<TechnologyOptions>();
  CLI::App* mirror = cmd->add_subcommand(
      "mirror", "Weight-mirror gain against output width ratio and input current, both polarities");
  add_technology_options(mirror, *mo);
  mirror->callback([mo] {
    const auto tech = pdk::open_technology(mo->pdk, mo->pdk_path);
    spice::Session session;
    const std::vector<double> ratios{0.1, 0.2, 0.5, 1.0, 2.0, 3.0};
    const std::vector<double> inputs{0.1e-9, 0.3e-9, 1e-9, 3e-9};
    for (const pdk::Polarity pol : {pdk::Polarity::p, pdk::Polarity::n}) {
      const MirrorTable t = measure_mirrors(session, *tech, mo->conditions, pol, ratios, inputs);
      std::printf("%s mirror (%s an NMOS ReLU node) gain / ratio at input current:\n",
                  pol == pdk::Polarity::p ? "PMOS" : "NMOS",
                  pol == pdk::Polarity::p ? "sourcing into" : "sinking from");
      std::printf("  ratio ");
      for (double i : inputs) std::printf("  %6.2f nA", i * 1e9);
      std::printf("\n");
      for (size_t a = 0; a < ratios.size(); ++a) {
        std::printf("  %5.2f ", ratios[a]);
        for (double g : t.gain[a]) std::printf("  %9.4f", g / ratios[a]);
        std::printf("\n");
      }
    }
    print_realised_weights(session, *tech, mo->conditions);
  });

  cell->callback([co, bias, targets, ith, hi] {
    if (*ith) co->bias = *bias;
    if (*hi) co->targets = *targets;
    const CellResult r = run_characterize_cell(*co);
    for (const auto& n : r.notes) std::printf("note: %s\n", n.c_str());
    if (co->targets)
      std::printf("calibration: %s\nbiases: I_thresh %.2f pA, I_width %.2f pA, I_gain %.2f pA\n",
                  r.calibration_from_cache
                      ? "from cache"
                      : ("built in " + std::to_string(r.calibration_s) + " s").c_str(),
                  r.bias.ithresh_a * 1e12, r.bias.iwidth_a * 1e12, r.bias.igain_a * 1e12);
    const CellMeasurement& m = r.measured;
    std::printf(
        "switch up   %8.2f pA\nswitch down %8.2f pA\non-level    %8.2f pA\noff floor   %8.3f pA\n",
        m.switch_up_a * 1e12, m.switch_down_a * 1e12, m.on_level_a * 1e12, m.off_floor_a * 1e12);
    using core::format_number;
    std::printf("switch_up=%s switch_down=%s on_level=%s off_floor=%s\n",
                format_number(m.switch_up_a).c_str(), format_number(m.switch_down_a).c_str(),
                format_number(m.on_level_a).c_str(), format_number(m.off_floor_a).c_str());
  });
}

}  // namespace bmru::experiments
