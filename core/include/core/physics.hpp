#pragma once
// Physical constants, once (CODATA 2018 exact or recommended values, SI units).
namespace bmru::core::physics {

inline constexpr double kElementaryCharge_C = 1.602176634e-19;
inline constexpr double kBoltzmann_eV_per_K =
    8.617333262e-5;  // k_B / q: thermal voltage per kelvin
inline constexpr double kVacuumPermittivity_F_per_m = 8.8541878128e-12;
inline constexpr double kSiO2RelativePermittivity = 3.9;
inline constexpr double kZeroCelsius_K = 273.15;

// U_T = k T / q at `celsius`.
inline constexpr double thermal_voltage_v(double celsius) {
  return kBoltzmann_eV_per_K * (celsius + kZeroCelsius_K);
}

}  // namespace bmru::core::physics
