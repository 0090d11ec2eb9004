// A run's options as the sweep hands them to a child process: every field survives the trip.
#include <gtest/gtest.h>

#include "options_json.hpp"

namespace bmru::experiments {
namespace {

TEST(OptionsJson, EveryFieldOfARunSurvivesTheTrip) {
  FidelityOptions o;
  o.model = "net.h5";
  o.inputs = "clips.h5";
  o.random_sequences = 3;
  o.frames = 17;
  o.seed = 99;
  o.tech.pdk = "gf180mcu";
  o.tech.pdk_path = "/pdk/x";
  o.tech.conditions = {"ss", -40.5, 1.62, false};
  o.mismatch_seed = 12345678901234ULL;
  o.calibration_conditions = pdk::Conditions{"tt", 27, 1.8, false};
  o.mc_seed = 7;
  o.mc_sample = 4;
  o.unit_current_a = 1.0 / 3.0 * 1e-9;  // not a short decimal: must come back bit for bit
  o.axis = {1e-3, 1e-5, 0.85};
  o.mode = Mode::resync;
  o.hw = false;
  o.ct = true;
  o.ct_overrides = {{"facts.json", "{\"slope_v\": 0.04}"}};
  o.noise = core::parse_noise("rel:0.05");
  o.noise.dt_s = 2e-5;
  o.noise.corner_hz = 300;
  o.noise.seed = 17;
  o.noise_half = true;
  o.noise_all_lines = true;
  o.leak = 0.75;
  o.waveform_points = 0;
  o.tran_max_step_s = 2e-6;
  o.reltol = 1e-4;
  o.abstol = 1e-15;
  o.trtol = 3;
  o.user_netlist = "mine.cir";
  o.user_ports = "ports.json";
  o.jobs = 5;
  o.max_output_gb = 0.5;
  o.out = "out.h5";
  o.binary = "/usr/bin/bmru";
  o.command_line = "bmru sweep --mc 3";
  const nlohmann::json j = o;
  const FidelityOptions back = j.get<FidelityOptions>();
  EXPECT_EQ(nlohmann::json(back).dump(), j.dump());
  EXPECT_EQ(*back.unit_current_a, *o.unit_current_a);
  EXPECT_EQ(*back.mismatch_seed, *o.mismatch_seed);
  EXPECT_EQ(back.mode, Mode::resync);
  EXPECT_EQ(back.tech.conditions, o.tech.conditions);
  EXPECT_EQ(back.axis.ramp_s, o.axis.ramp_s);
  EXPECT_EQ(back.ct_overrides->second, o.ct_overrides->second);
  EXPECT_EQ(*back.user_ports, *o.user_ports);
  EXPECT_EQ(back.max_output_gb, 0.5);
  EXPECT_EQ(back.noise.describe(), "rel:0.05");  // a sweep's runs keep --noise
  EXPECT_EQ(back.noise.seed, 17u);
  EXPECT_EQ(back.noise.corner_hz, 300);
  EXPECT_TRUE(back.noise_half);
  EXPECT_TRUE(back.noise_all_lines);
  EXPECT_EQ(*back.leak, 0.75);
  // Absent optionals stay absent.
  const FidelityOptions plain = nlohmann::json(FidelityOptions{}).get<FidelityOptions>();
  EXPECT_FALSE(plain.model || plain.mismatch_seed || plain.calibration_conditions || plain.reltol);
  EXPECT_EQ(plain.mode, Mode::free);
}

}  // namespace
}  // namespace bmru::experiments
