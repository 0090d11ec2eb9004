#include "pdk/registry.hpp"

#include <cstdlib>

#include "core/errors.hpp"

namespace bmru::pdk {
namespace {

const char* const kVariants[] = {"gf180mcuD", "gf180mcuC", "gf180mcuB", "gf180mcuA"};

std::filesystem::path models_of(const std::filesystem::path& pdk) {
  return pdk / "libs.tech" / "ngspice";
}

}  // namespace

std::filesystem::path find_gf180(const std::optional<std::filesystem::path>& explicit_path) {
  std::vector<std::string> looked;
  if (explicit_path) {
    auto p = *explicit_path;
    if (p.filename() == "sm141064.ngspice") p = p.parent_path();
    for (const auto& c : {p, models_of(p)})
      if (std::filesystem::exists(c / "sm141064.ngspice")) return c;
    throw InputError("No GF180MCU models at '" + explicit_path->string() +
                     "' (looked for sm141064.ngspice there and in libs.tech/ngspice below it)");
  }
  std::vector<std::filesystem::path> roots;
  if (const char* root = std::getenv("PDK_ROOT")) {
    roots.emplace_back(root);
  } else {
    const char* home = std::getenv("HOME");
    if (home) {
      roots.emplace_back(std::filesystem::path(home) / ".ciel");
      roots.emplace_back(std::filesystem::path(home) / ".volare");
    }
    roots.emplace_back("/foss/pdks");
  }
  std::vector<std::string> variants;
  if (const char* pdk = std::getenv("PDK")) variants.emplace_back(pdk);
  for (const char* v : kVariants) variants.emplace_back(v);
  for (const auto& root : roots)
    for (const auto& v : variants) {
      const auto dir = models_of(root / v);
      if (std::filesystem::exists(dir / "sm141064.ngspice")) return dir;
      looked.push_back((dir / "sm141064.ngspice").string());
    }
  std::string msg =
      "GF180MCU was not found. Set PDK_ROOT (and PDK) to an installed PDK, or pass "
      "its path. Looked for:";
  for (const auto& l : looked) msg += "\n  " + l;
  throw InputError(msg);
}

std::unique_ptr<Technology> open_technology(const std::string& name,
                                            const std::optional<std::filesystem::path>& path) {
  if (name == "generic180") return generic180();
  if (name == "gf180mcu" || name == "gf180") return gf180mcu(find_gf180(path));
  throw InputError("Unknown technology '" + name + "'; known: generic180, gf180mcu");
}

std::vector<Available> list_technologies() {
  std::vector<Available> out{{"generic180", "built in", true}};
  try {
    out.push_back({"gf180mcu", gf180mcu(find_gf180())->location(), true});
  } catch (const Error& e) {
    out.push_back({"gf180mcu", e.what(), false});
  }
  return out;
}

}  // namespace bmru::pdk
